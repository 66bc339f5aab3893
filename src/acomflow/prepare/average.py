"""Neighbour averaging (method.md §2.4): each frame replaced by the mean over its size x size scan
neighbourhood (the neighbours that exist at the scan edges), after every frame has been shifted
once, by bilinear resampling, onto a common beam centre (the mean of the descan plane). Spots
found in an averaged frame sit at common-centre coordinates; `to_frame` moves them back to the
frame's own. Averaging N frames divides the noise by about sqrt(N).

Lines are read (and shifted) as needed and kept while the neighbourhood needs them: memory
holds `size` lines.
"""

from __future__ import annotations

import numpy as np

from ..kernels import shift_frame


def common_centre(centres: np.ndarray) -> np.ndarray:
    """The (y, x) px every frame is shifted onto: the mean of the (ny, nx, 2) beam centres."""
    return centres.reshape(-1, 2).mean(axis=0)


def averaged_lines(lines, start: int, stop: int, centres: np.ndarray, size: int):
    """Yield (y, averaged frames of scan line y) for y in [start, stop), in common-centre
    coordinates; `lines` is sliceable by scan line (e.g. `NpyFrames`), `centres` the (ny, nx, 2)
    beam centres (y, x) px."""
    ny, nx = centres.shape[:2]
    half = size // 2
    target = common_centre(centres)
    kept = {}
    for y in range(start, stop):
        for q in range(max(0, y - half), min(ny, y + half + 1)):
            if q not in kept:
                kept[q] = np.stack(
                    [
                        shift_frame(frame, *(target - centres[q, r]))
                        for r, frame in enumerate(lines[q : q + 1][0])
                    ]
                )
        for q in [q for q in kept if q < y - half]:
            del kept[q]
        rows = range(max(0, y - half), min(ny, y + half + 1))
        columns = np.zeros(kept[y].shape, dtype=np.float64)  # per scan x: the sum over the rows
        for q in rows:
            columns += kept[q]
        out = np.empty(kept[y].shape, dtype=np.float32)
        for x in range(nx):
            x0, x1 = max(0, x - half), min(nx, x + half + 1)
            out[x] = columns[x0:x1].sum(axis=0) / (len(rows) * (x1 - x0))
        yield y, out


def to_frame(values: np.ndarray, centres: np.ndarray, y: int, x: int, axis: int) -> np.ndarray:
    """Common-centre coordinates along `axis` (0: y, 1: x) back in frame (y, x)'s own px."""
    return values + (centres[y, x, axis] - common_centre(centres)[axis])
