"""The canonical data store: one memory-mappable 4D `data.npy` and its JSON sidecar `data.json`.

`data.npy` holds (scan_y, scan_x, ky, kx) frames in the source's native dtype, native byte
order. A flat camera stream (not yet realigned) is stored as (1, n_frames, ky, kx) with
`"stream": true` in the sidecar. The sidecar records shapes, dtype, calibration, the source
files with their sha256, the data file's sha256, parameters and provenance.

A source .npy file already laid out as frames in native byte order is not copied: `data.npy`
is then a symbolic link to it (`link_store`), whose header may give the frames fewer or more
leading axes; the sidecar's shape is the store's, so read a store with `store_frames` (or
`open_store`), never through the file's own header.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from .logs import logger
from .provenance import atomic_path, sha256_file, write_json

DATA_NAME = "data.npy"
SIDECAR_NAME = "data.json"


class NpyFrames:
    """Read-only array-like over an .npy file's leading axis, read with plain file reads.

    Unlike a memmap, reading never maps the file, so resident memory stays bounded by the
    frames asked for whatever the file size. Slicing the first axis returns an ndarray. `shape`
    reads the file's C-ordered elements as another shape of the same size (a flat stack of
    frames as a 4D scan); with `flat`, the leading axes read as one axis of frames (row-major
    over the scan).
    """

    def __init__(self, path, flat: bool = False, shape=None):
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            self.shape, fortran, self.dtype = read_header(handle)
            self.offset = handle.tell()
        if fortran:
            raise ValueError(f"{self.path}: Fortran-ordered .npy files are not supported")
        if shape is not None:
            if math.prod(shape) != math.prod(self.shape):
                raise ValueError(
                    f"{self.path}: holds {self.shape}, which cannot be read as {shape}"
                )
            self.shape = tuple(int(n) for n in shape)
        if flat:
            self.shape = (math.prod(self.shape[:-2]), *self.shape[-2:])
        expected = self.offset + self.dtype.itemsize * math.prod(self.shape)
        if os.path.getsize(self.path) < expected:
            raise ValueError(
                f"{self.path}: truncated ({os.path.getsize(self.path)} of {expected} bytes)"
            )
        self.ndim = len(self.shape)
        self._row = self.dtype.itemsize * math.prod(self.shape[1:])

    def __getitem__(self, index: slice) -> np.ndarray:
        start, stop, step = index.indices(self.shape[0])
        if step != 1:
            raise IndexError("NpyFrames supports contiguous slices of the first axis only")
        count = max(stop - start, 0)
        block = np.fromfile(
            self.path,
            self.dtype,
            count * self._row // self.dtype.itemsize,
            offset=self.offset + start * self._row,
        )
        return block.reshape(count, *self.shape[1:])

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self[:], dtype=dtype)


class StoreWriter:
    """Writes a 4D dataset block by block into a temporary .npy file, then publishes it.

    Blocks are written with positioned file writes (no memory map), so resident memory stays
    bounded by one block. Use as a context manager: on success `data.npy` and `data.json`
    appear under their final names (data first, then the sidecar that vouches for it); on
    error neither is written and an earlier result is left untouched.
    """

    def __init__(self, directory, shape, dtype, sidecar: dict):
        self.directory = Path(directory)
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype).newbyteorder("=")
        self.sidecar = dict(sidecar)
        self._frame_shape = self.shape[2:]
        self._frame_bytes = self.dtype.itemsize * math.prod(self._frame_shape)
        self._atomic = atomic_path(self.directory / DATA_NAME)

    def __enter__(self) -> StoreWriter:
        self._tmp = self._atomic.__enter__()
        self._handle = open(self._tmp, "wb")
        header = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": self.shape,
        }
        np.lib.format.write_array_header_2_0(self._handle, header)
        self._offset = self._handle.tell()
        self._handle.truncate(self._offset + self._frame_bytes * math.prod(self.shape[:2]))
        return self

    def write(self, start: int, frames: np.ndarray) -> None:
        """Store `frames` (n, ky, kx) at flat frame index `start` (row-major over the scan)."""
        if frames.shape[1:] != self._frame_shape:
            raise ValueError(
                f"frame shape {frames.shape[1:]} differs from the store's {self._frame_shape}"
            )
        self._handle.seek(self._offset + start * self._frame_bytes)
        self._handle.write(np.ascontiguousarray(frames, dtype=self.dtype).tobytes())

    def __exit__(self, exc_type, exc, tb):
        self._handle.close()
        if exc_type is None:
            self.sidecar.update(
                scan_shape=list(self.shape[:2]),
                frame_shape=list(self._frame_shape),
                dtype=self.dtype.name,
                data={
                    "file": DATA_NAME,
                    "bytes": os.path.getsize(self._tmp),
                    "sha256": sha256_file(self._tmp),
                },
            )
        suppress = self._atomic.__exit__(exc_type, exc, tb)
        if exc_type is None:
            write_json(self.directory / SIDECAR_NAME, self.sidecar)
            logger.info("wrote %s %s %s", self.directory / DATA_NAME, self.shape, self.dtype.name)
        return suppress


def link_store(directory, source, shape, sidecar: dict, sha256: str | None = None) -> dict:
    """Publish the .npy file `source` as the store in `directory` without copying it: `data.npy`
    becomes a symbolic link to it (absolute path; created under a temporary name, then renamed
    over any earlier store) and the sidecar records the store's `shape` (scan_y, scan_x, ky,
    kx), the data's sha256 (`sha256`, where already known) and the linked file. Returns the
    sidecar written."""
    source = Path(source).resolve()
    frames = NpyFrames(source, shape=shape)
    if not frames.dtype.isnative:
        raise ValueError(f"{source}: {frames.dtype.str} is not in native byte order; copy it")
    link = Path(directory) / DATA_NAME
    link.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(link) as tmp:
        os.symlink(source, tmp)
    sidecar = {
        **sidecar,
        "scan_shape": list(frames.shape[:2]),
        "frame_shape": list(frames.shape[2:]),
        "dtype": frames.dtype.name,
        "data": {
            "file": DATA_NAME,
            "bytes": os.path.getsize(source),
            "sha256": sha256 or sha256_file(source),
            "linked_to": str(source),
        },
    }
    write_json(Path(directory) / SIDECAR_NAME, sidecar)
    logger.info("linked %s -> %s %s %s", link, source, frames.shape, frames.dtype.name)
    return sidecar


def store_frames(directory, flat: bool = False) -> NpyFrames:
    """The frames of the store in `directory`, shaped as its sidecar says (see `NpyFrames`)."""
    sidecar = read_sidecar(directory)
    shape = (*sidecar["scan_shape"], *sidecar["frame_shape"])
    return NpyFrames(Path(directory) / DATA_NAME, flat=flat, shape=shape)


def saturation_level(dtype) -> float:
    """Counts at which a detector of this dtype saturates (the dtype's maximum; inf for floats)."""
    dtype = np.dtype(dtype)
    return float(np.iinfo(dtype).max) if dtype.kind in "ui" else np.inf


def store_saturation(directory) -> float:
    """The saturation level (counts) of the store in `directory`, from its sidecar's dtype."""
    return saturation_level(read_sidecar(directory)["dtype"])


def read_sidecar(directory) -> dict:
    """The sidecar of a store directory, with a clear error if it is missing or malformed."""
    path = Path(directory) / SIDECAR_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path}: no sidecar; convert or simulate the dataset first"
        ) from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None


def open_store(directory) -> tuple[np.memmap, dict]:
    """Memory-map `data.npy` read-only (for interactive use) with its sidecar, checking they agree.

    Streaming code reads frames with `NpyFrames` instead, which keeps resident memory bounded.
    """
    sidecar = read_sidecar(directory)
    path = Path(directory) / DATA_NAME
    array = np.load(path, mmap_mode="r")
    expected = tuple(sidecar["scan_shape"]) + tuple(sidecar["frame_shape"])
    if array.size == math.prod(expected):
        array = array.reshape(expected)
    if array.shape != expected or array.dtype.name != sidecar["dtype"]:
        raise ValueError(
            f"{path}: shape {array.shape} {array.dtype} does not match its sidecar "
            f"({expected} {sidecar['dtype']})"
        )
    return array, sidecar
