"""Streaming writers of rendered or masked frames, one per output format, published atomically.

Every writer takes whole scan lines in order: `write(start, frames, scale, vbf)` with float32 frames
(n, size, size) in counts, the per-frame factor that maps counts to 8-bit grey levels, and a
virtual bright field value per frame. 8-bit outputs are clip(rint(frames * scale), 0, 255).
Formats:
  blo:  `{name}.blo`, NanoMegas ASTAR block file (uint8);
  bmp:  `bmp/{name}_{index}.bmp`, one 8-bit BMP per scan position, 0-based row-major index
        zero-padded to at least 4 digits (ImageJ's "Save As > Image Sequence" naming, which the
        ePattern macros use; sorted names give scan order);
  tiff: `{name}.tif`, one (ny, nx, size, size) stack (tifffile, BigTIFF);
  npy:  `data.npy` + `data.json`, the pipeline's own store, which every rule can read again.
The npy and tiff outputs hold `dtype` (uint8 grey levels, or float32 counts).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
from pathlib import Path

import numpy as np

from ..blockfile import BlockfileWriter
from ..calibration import Calibration
from ..provenance import atomic_path, temporary_sibling, to_builtin, write_json
from ..store import StoreWriter
from .names import FORMATS, output_paths


def to_uint8(frames: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """8-bit grey levels: clip(rint(frames * scale), 0, 255), `scale` one factor per frame."""
    return np.clip(np.rint(frames * np.asarray(scale, np.float32)[:, None, None]), 0, 255).astype(
        np.uint8
    )


class _BmpSequence:
    """BMP files written into a temporary folder that replaces `folder` on success, with the
    provenance beside them in `provenance.json`."""

    def __init__(self, folder: Path, name: str, n_frames: int, provenance: dict):
        self.folder, self.name, self.provenance = folder, name, provenance
        self.digits = max(4, len(str(max(n_frames - 1, 0))))
        self.tmp = temporary_sibling(folder)

    def __enter__(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        write_json(self.tmp / "provenance.json", self.provenance)
        return self

    def write(self, start: int, frames: np.ndarray) -> None:
        from PIL import Image

        for i, frame in enumerate(frames, start):
            Image.fromarray(frame, mode="L").save(
                self.tmp / f"{self.name}_{i:0{self.digits}d}.bmp", format="BMP"
            )

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            old = self.folder.with_name(f".{self.folder.name}.{os.getpid()}.old")
            if self.folder.exists():
                os.replace(self.folder, old)
            os.replace(self.tmp, self.folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False


class _TiffStack:
    """A (ny, nx, size, size) TIFF stack written line by line under a temporary name; its
    description holds the shape and the provenance (tifffile's JSON "shaped" metadata)."""

    def __init__(self, path: Path, shape, provenance: dict):
        self._atomic = atomic_path(path)
        self._metadata = {"shape": list(shape), "acomflow": to_builtin(provenance)}

    def __enter__(self):
        import tifffile

        self._tiff = tifffile.TiffWriter(self._atomic.__enter__(), bigtiff=True)
        return self

    def write(self, start: int, frames: np.ndarray) -> None:
        self._tiff.write(frames, contiguous=True, photometric="minisblack", metadata=self._metadata)

    def __exit__(self, exc_type, exc, tb):
        self._tiff.close()
        return self._atomic.__exit__(exc_type, exc, tb)


class FrameOutputs:
    """All requested outputs of one dataset's frames, opened together, published together.

    `sidecar` becomes the npy store's sidecar; `calibration` and `input_size` (the source
    frame size, px) give the .blo header its scan step, energy and pixel calibration.
    """

    def __init__(
        self,
        out_dir,
        name: str,
        formats,
        scan_shape,
        size: int,
        dtype: str = "uint8",
        calibration: Calibration = Calibration(),
        input_size: int | None = None,
        sidecar: dict | None = None,
    ):
        unknown = set(formats) - set(FORMATS)
        if unknown:
            raise ValueError(f"unknown output formats {sorted(unknown)}; supported: {FORMATS}")
        self.scan_shape, self.size, self.dtype = tuple(scan_shape), int(size), np.dtype(dtype)
        self.paths = output_paths(out_dir, name, formats)
        n_frames = math.prod(self.scan_shape)
        provenance = (sidecar or {}).get("provenance", {})
        source_format = (sidecar or {}).get("source", {}).get("format", "")
        note = f"acomflow {provenance.get('acomflow_version', '')} {source_format}"
        makers = {
            "blo": lambda path: BlockfileWriter(
                path, self.scan_shape, self.size, calibration, input_size, note
            ),
            "bmp": lambda path: _BmpSequence(path, name, n_frames, provenance),
            "tiff": lambda path: _TiffStack(
                path, (*self.scan_shape, self.size, self.size), provenance
            ),
            "npy": lambda path: StoreWriter(
                path.parent, (*self.scan_shape, self.size, self.size), self.dtype, sidecar or {}
            ),
        }
        self._writers = {fmt: makers[fmt](path) for fmt, path in self.paths.items()}
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> FrameOutputs:
        with contextlib.ExitStack() as stack:
            self._writers = {
                fmt: stack.enter_context(writer) for fmt, writer in self._writers.items()
            }
            self._stack = stack.pop_all()
        return self

    def write(self, start: int, frames: np.ndarray, scale: np.ndarray, vbf: np.ndarray) -> None:
        """Frames (n, size, size) float32 counts at flat scan index `start`; see the module
        docstring."""
        grey = to_uint8(frames, scale)
        stored = grey if self.dtype == np.uint8 else frames
        for fmt, writer in self._writers.items():
            if fmt == "blo":
                writer.write(start, grey, vbf)
            else:
                writer.write(start, grey if fmt == "bmp" else stored)

    def write_results(self, start: int, results: list[dict]) -> None:
        """`write` the per-frame results of a stage, each {"frame", "scale", "vbf"}, at flat scan
        index `start`."""
        self.write(
            start,
            np.stack([result["frame"] for result in results]),
            np.array([result["scale"] for result in results]),
            np.array([result["vbf"] for result in results]),
        )

    def __exit__(self, exc_type, exc, tb):
        return self._stack.__exit__(exc_type, exc, tb)
