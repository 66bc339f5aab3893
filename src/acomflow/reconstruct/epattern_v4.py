"""The ePattern v4 macros' renderer, for users who must reproduce results made with them.

As the macros draw (method.md §5): on a canvas `factor` (4) times finer than the output, each spot
is a flat disc (canvas pixels whose centre lies within the radius) drawn at the canvas pixel
nearest its position, moved by the remaining sub-canvas-pixel offset with a bilinear
translation, and kept where it is brighter than what is there; the canvas is then reduced to the
output size by block means. Radii are output px (the macros: 4 for the direct beam, 2 for the
other spots).
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels import shift_frame


def render_epattern_v4(shape, ys, xs, radii, values, factor: int = 4) -> np.ndarray:
    """A float32 frame of `shape` (output px) with the spots at (ys, xs) output px drawn as
    above."""
    canvas = np.zeros((shape[0] * factor, shape[1] * factor), np.float32)
    for y, x, radius, value in zip(ys, xs, radii, values):
        cy, cx = (
            (y + 0.5) * factor - 0.5,
            (x + 0.5) * factor - 0.5,
        )  # canvas px, centres at integers
        iy, ix = int(round(cy)), int(round(cx))
        reach = int(math.ceil(radius * factor)) + 2
        rows = np.arange(iy - reach, iy + reach + 1)
        cols = np.arange(ix - reach, ix + reach + 1)
        disc = np.where(
            np.hypot(*np.meshgrid(rows - iy, cols - ix, indexing="ij")) <= radius * factor,
            np.float32(value),
            np.float32(0),
        )
        patch = shift_frame(disc, cy - iy, cx - ix)
        inside_r = (rows >= 0) & (rows < canvas.shape[0])
        inside_c = (cols >= 0) & (cols < canvas.shape[1])
        window = np.ix_(rows[inside_r], cols[inside_c])
        canvas[window] = np.maximum(canvas[window], patch[np.ix_(inside_r, inside_c)])
    return canvas.reshape(shape[0], factor, shape[1], factor).mean(axis=(1, 3))
