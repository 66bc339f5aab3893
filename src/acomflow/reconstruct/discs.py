"""Discs drawn with exact area coverage (method.md §5).

Coordinates are (y, x) px with pixel centres at integers: pixel (r, c) covers
[r - 0.5, r + 0.5) x [c - 0.5, c + 0.5). A disc of radius R centred at (cy, cx) with value v
gives pixel (r, c) the value v * (area of the disc inside the pixel), computed analytically, so
the rendered intensity integrates to v * pi * R^2 and its centroid is the disc's centre up to
the pixel sampling of the first moment. Where discs overlap a pixel takes the largest value.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..kernels import pixel_coverage


@njit(cache=True, nogil=True)
def draw_discs(image, ys, xs, radii, values):
    """Draw discs centred at (ys, xs) px with `radii` px and `values` into `image` in place;
    each pixel keeps the largest of its value and value * coverage of every disc."""
    n_rows, n_cols = image.shape
    for k in range(ys.shape[0]):
        cy, cx, radius, value = ys[k], xs[k], radii[k], values[k]
        if not radius > 0.0:
            continue
        r0, r1 = (
            max(0, int(math.floor(cy - radius - 0.5))),
            min(n_rows - 1, int(math.ceil(cy + radius + 0.5))),
        )
        c0, c1 = (
            max(0, int(math.floor(cx - radius - 0.5))),
            min(n_cols - 1, int(math.ceil(cx + radius + 0.5))),
        )
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                v = value * pixel_coverage(r - cy, c - cx, radius)
                if v > image[r, c]:
                    image[r, c] = v


def render_discs(shape, ys, xs, radii, values, dtype=np.float32) -> np.ndarray:
    """A new zero frame of `shape` with the discs drawn (see `draw_discs`)."""
    image = np.zeros(shape, dtype)
    draw_discs(
        image,
        np.asarray(ys, float),
        np.asarray(xs, float),
        np.asarray(radii, float),
        np.asarray(values, float),
    )
    return image
