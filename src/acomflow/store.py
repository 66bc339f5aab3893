"""The canonical data store: one memory-mappable 4D `data.npy` and its JSON sidecar `data.json`.

`data.npy` holds (scan_y, scan_x, ky, kx) frames in the source's native dtype, native byte
order. A flat camera stream (not yet realigned) is stored as (1, n_frames, ky, kx) with
`"stream": true` in the sidecar. The sidecar records shapes, dtype, calibration, the source
files with their sha256, the data file's sha256, parameters and provenance.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .logs import logger
from .provenance import atomic_path, sha256_file, write_json

DATA_NAME = "data.npy"
SIDECAR_NAME = "data.json"


class StoreWriter:
    """Writes a 4D dataset frame block by frame block into a temporary memmap, then publishes it.

    Use as a context manager: on success `data.npy` and `data.json` appear under their final
    names (data first, then the sidecar that vouches for it); on error neither is written.
    """

    def __init__(self, directory, shape, dtype, sidecar: dict):
        self.directory = Path(directory)
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype).newbyteorder("=")
        self.sidecar = dict(sidecar)
        self._atomic = atomic_path(self.directory / DATA_NAME)

    def __enter__(self) -> "StoreWriter":
        self._tmp = self._atomic.__enter__()
        self.array = np.lib.format.open_memmap(self._tmp, mode="w+", dtype=self.dtype, shape=self.shape)
        self.frames = self.array.reshape(-1, *self.shape[2:])
        return self

    def write(self, start: int, frames: np.ndarray) -> None:
        """Store `frames` (n, ky, kx) at flat frame index `start` (row-major over the scan)."""
        if frames.shape[1:] != self.frames.shape[1:]:
            raise ValueError(f"frame shape {frames.shape[1:]} differs from the store's {self.frames.shape[1:]}")
        self.frames[start : start + len(frames)] = frames

    def __exit__(self, exc_type, exc, tb):
        self.array.flush()
        del self.frames, self.array
        if exc_type is None:
            self.sidecar.update(
                scan_shape=list(self.shape[:2]),
                frame_shape=list(self.shape[2:]),
                dtype=self.dtype.name,
                data={"file": DATA_NAME, "bytes": os.path.getsize(self._tmp), "sha256": sha256_file(self._tmp)},
            )
        suppress = self._atomic.__exit__(exc_type, exc, tb)
        if exc_type is None:
            write_json(self.directory / SIDECAR_NAME, self.sidecar)
            logger.info("wrote %s %s %s", self.directory / DATA_NAME, self.shape, self.dtype.name)
        return suppress


def read_sidecar(directory) -> dict:
    """The sidecar of a store directory, with a clear error if it is missing or malformed."""
    path = Path(directory) / SIDECAR_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no sidecar; convert or simulate the dataset first") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None


def open_store(directory) -> tuple[np.memmap, dict]:
    """Memory-map `data.npy` read-only and return it with its sidecar, checking they agree."""
    sidecar = read_sidecar(directory)
    path = Path(directory) / DATA_NAME
    array = np.load(path, mmap_mode="r")
    expected = tuple(sidecar["scan_shape"]) + tuple(sidecar["frame_shape"])
    if array.shape != expected or array.dtype.name != sidecar["dtype"]:
        raise ValueError(
            f"{path}: shape {array.shape} {array.dtype} does not match its sidecar "
            f"({expected} {sidecar['dtype']})"
        )
    return array, sidecar
