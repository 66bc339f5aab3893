"""Discs drawn with exact area coverage (SPEC §4).

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


@njit(cache=True, nogil=True, inline="always")
def _segment(t, radius):
    """Area of the disc (centre 0) left of the vertical line x = t, halved: int_-R^t sqrt(R^2 - s^2) ds."""
    t = min(max(t, -radius), radius)
    return 0.5 * (t * math.sqrt(max(radius * radius - t * t, 0.0)) + radius * radius * math.asin(t / radius)) \
        + 0.25 * math.pi * radius * radius


@njit(cache=True, nogil=True, inline="always")
def _corner_area(x, y, radius):
    """Area of the disc (centre 0, radius R) inside the quadrant X <= x, Y <= y."""
    if y >= 0.0:  # complement of the part above y, which mirrors the part below -y
        return 2.0 * _segment(x, radius) - _corner_area_below(x, -y, radius)
    return _corner_area_below(x, y, radius)


@njit(cache=True, nogil=True, inline="always")
def _corner_area_below(x, y, radius):
    """`_corner_area` for y <= 0: int over |s| < w, s <= x of (y + sqrt(R^2 - s^2)), w = sqrt(R^2 - y^2)."""
    if y <= -radius:
        return 0.0
    w = math.sqrt(radius * radius - y * y)
    xc = min(max(x, -w), w)
    return y * (xc + w) + _segment(xc, radius) - _segment(-w, radius)


@njit(cache=True, nogil=True)
def pixel_coverage(dy, dx, radius):
    """Area of a disc of `radius` px centred at (0, 0) inside the unit pixel centred at (dy, dx)."""
    near = math.hypot(max(abs(dy) - 0.5, 0.0), max(abs(dx) - 0.5, 0.0))
    if near >= radius:
        return 0.0
    if math.hypot(abs(dy) + 0.5, abs(dx) + 0.5) <= radius:
        return 1.0
    y0, y1, x0, x1 = dy - 0.5, dy + 0.5, dx - 0.5, dx + 0.5
    area = (_corner_area(x1, y1, radius) - _corner_area(x0, y1, radius)
            - _corner_area(x1, y0, radius) + _corner_area(x0, y0, radius))
    return min(max(area, 0.0), 1.0)


@njit(cache=True, nogil=True)
def draw_discs(image, ys, xs, radii, values):
    """Draw discs centred at (ys, xs) px with `radii` px and `values` into `image` in place;
    each pixel keeps the largest of its value and value * coverage of every disc."""
    n_rows, n_cols = image.shape
    for k in range(ys.shape[0]):
        cy, cx, radius, value = ys[k], xs[k], radii[k], values[k]
        if not radius > 0.0:
            continue
        r0, r1 = max(0, int(math.floor(cy - radius - 0.5))), min(n_rows - 1, int(math.ceil(cy + radius + 0.5)))
        c0, c1 = max(0, int(math.floor(cx - radius - 0.5))), min(n_cols - 1, int(math.ceil(cx + radius + 0.5)))
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                v = value * pixel_coverage(r - cy, c - cx, radius)
                if v > image[r, c]:
                    image[r, c] = v


def render_discs(shape, ys, xs, radii, values, dtype=np.float32) -> np.ndarray:
    """A new zero frame of `shape` with the discs drawn (see `draw_discs`)."""
    image = np.zeros(shape, dtype)
    draw_discs(image, np.asarray(ys, float), np.asarray(xs, float), np.asarray(radii, float), np.asarray(values, float))
    return image
