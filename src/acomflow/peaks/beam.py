"""The direct beam among a frame's candidate discs, one rule for centring, registration and masking.

The direct beam is the candidate of largest integrated intensity whose centre lies within the
search radius of the expected centre (the frame's geometric centre ((K-1)/2, (K-1)/2) unless a
stage knows better). Each stage brings its own candidates and their integrated counts:
registration its refined spots (counts in the refined disc), masking its maxima (counts in the
mask disc), centring every pixel of the frame blurred by a 2 px Gaussian (a Gaussian-weighted
integral around each pixel).
"""

from __future__ import annotations

import numpy as np


def search_radius(frame_shape, search: float) -> float:
    """The search radius in px: `search` (a fraction) x the frame's smaller side."""
    return search * min(frame_shape)


def direct_beam(ys, xs, integrated, centre, reach: float) -> int:
    """Index of the direct beam among candidates at (ys, xs) px with `integrated` counts: the
    largest within `reach` px of `centre` (y, x), the first of equals; -1 when none is that near."""
    ys, xs = np.asarray(ys, np.float64), np.asarray(xs, np.float64)
    near = np.flatnonzero(np.hypot(ys - centre[0], xs - centre[1]) <= reach)
    if near.size == 0:
        return -1
    return int(near[np.argmax(np.asarray(integrated)[near])])
