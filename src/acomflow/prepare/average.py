"""Neighbour averaging (SPEC §1.4): each frame replaced by the mean over its size x size scan
neighbourhood (the neighbours that exist at the scan edges), every neighbour first shifted onto
the frame's own beam centre by one bilinear resampling (the frame itself is not resampled, so
coordinates stay those of the raw frame). Averaging N frames divides the noise by about sqrt(N).

Lines are read as needed and kept while the neighbourhood needs them: memory holds `size` lines.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def shift_frame(frame: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """The frame moved by (dy, dx) px (float32, bilinear, edge pixels repeated)."""
    frame = np.asarray(frame, dtype=np.float32)
    if dy == 0 and dx == 0:
        return frame
    return ndimage.shift(frame, (dy, dx), order=1, mode="nearest", prefilter=False)


def averaged_lines(lines, start: int, stop: int, centres: np.ndarray, size: int):
    """Yield (y, averaged frames of scan line y) for y in [start, stop); `lines` is sliceable by
    scan line (e.g. `NpyFrames`), `centres` the (ny, nx, 2) beam centres (y, x) px."""
    ny, nx = centres.shape[:2]
    half = size // 2
    kept = {}
    for y in range(start, stop):
        for q in range(max(0, y - half), min(ny, y + half + 1)):
            if q not in kept:
                kept[q] = lines[q : q + 1][0]
        for q in [q for q in kept if q < y - half]:
            del kept[q]
        out = np.empty((nx, *kept[y].shape[1:]), dtype=np.float32)
        for x in range(nx):
            total = np.zeros(out.shape[1:], dtype=np.float64)
            count = 0
            for q in range(max(0, y - half), min(ny, y + half + 1)):
                for r in range(max(0, x - half), min(nx, x + half + 1)):
                    dy, dx = centres[y, x] - centres[q, r]
                    total += shift_frame(kept[q][r], dy, dx)
                    count += 1
            out[x] = total / count
        yield y, out
