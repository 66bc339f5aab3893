"""FrameSource: a lazily read dataset seen as a flat sequence of 2D frames plus its scan shape."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from ..calibration import Calibration


@dataclasses.dataclass
class FrameSource:
    """A dataset opened for streaming.

    `array` is any lazily sliceable array (numpy memmap, dask array, `FrameStack`) whose last
    two axes are the frame (ky, kx) and whose leading axes (0, 1 or 2 of them) are the
    navigation axes as stored in the file. `scan_shape` is the (ny, nx) the frames are
    arranged in, row-major; a flat stream has scan_shape (1, n_frames).
    """

    array: object
    scan_shape: tuple[int, int]
    files: list[Path]
    format: str
    calibration: Calibration = dataclasses.field(default_factory=Calibration)
    stream: bool = False

    @property
    def frame_shape(self) -> tuple[int, int]:
        return tuple(int(n) for n in self.array.shape[-2:])

    @property
    def nav_shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.array.shape[:-2])

    @property
    def n_frames(self) -> int:
        return math.prod(self.nav_shape)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (*self.scan_shape, *self.frame_shape)

    @property
    def dtype(self) -> np.dtype:
        """The stored dtype in native byte order (big-endian files are swapped on read)."""
        return np.dtype(self.array.dtype).newbyteorder("=")

    def read_frames(self, start: int, stop: int) -> np.ndarray:
        """Frames [start, stop) of the row-major flat sequence, as a native-endian ndarray.

        Only the slabs of the first stored axis that hold those frames are read.
        """
        nav = self.nav_shape
        try:
            if len(nav) == 0:
                block = _materialise(self.array)[None][start:stop]
            else:
                width = math.prod(nav[1:])
                first, last = start // width, -(-stop // width)
                slab = _materialise(self.array[first:last]).reshape(-1, *self.frame_shape)
                block = slab[start - first * width : stop - first * width]
        except Exception as error:  # a reader of a damaged file may raise anything
            raise ValueError(
                f"{self.files[0]}: cannot read frames {start}-{stop - 1} as {self.format}; "
                f"the file may be truncated or corrupt ({type(error).__name__}: {error})"
            ) from error
        return np.ascontiguousarray(block, dtype=self.dtype)


def _materialise(array) -> np.ndarray:
    """Compute a dask array on the calling thread (deterministic, no thread pool); pass numpy
    through."""
    if hasattr(array, "compute"):
        return array.compute(scheduler="synchronous")
    return np.asarray(array)


def resolve_scan_shape(path, nav_shape, scan_shape=None, stream=False) -> tuple[int, int]:
    """The scan shape to arrange `nav_shape` frames in, or a clear error naming the file.

    A stream is stored flat as (1, n). A file with a 2D navigation shape keeps it unless the
    config gives another shape with the same number of frames. A flat stack needs the config's
    scan_shape, except a single frame, which is a 1 x 1 scan.
    """
    n = math.prod(nav_shape)
    if stream:
        if scan_shape is None:
            raise ValueError(f"{path}: a stream dataset needs scan_shape [ny, nx] in the config")
        return (1, n)
    if scan_shape is not None:
        ny, nx = (int(v) for v in scan_shape)
        if ny * nx != n:
            raise ValueError(
                f"{path}: scan_shape {[ny, nx]} needs {ny * nx} frames but the file holds {n} "
                f"(navigation shape {list(nav_shape)}); for an unsynchronised camera set stream: "
                f"true"
            )
        return (ny, nx)
    if len(nav_shape) == 2:
        return tuple(nav_shape)
    if n == 1:
        return (1, 1)
    if len(nav_shape) > 2:
        raise ValueError(
            f"{path}: {len(nav_shape)} navigation axes {list(nav_shape)}; set scan_shape [ny, nx]"
        )
    raise ValueError(
        f"{path}: a flat stack of {n} frames; set scan_shape [ny, nx] (or stream: true) in the "
        f"config"
    )
