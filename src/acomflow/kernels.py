"""Array kernels every stage may use: Gaussian blur, 3x3 mean, bilinear shift, pixel coverage,
box means.

Images are 2D float32 (ky, kx) frames; pixel centres sit at integer coordinates, so pixel (r, c)
covers [r - 0.5, r + 0.5) x [c - 0.5, c + 0.5). Edges repeat their pixels.

- `gaussian_blur`: scipy.ndimage.gaussian_filter's result (mode "nearest", kernel truncated at
  4 sigma) in a separable float32 kernel, several times faster at 512 x 512.
- `mean3x3`: ImageJ's 3x3 mean.
- `shift_frame`: scipy.ndimage.shift(order=1, mode="nearest"), separable.
- `pixel_coverage`: the exact area of a disc inside a unit pixel.
- `box_means`: the means of every square inside the image (scipy.ndimage.uniform_filter's, less
  the edges), in one pass.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Normalised 1D Gaussian weights of standard deviation `sigma` px, radius
    int(truncate*sigma+0.5)."""
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (x / sigma) ** 2)
    return (weights / weights.sum()).astype(np.float32)


@njit(cache=True, nogil=True)
def _separable(image, kernel):
    rows, cols = image.shape
    radius = kernel.shape[0] // 2
    line = np.empty(cols + 2 * radius, dtype=np.float32)
    across = np.empty_like(image)
    for r in range(rows):
        line[:radius] = image[r, 0]
        line[radius : radius + cols] = image[r]
        line[radius + cols :] = image[r, cols - 1]
        target = across[r]
        target[:] = 0.0
        for k in range(kernel.shape[0]):
            w = kernel[k]
            for c in range(cols):
                target[c] += w * line[c + k]
    out = np.zeros_like(image)
    for r in range(rows):
        target = out[r]
        for k in range(kernel.shape[0]):
            w = kernel[k]
            source = across[min(max(r + k - radius, 0), rows - 1)]
            for c in range(cols):
                target[c] += w * source[c]
    return out


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (float32) of a 2D image, standard deviation `sigma` px, edge pixels
    repeated."""
    image = np.ascontiguousarray(image, dtype=np.float32)
    if sigma <= 0:
        return image.copy()
    return _separable(image, gaussian_kernel(sigma))


@njit(cache=True, nogil=True)
def _at_points(image, rows, cols, kernel):
    rows_max, cols_max = image.shape[0] - 1, image.shape[1] - 1
    radius = kernel.shape[0] // 2
    out = np.empty(rows.shape[0], dtype=np.float32)
    for k in range(rows.shape[0]):
        total = 0.0
        for i in range(kernel.shape[0]):
            r = min(max(rows[k] + i - radius, 0), rows_max)
            line = 0.0
            for j in range(kernel.shape[0]):
                line += kernel[j] * image[r, min(max(cols[k] + j - radius, 0), cols_max)]
            total += kernel[i] * line
        out[k] = total
    return out


def gaussian_blur_at(image: np.ndarray, rows, cols, sigma: float) -> np.ndarray:
    """`gaussian_blur(image, sigma)[rows, cols]` (float32) without blurring the whole image."""
    image = np.ascontiguousarray(image, dtype=np.float32)
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    if sigma <= 0:
        return image[rows, cols].copy()
    return _at_points(image, rows, cols, gaussian_kernel(sigma))


@njit(cache=True, nogil=True)
def mean3x3(image):
    """ImageJ's 3x3 mean (separable, edge pixels repeated), in float32."""
    rows, cols = image.shape
    across = np.empty_like(image)
    third = np.float32(0.33333333)
    for r in range(rows):  # the edge columns apart, so that the inner loop vectorises
        line, target = image[r], across[r]
        target[0] = (line[0] + line[0] + line[min(1, cols - 1)]) * third
        for c in range(1, cols - 1):
            target[c] = (line[c - 1] + line[c] + line[c + 1]) * third
        if cols > 1:
            target[cols - 1] = (line[cols - 2] + line[cols - 1] + line[cols - 1]) * third
    out = np.empty_like(image)
    for r in range(rows):
        above, middle, below = across[max(r - 1, 0)], across[r], across[min(r + 1, rows - 1)]
        target = out[r]
        for c in range(cols):
            target[c] = (above[c] + middle[c] + below[c]) * third
    return out


def _linear(frame: np.ndarray, shift: float, axis: int) -> np.ndarray:
    """Linear interpolation of `frame` moved by `shift` px along `axis`, edge pixels repeated."""
    n = frame.shape[axis]
    whole = int(np.floor(shift))
    part = np.float32(shift - whole)
    index = np.arange(n) - whole
    before = frame.take(np.clip(index - 1, 0, n - 1), axis=axis)
    at = frame.take(np.clip(index, 0, n - 1), axis=axis)
    return part * before + (np.float32(1) - part) * at


def shift_frame(frame: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """The frame moved by (dy, dx) px (float32, bilinear, edge pixels repeated): the result of
    `scipy.ndimage.shift(order=1, mode="nearest")`, separable and several times faster."""
    frame = np.asarray(frame, dtype=np.float32)
    if dy == 0 and dx == 0:
        return frame
    return _linear(_linear(frame, dy, 0), dx, 1)


@njit(cache=True, nogil=True, inline="always")
def _segment(t, radius):
    """Area of the disc (centre 0) left of the vertical line x = t, halved: int_-R^t sqrt(R^2 - s^2)
    ds."""
    t = min(max(t, -radius), radius)
    return (
        0.5
        * (
            t * math.sqrt(max(radius * radius - t * t, 0.0))
            + radius * radius * math.asin(t / radius)
        )
        + 0.25 * math.pi * radius * radius
    )


@njit(cache=True, nogil=True, inline="always")
def _corner_area(x, y, radius):
    """Area of the disc (centre 0, radius R) inside the quadrant X <= x, Y <= y."""
    if y >= 0.0:  # complement of the part above y, which mirrors the part below -y
        return 2.0 * _segment(x, radius) - _corner_area_below(x, -y, radius)
    return _corner_area_below(x, y, radius)


@njit(cache=True, nogil=True, inline="always")
def _corner_area_below(x, y, radius):
    """`_corner_area` for y <= 0: int over |s| < w, s <= x of (y + sqrt(R^2 - s^2)), w = sqrt(R^2 -
    y^2)."""
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
    area = (
        _corner_area(x1, y1, radius)
        - _corner_area(x0, y1, radius)
        - _corner_area(x1, y0, radius)
        + _corner_area(x0, y0, radius)
    )
    return min(max(area, 0.0), 1.0)


@njit(cache=True, nogil=True)
def box_means(image, box):
    """Mean (float64) of every `box` x `box` square inside a 2D image, (rows - box + 1,
    cols - box + 1): output (r, c) is the square whose first pixel is (r, c). Running float64
    sums, exact for whole counts."""
    rows, cols = image.shape
    out_rows, out_cols = rows - box + 1, cols - box + 1
    sums = np.zeros(cols)  # of the current `box` rows, per column
    for r in range(box):
        for c in range(cols):
            sums[c] += image[r, c]
    means = np.empty((out_rows, out_cols))
    scale = 1.0 / (box * box)
    for r in range(out_rows):
        if r:
            for c in range(cols):
                sums[c] += float(image[r + box - 1, c]) - float(image[r - 1, c])
        total = 0.0
        for c in range(box):
            total += sums[c]
        means[r, 0] = total * scale
        for c in range(1, out_cols):
            total += sums[c + box - 1] - sums[c - 1]
            means[r, c] = total * scale
    return means
