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

from ..kernels import gaussian_blur_at

_BUCKET_BITS = 16  # of a value's order key: the histogram that finds its median's bucket


@njit(cache=True, nogil=True, inline="always")
def _order_key(bits):
    """An unsigned integer that orders as the float64 whose bits it is (IEEE: the negative
    values reversed, every positive above every negative)."""
    return ~bits if bits >> np.uint64(63) else bits | (np.uint64(1) << np.uint64(63))


@njit(cache=True, nogil=True)
def _middles(values):
    """The two middle values of a sorted copy of a non-empty 1D float64 array without NaN
    (the same one twice for an odd size): a histogram of the top `_BUCKET_BITS` of the values'
    order keys, then a sort of the one or two buckets that hold them (two passes over the data,
    several times faster than a partition)."""
    keys = values.view(np.uint64)
    shift = np.uint64(64 - _BUCKET_BITS)
    counts = np.zeros(1 << _BUCKET_BITS, dtype=np.int64)
    for i in range(keys.shape[0]):
        counts[_order_key(keys[i]) >> shift] += 1
    upper = keys.shape[0] // 2
    lower = upper if keys.shape[0] % 2 else upper - 1
    below, first = 0, 0
    while below + counts[first] <= lower:
        below += counts[first]
        first += 1
    last, through = first, below + counts[first]  # the buckets first..last hold both
    while through <= upper:
        last += 1
        through += counts[last]
    inside, n = np.empty(through - below), 0
    low, high = np.uint64(first), np.uint64(last)
    for i in range(keys.shape[0]):
        bucket = _order_key(keys[i]) >> shift
        if low <= bucket and bucket <= high:
            inside[n] = values[i]
            n += 1
    inside.sort()
    return inside[lower - below], inside[upper - below]


def _median(values: np.ndarray):
    """np.median of a non-empty 1D float array without NaN, in its dtype."""
    lower, upper = (
        values.dtype.type(v) for v in _middles(np.ascontiguousarray(values, np.float64))
    )
    return upper if values.size % 2 else (lower + upper) / 2


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
ROUNDING_VARIANCE = 1.0 / 12.0  # counts^2: variance of rounding to integer counts
MOST_ELECTRONS = 1e9  # per pixel, more than any detector holds: a gain that reads more is noise
# counts^2: the least variance of a whole-count pixel whose mean lies a fraction f of a count
# past a whole count is f (1 - f); averaged over f, 1/6
WHOLE_COUNT_VARIANCE = 1.0 / 6.0
TRANSFER_FROM = 2.0  # electrons per pixel: the least level `transfer_gain` reads the gain at
OUTLIER = 10.0  # x a sample's Poisson variance: a squared residual this large is structure
LEAST_TRANSFER = 500  # samples `transfer_gain` needs


@functools.lru_cache(maxsize=8)
def _dither(shape: tuple[int, int]) -> np.ndarray:
    """Uniform dither in [-0.5, 0.5) counts, the same for every frame of a shape (read-only)."""
    dither = np.random.default_rng(0).uniform(-0.5, 0.5, shape).astype(np.float32)
    dither.flags.writeable = False
    return dither


@njit(cache=True, nogil=True)
def is_quantised(frame):
    """Whether every pixel of a frame holds a whole number of counts, whatever its dtype."""
    for v in frame.ravel():
        if v != np.floor(v):
            return False
    return True


@njit(cache=True, nogil=True)
def _gain_samples(frame, saturation, step):
    """(mean of the 8 neighbours m, squared residual of the 3x3 mean x 9/8, the pixel variance
    it estimates) at every `step`-th row and column inside the frame's outer ring, skipping
    pixels with a saturated 3x3 neighbourhood or m <= 0."""
    rows, cols = frame.shape
    n = ((rows - 2 + step - 1) // step) * ((cols - 2 + step - 1) // step)
    means, variances = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.float32)
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
            means[k], variances[k] = m, residual * residual * (9.0 / 8.0)
            k += 1
    return means[:k], variances[:k]


def _dithered(raw, saturation: float, quantised: bool):
    """(float32 frame, saturation limit, variance offset counts^2) to read a gain on: a
    `quantised` frame dithered by `_dither`, its limit lowered by the dither's half count (a
    saturated pixel dithered down) and the dither's and rounding's variance as the offset."""
    frame = np.asarray(raw, dtype=np.float32)
    limit = np.float32(min(saturation, 3e38))
    if not quantised:
        return frame, limit, 0.0
    return frame + _dither(frame.shape), limit - np.float32(0.5), 2 * ROUNDING_VARIANCE


def pixel_samples(raw: np.ndarray, saturation: float = np.inf, masked=None):
    """(local mean m counts, pixel variance counts^2) samples of a frame: the 8 neighbours'
    mean and the squared residual of the 3x3 mean x 9/8 (`_gain_samples`) at every pixel whose
    3x3 neighbourhood is neither saturated nor `masked` (bool, the frame's shape). A quantised
    frame is dithered first, as in `poisson_gain`, and the dither's and rounding's variance
    taken off."""
    frame = np.asarray(raw, dtype=np.float32)
    frame, limit, offset = _dithered(frame, saturation, is_quantised(frame))
    if masked is not None:
        frame = np.where(masked, np.float32(np.inf), frame)  # skipped as a saturated pixel is
    means, variances = _gain_samples(frame, limit, 1)
    return means.astype(np.float64), variances.astype(np.float64) - offset


