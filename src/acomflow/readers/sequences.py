"""Lazy stacks of single-frame files: image sequences (BMP/PNG/TIFF) and Gatan In-Situ dm4 trees."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = {".bmp", ".png", ".tif", ".tiff"}
DM_SUFFIXES = {".dm3", ".dm4"}


def natural_key(path: Path) -> list:
    """Sort key that orders 'frame_2' before 'frame_10', component by component."""
    return [
        int(tok) if tok.isdigit() else tok.lower()
        for part in path.parts
        for tok in re.split(r"(\d+)", part)
    ]


def list_frames(directory: Path, suffixes: set[str]) -> list[Path]:
    """Files under `directory` (recursively) with one of `suffixes`, in natural order."""
    files = [p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in suffixes]
    return sorted(files, key=lambda p: natural_key(p.relative_to(directory)))


def load_image(path: Path) -> np.ndarray:
    """One 2D image file as an array (greyscale; RGB images are rejected)."""
    if path.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        image = tifffile.imread(path)
    else:
        from PIL import Image

        with Image.open(path) as handle:
            image = np.asarray(handle)
    if image.ndim != 2:
        raise ValueError(f"{path}: expected a 2D greyscale frame, got shape {image.shape}")
    return image


def load_dm_frame(path: Path) -> np.ndarray:
    """One 2D DigitalMicrograph frame as an array."""
    from rsciio.digitalmicrograph import file_reader

    image = np.asarray(file_reader(str(path))[0]["data"])
    if image.ndim != 2:
        raise ValueError(f"{path}: expected a 2D frame in a frame tree, got shape {image.shape}")
    return image


class FrameStack:
    """A (n, ky, kx) array-like over a list of single-frame files; slicing loads only those
    files."""

    def __init__(self, files: list[Path], load):
        if not files:
            raise ValueError("no frame files found")
        self.files, self._load = files, load
        first = load(files[0])
        self.shape = (len(files), *first.shape)
        self.dtype = first.dtype

    def __getitem__(self, index: slice) -> np.ndarray:
        frames = [self._load(path) for path in self.files[index]]
        for path, frame in zip(self.files[index], frames):
            if frame.shape != self.shape[1:] or frame.dtype != self.dtype:
                raise ValueError(
                    f"{path}: frame {frame.shape} {frame.dtype} differs from the first frame "
                    f"{self.shape[1:]} {self.dtype} ({self.files[0]})"
                )
        return np.stack(frames) if frames else np.empty((0, *self.shape[1:]), self.dtype)
