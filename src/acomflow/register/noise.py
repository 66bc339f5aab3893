"""Noise level of a frame, which sets the adaptive prominence threshold k * sigma.

"corners" (the paper and the macros): one sigma per frame, the standard deviation of the raw
frame at high angle. "annulus": a robust variant on the background-subtracted frame.
"poisson" (default): a local sigma(x) from the frame's own Poisson statistics, never below the
corners sigma, so that maxima on bright amorphous rings need a larger prominence.
Geometry: the frame centre is ((K-1)/2, (K-1)/2) px; radii are in px from it.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from .blur import gaussian_blur_at

NOISE_METHODS = ("poisson", "corners", "annulus")


def _median(values: np.ndarray):
    """np.median of a non-empty 1D array without NaN, from one partition (several times faster)."""
    half = values.size // 2
    part = np.partition(values, half)
    if values.size % 2:
        return part[half]
    return (part[:half].max() + part[half]) / 2


@functools.lru_cache(maxsize=8)
def radii(shape: tuple[int, int]) -> np.ndarray:
    """Distance (px) of every pixel centre from the geometric frame centre (cached, read-only)."""
    yy = np.arange(shape[0]) - (shape[0] - 1) / 2.0
    xx = np.arange(shape[1]) - (shape[1] - 1) / 2.0
    distance = np.hypot(yy[:, None], xx[None, :])
    distance.flags.writeable = False
    return distance


@functools.lru_cache(maxsize=8)
def _corner_mask(shape: tuple[int, int]) -> np.ndarray:
    mask = radii(shape) > min(shape) / 2.0
    mask.flags.writeable = False
    return mask


def sigma_corners(raw: np.ndarray) -> float:
    """Sample standard deviation of the raw frame outside its inscribed circle (the four
    corners), as the ePattern macros measure it (paper Fig. 3)."""
    corners = raw[_corner_mask(raw.shape)]
    return float(np.std(corners, ddof=1)) if corners.size > 1 else 0.0


def sigma_annulus(subtracted: np.ndarray, inner: float, outer: float) -> float:
    """Robust sigma: 1.4826 x the median absolute deviation of the background-subtracted frame
    in the annulus inner..outer, given as fractions of the half frame size."""
    rho = radii(subtracted.shape) / (min(subtracted.shape) / 2.0)
    values = subtracted[(rho >= inner) & (rho <= outer)]
    if values.size == 0:
        return 0.0
    return float(1.4826 * _median(np.abs(values - _median(values))))


_CHI2_1_MEDIAN = 0.454936  # median of a chi-square variable with one degree of freedom


@njit(cache=True, nogil=True)
def _gain_samples(frame, saturation, step):
    """(mean of the 8 neighbours m, squared residual of the 3x3 mean x 9/8 over m) at every
    `step`-th row and column inside the frame's outer ring, skipping pixels with a saturated
    3x3 neighbourhood or m <= 0."""
    rows, cols = frame.shape
    n = ((rows - 2 + step - 1) // step) * ((cols - 2 + step - 1) // step)
    means, ratios = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.float32)
    column_sum, column_max = np.empty(cols), np.empty(cols)  # over rows r - 1 .. r + 1
    k = 0
    for r in range(1, rows - 1, step):
        for c in range(cols):
            a, b, d = frame[r - 1, c], frame[r, c], frame[r + 1, c]
            column_sum[c] = (np.float64(a) + b) + d
            column_max[c] = max(a, b, d)
        for c in range(1, cols - 1, step):
            total = (column_sum[c - 1] + column_sum[c]) + column_sum[c + 1]
            top = max(column_max[c - 1], column_max[c], column_max[c + 1])
            m = (total - frame[r, c]) / 8.0
            if top >= saturation or m <= 0:
                continue
            residual = frame[r, c] - total / 9.0
            means[k], ratios[k] = m, residual * residual * (9.0 / 8.0) / m
            k += 1
    return means[:k], ratios[:k]


def poisson_gain(raw: np.ndarray, saturation: float = np.inf, step: int = 2) -> float:
    """Counts per electron g of a counting detector, from the frame itself (0 if undecidable).

    g is the median, over the brighter half of the sampled pixels (every `step`-th row and
    column, no saturated pixel in their 3x3 neighbourhood), of the squared residual of the 3x3
    mean (scaled by 9/8 to the pixel variance) over the mean of the 8 neighbours, divided by the
    chi-square median. The median keeps spot edges out; at the few electrons per pixel of a
    diffraction halo it reads low (0.45-0.6 of the true gain on the synthetic data), so the
    sigma it gives is an effective, not an absolute, noise scale.
    """
    frame = np.asarray(raw, dtype=np.float32)
    means, ratios = _gain_samples(frame, np.float32(min(saturation, 3e38)), step)
    if means.size < 16:
        return 0.0
    bright = means >= _median(means)
    return float(_median(ratios[bright]) / _CHI2_1_MEDIAN)


def sigma_poisson(raw: np.ndarray, rows, cols, saturation: float = np.inf) -> np.ndarray:
    """Local noise sigma sqrt(g * m) (float32) at the pixels (rows, cols) of a raw frame, m its
    Gaussian (2 px) local mean and g from `poisson_gain`. It rises where the signal, and with it
    the Poisson noise, is high: on amorphous rings."""
    mean = gaussian_blur_at(raw, rows, cols, 2.0)
    return np.sqrt(poisson_gain(raw, saturation) * np.maximum(mean, 0.0)).astype(np.float32)