def transfer_gain(means, variances, start: float) -> float:
    """Counts per electron from a photon transfer: the ratio of the summed variances to the
    summed means of the samples (`pixel_samples`, off the spots) at `TRANSFER_FROM` electrons
    per pixel or more, each less than `OUTLIER` times its Poisson variance, with the levels
    in electrons read with the gain found, from `start` to a fixed point; `start` where fewer
    than `LEAST_TRANSFER` samples are that bright.

    Below a couple of electrons per pixel a camera's read noise, clipped at 0, makes a pixel
    vary less than Poisson's g m (on the synthetic data 0.4-0.7 g m at 0.1-0.5 electrons), and
    the medians of `poisson_gain` read 0.5-0.9 of the gain there; a ratio of sums has no
    median's bias on a few discrete counts, and off the spots no structure to inflate it.
    """
    gain = start
    for _ in range(30):
        bright = means >= TRANSFER_FROM * gain
        m, v = means[bright], variances[bright]
        noise = v < OUTLIER * gain * m
        if noise.sum() < LEAST_TRANSFER:
            return start
        previous, gain = gain, float(v[noise].sum() / m[noise].sum())
        if abs(gain - previous) <= 1e-3 * previous:
            break
    return gain


@njit(cache=True, nogil=True)
def _at_least(means, variances, middle):
    """The samples (float64) whose mean is at least `middle`; branch-free, as the test is a coin
    toss (a boolean mask is 10x slower)."""
    kept_means, kept_variances = np.empty(means.shape[0]), np.empty(means.shape[0])
    k = 0
    for i in range(means.shape[0]):
        kept_means[k], kept_variances[k] = means[i], variances[i]
        k += means[i] >= middle
    return kept_means[:k], kept_variances[:k]


def poisson_gain(
    raw: np.ndarray, saturation: float = np.inf, step: int = 2, quantised: bool = False
) -> float:
    """Counts per electron g of a counting detector, from the frame itself (0 if undecidable,
    as where it would put more than `MOST_ELECTRONS` in a pixel: a frame with no counting noise).

    The pixel variance is modelled as g m + q for a local mean of m counts, q the rounding
    variance of a `quantised` (integer-count) frame, 0 otherwise. g is found from the squared
    residuals of the 3x3 mean (scaled by 9/8 to the pixel variance) over the brighter half of
    the sampled pixels (every `step`-th row and column, no saturated pixel in their 3x3
    neighbourhood): the median of their ratio to m + q / g, divided by the chi-square median,
    iterated to a fixed point. A quantised frame is first dithered by a fixed uniform pattern
    (its variance joins q), without which the median of a few discrete values is meaningless at
    the ~1 count per pixel of a diffraction halo. The median keeps spot edges out; at the few
    electrons per pixel of a halo it reads low (0.45-0.9 of the true gain on the synthetic
    data, whatever the dtype), so the sigma it gives is an effective, not an absolute, scale.
    """
    frame, limit, offset = _dithered(raw, saturation, quantised)
    means, variances = _gain_samples(frame, limit, step)
    if means.size < 16:
        return 0.0
    middle = _median(means)
    means, variances = _at_least(means, variances, middle)
    gain = _median(variances / means) / _CHI2_1_MEDIAN
    for _ in range(50 if offset > 1e-4 * gain * middle else 0):  # else no ratio moves by 1e-4
        previous = gain
        gain = _median(variances / (means + offset / gain)) / _CHI2_1_MEDIAN if gain > 0 else 0.0
        if abs(gain - previous) <= 1e-4 * previous:
            break
    return float(gain) if gain * MOST_ELECTRONS >= middle else 0.0


def sigma_poisson(
    raw: np.ndarray, rows, cols, saturation: float = np.inf, quantised: bool = False
) -> np.ndarray:
    """Local noise sigma sqrt(g m) (float32) at the pixels (rows, cols) of a raw frame, g from
    `poisson_gain` and m the frame's Gaussian local mean over 4 px: wide enough to describe
    the level a spot stands on more than the spot itself (spots are 2-8 px in radius), narrow
    enough to follow amorphous rings, where sigma rises with the Poisson noise. For a
    `quantised` frame, at least sqrt(1/6) count (`WHOLE_COUNT_VARIANCE`), the least sigma of
    whole counts: where sparse single counts make the background, a chance cluster of them is
    no spot."""
    mean = gaussian_blur_at(raw, rows, cols, 4.0)
    variance = poisson_gain(raw, saturation, quantised=quantised) * np.maximum(mean, 0.0)
    return np.sqrt(np.maximum(variance, WHOLE_COUNT_VARIANCE if quantised else 0.0)).astype(
        np.float32
    )
