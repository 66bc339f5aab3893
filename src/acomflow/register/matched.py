"""A matched-filter detection image: each pixel's significance as the centre of a spot.

z = (mean over the disc of `radius` px - mean over the annulus radius + 2 .. radius + 5 px)
    / sqrt((g m + v) (1/n_disc + 1/n_annulus))
with m the annulus mean (the local background, counts), g the frame's counts per electron
(`noise.poisson_gain`), v a variance of every pixel whatever its level (the rounding to whole
counts; or, where the gain cannot be read off the frame, the whole pixel variance) and
n the pixels of each region (pixel centres within the radii; the frame's edge pixels repeated
beyond it). Under the background alone z is about standard normal whatever its level, so one
threshold in sigmas holds across the halo, the rings and the dose range; the annulus follows
the background at the spot, also on the direct beam's flank, where a blurred image has a
shoulder and no maximum. Coordinates: rows, cols px.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy import ndimage

ANNULUS = (2.0, 5.0)  # px beyond the disc: the background ring


@njit(cache=True, nogil=True)
def _half_widths(radius):
    """Half-width (px) of each row dy = -R..R of the pixels whose centres lie within radius."""
    reach = int(math.floor(radius))
    widths = np.empty(2 * reach + 1, dtype=np.int64)
    for k in range(2 * reach + 1):
        dy = k - reach
        widths[k] = int(math.floor(math.sqrt(max(radius * radius - dy * dy, 0.0))))
    return widths


def _padded_prefix(image: np.ndarray, pad: int) -> np.ndarray:
    """Row prefix sums (float64, a leading 0 column) of `image` padded by `pad` px of its
    edge pixels repeated."""
    padded = np.pad(np.asarray(image, np.float64), pad, mode="edge")
    prefix = np.zeros((padded.shape[0], padded.shape[1] + 1))
    np.cumsum(padded, axis=1, out=prefix[:, 1:])
    return prefix


@njit(cache=True, nogil=True)
def _disc_sums(prefix, pad, radius, rows, cols):
    """Disc sums of a `rows` x `cols` image from its `_padded_prefix` (pad >= radius): one
    span per disc row."""
    widths = _half_widths(radius)
    reach = widths.shape[0] // 2
    out = np.zeros((rows, cols))
    for r in range(rows):
        for k in range(widths.shape[0]):
            source = prefix[r + pad + k - reach]
            w = widths[k]
            for c in range(cols):
                out[r, c] += source[c + pad + w + 1] - source[c + pad - w]
    return out


def disc_sums(image: np.ndarray, radius: float) -> np.ndarray:
    """The sum over the disc of `radius` px about every pixel (float64), edge pixels repeated
    beyond the frame."""
    pad = int(math.floor(radius))
    return _disc_sums(_padded_prefix(image, pad), pad, radius, *np.shape(image))


def disc_count(radius: float) -> int:
    """The pixels of a disc of `radius` px (centres within it)."""
    return int((2 * _half_widths(radius) + 1).sum())


def significance(frame: np.ndarray, radius: float, gain: float, variance_floor: float):
    """The matched-filter significance z (float32, see the module: g = `gain`, v =
    `variance_floor`) of every pixel of a frame."""
    inner, outer = radius + ANNULUS[0], radius + ANNULUS[1]
    pad = int(math.floor(outer))
    prefix = _padded_prefix(frame, pad)  # once for the three discs
    shape = np.shape(frame)
    disc = _disc_sums(prefix, pad, radius, *shape)
    annulus = _disc_sums(prefix, pad, outer, *shape) - _disc_sums(prefix, pad, inner, *shape)
    n_disc, n_annulus = disc_count(radius), disc_count(outer) - disc_count(inner)
    background = annulus / n_annulus
    variance = (gain * np.maximum(background, 0.0) + variance_floor) * (
        1.0 / n_disc + 1.0 / n_annulus
    )
    signal = disc / n_disc - background
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, signal / np.sqrt(variance), 0.0)
    return z.astype(np.float32)


def significant_maxima(z: np.ndarray, threshold: float, separation: int = 2):
    """Rows, cols and z of the local maxima of z (over the square of +-`separation` px; of a
    connected flat top, its first pixel in row-major order) above `threshold`, most
    significant first."""
    size = 2 * separation + 1
    peaks = (z >= ndimage.maximum_filter(z, size=size, mode="nearest")) & (z > threshold)
    plateau, _ = ndimage.label(peaks, structure=np.ones((3, 3)))
    rows, cols = np.nonzero(peaks)
    _, first = np.unique(plateau[rows, cols], return_index=True)
    rows, cols = rows[first], cols[first]
    values = z[rows, cols]
    order = np.argsort(-values, kind="stable")
    return rows[order], cols[order], values[order]


def local_centroids(signal: np.ndarray, rows, cols, radius: float):
    """Sub-pixel centres (ys, xs) of candidates: the centroid of the positive `signal` (a
    background-subtracted frame) over the pixels within `radius` px of each maximum (rows,
    cols), the maximum itself where the disc holds no positive signal."""
    reach = int(math.ceil(radius))
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    inside = np.hypot(dy, dx) <= radius
    padded = np.pad(np.maximum(np.asarray(signal, np.float64), 0.0), reach)
    ys, xs = np.asarray(rows, np.float64).copy(), np.asarray(cols, np.float64).copy()
    for k, (r, c) in enumerate(zip(rows, cols, strict=True)):
        weights = padded[r : r + 2 * reach + 1, c : c + 2 * reach + 1] * inside
        total = weights.sum()
        if total > 0:
            ys[k] += (weights * dy).sum() / total
            xs[k] += (weights * dx).sum() / total
    return ys, xs


def noise_scale(z: np.ndarray, rows, cols, reach: float) -> float:
    """The spread of z where no candidate lies within `reach` px (steps along rows and
    columns): 1.4826 x its median absolute deviation (1 where too little of the frame is left
    to tell). Under the model's noise it is 1; noise correlated between pixels, which the gain
    read off 3 x 3 residuals cannot see, makes it larger."""
    near = np.zeros(z.shape, bool)
    near[rows, cols] = True
    near = ndimage.binary_dilation(near, iterations=int(math.ceil(reach)))
    quiet = z[~near]
    if quiet.size < 0.2 * z.size:
        return 1.0
    return float(1.4826 * np.median(np.abs(quiet - np.median(quiet))))
