"""Background of a diffraction frame with ImageJ's "Subtract Background" semantics.

Bright spots on a dark background (ImageJ's "light background" off). Two estimators:

- `rolling_ball`: the hull of a ball of radius R rolled under the intensity surface (a grey
  opening with a non-flat, spherical-cap structuring element). As in ImageJ, the image is first
  smoothed by a 3x3 mean (optional), then shrunk by a block minimum for R > 10 px (factor 2 up to
  R = 30, 4 up to 100, 8 beyond), the trimmed ball patch is rolled on the small image, and the
  result is enlarged by bilinear interpolation. The ball's height profile is that of a sphere of
  radius R / shrink in intensity units, as in ImageJ.
- `sliding_paraboloid`: a paraboloid of rotation with the ball's apex curvature (1/R) slid under
  the surface as parabolae along x, y and both diagonals (ImageJ's 9-pass scheme), after a 3x3
  maximum and 3x3 mean (optional), with ImageJ's correction of corner particles.

Frames are float32 (ky, kx); the background is float32 of the same shape.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..kernels import mean3x3
from .settings import BACKGROUND_METHODS


def ball_parameters(radius: float) -> tuple[int, int]:
    """ImageJ's (shrink factor, arc trim percent) for a rolling ball of `radius` px."""
    if radius <= 10:
        return 1, 24
    if radius <= 30:
        return 2, 24
    if radius <= 100:
        return 4, 32
    return 8, 40


def ball_patch(radius: float, shrink: int, trim_percent: int) -> np.ndarray:
    """Heights of the trimmed square patch of the ball (float32, odd width), in small-image px."""
    small = max(radius / shrink, 1.0)
    trim = int(trim_percent * small) // 100
    half = int(round(small - trim))
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    r2 = small * small - offsets[:, None] ** 2 - offsets[None, :] ** 2
    return np.where(r2 > 0, np.sqrt(np.maximum(r2, 0)), 0.0).astype(np.float32)


@njit(cache=True, nogil=True)
def max3x3(image):
    """ImageJ's 3x3 maximum (separable, edge pixels repeated); returns (image, mean increase)."""
    out = image.copy()
    rows, cols = out.shape
    shift = 0.0
    for r in range(rows):
        previous = out[r, 0]
        for c in range(cols):
            current = out[r, c]
            following = out[r, c + 1] if c < cols - 1 else current
            m = max(previous, current, following)
            shift += m - current
            out[r, c] = m
            previous = current
    for c in range(cols):
        previous = out[0, c]
        for r in range(rows):
            current = out[r, c]
            following = out[r + 1, c] if r < rows - 1 else current
            m = max(previous, current, following)
            shift += m - current
            out[r, c] = m
            previous = current
    return out, shift / (rows * cols)


@njit(cache=True, nogil=True)
def shrink_min(image, factor):
    """Block minimum over factor x factor blocks (partial blocks at the far edges)."""
    rows, cols = image.shape
    srows, scols = (rows + factor - 1) // factor, (cols + factor - 1) // factor
    out = np.full((srows, scols), np.inf, dtype=np.float32)
    whole = cols // factor  # blocks without a partial column
    for r in range(rows):
        target, source = out[r // factor], image[r]
        for k in range(factor):
            for s in range(whole):
                target[s] = min(target[s], source[s * factor + k])
        for c in range(whole * factor, cols):
            target[whole] = min(target[whole], source[c])
    return out


@njit(cache=True, nogil=True, fastmath=True)
def roll_ball(image, patch):
    """Grey opening of `image` by the non-flat `patch`, ball centres also outside the image
    (each ball only touches the image where it overlaps it), as ImageJ rolls its ball.

    The patch is symmetric about its middle row and column, so each image row is eroded (then
    dilated) once per distinct patch row and the 1D result folded into the two output rows it
    serves, and the two columns of one height meet the lower (higher) of their two sources:
    min(a - z, b - z) = min(a, b) - z exactly, as rounding is monotonic.
    """
    rows, cols = image.shape
    width = patch.shape[0]
    half = width // 2
    pad = 2 * half
    lowest = np.full((rows + pad, cols + pad), np.inf, dtype=np.float32)  # ball height per centre
    padded = np.full(cols + 2 * pad, np.inf, dtype=np.float32)  # an image row, +inf beyond it
    line = np.empty(cols + pad, dtype=np.float32)
    for r in range(rows):
        padded[pad : pad + cols] = image[r]
        for dy in range(half + 1):
            line[:] = np.inf
            for dx in range(half + 1):
                z = patch[dy, dx]
                left, right = padded[dx : dx + cols + pad], padded[pad - dx : pad - dx + cols + pad]
                for c in range(cols + pad):
                    line[c] = min(line[c], min(left[c], right[c]) - z)
            for row in (r + pad - dy, r + dy):  # patch rows dy and width - 1 - dy
                target = lowest[row]
                for c in range(cols + pad):
                    target[c] = min(target[c], line[c])
                if dy == half:
                    break
    out = np.full((rows, cols), -np.inf, dtype=np.float32)
    line = np.empty(cols, dtype=np.float32)
    for row in range(rows + pad):
        source = lowest[row]
        for dy in range(half + 1):
            line[:] = -np.inf
            for dx in range(half + 1):
                z = patch[dy, dx]
                left, right = source[dx : dx + cols], source[pad - dx : pad - dx + cols]
                for c in range(cols):
                    line[c] = max(line[c], max(left[c], right[c]) + z)
            for r in (row - pad + dy, row - dy):  # patch rows dy and width - 1 - dy
                if 0 <= r < rows:
                    target = out[r]
                    for c in range(cols):
                        target[c] = max(target[c], line[c])
                if dy == half:
                    break
    return out


def _interpolation(length: int, small_length: int, factor: int):
    """ImageJ's bilinear enlargement indices and weights along one axis."""
    index = (np.arange(length) - factor // 2) // factor
    index = np.minimum(index, small_length - 2)
    distance = (np.arange(length) + 0.5) / factor - (index + 0.5)
    return index, (1.0 - distance).astype(np.float32)


def enlarge(small: np.ndarray, shape: tuple[int, int], factor: int) -> np.ndarray:
    """Bilinear enlargement of the shrunk background (extrapolating at the edges), as ImageJ."""
    yi, yw = _interpolation(shape[0], small.shape[0], factor)
    xi, xw = _interpolation(shape[1], small.shape[1], factor)
    return _bilinear(small, yi, yw, xi, xw)


@njit(cache=True, nogil=True)
def _bilinear(small, yi, yw, xi, xw):
    """out[r, c] from small[yi[r]:yi[r]+2, xi[c]:xi[c]+2] with weights (yw, 1-yw) x (xw, 1-xw)."""
    one = np.float32(1.0)
    columns = np.empty((small.shape[0], xi.shape[0]), dtype=np.float32)
    for r in range(small.shape[0]):
        for c in range(xi.shape[0]):
            columns[r, c] = small[r, xi[c]] * xw[c] + small[r, xi[c] + 1] * (one - xw[c])
    out = np.empty((yi.shape[0], xi.shape[0]), dtype=np.float32)
    for r in range(yi.shape[0]):
        upper, lower, w = columns[yi[r]], columns[yi[r] + 1], yw[r]
        for c in range(xi.shape[0]):
            out[r, c] = upper[c] * w + lower[c] * (one - w)
    return out


def rolling_ball(
    image: np.ndarray, radius: float, presmooth: bool = True, shrink: bool = True
) -> np.ndarray:
    """Rolling-ball background of a float32 frame (ImageJ semantics; see module docstring).

    `shrink=False` rolls the ball on the full-resolution image (exact, slower).
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    factor, trim = ball_parameters(radius)
    if not shrink:
        factor = 1
    patch = ball_patch(radius, factor, trim)
    smooth = mean3x3(image) if presmooth else image
    if factor == 1:
        return roll_ball(smooth, patch)
    if min(image.shape) < 2 * factor:
        raise ValueError(
            f"frame {image.shape} is too small for a rolling ball of radius {radius} px"
        )
    return enlarge(roll_ball(shrink_min(smooth, factor), patch), image.shape, factor)


@njit(cache=True, nogil=True)
def slide_parabola(line, coeff2, edges):
    """Slide a parabola of 2nd-order coefficient `coeff2` under the 1D view `line`, in place:
    values the parabola cannot touch are replaced by the parabola between touching points.

    If `edges` is True, also returns the edge values estimated without edge particles (ImageJ's
    corner correction: a line through the outermost inner touching points plus a 6th-order
    vignetting term); otherwise returns (nan, nan).
    """
    n = line.shape[0]
    cache = line.copy()
    lowest = cache.min()
    following = np.empty(n, dtype=np.int64)
    last = 0
    for i in range(2, n):
        if 2.0 * cache[i - 1] - cache[i - 2] - cache[i] < 1.999 * coeff2:
            following[last] = i - 1
            last = i - 1
    following[last] = n - 1
    following[n - 1] = n + 1  # ends the search
    first_corner, last_corner = n - 1, 0
    i1 = 0
    while i1 < n - 1:
        v1 = cache[i1]
        min_slope = np.inf
        i2 = 0
        search_to = n
        countdown = 0
        j = following[i1]
        while j < search_to:
            slope = (cache[j] - v1) / (j - i1) + coeff2 * (j - i1)
            if slope < min_slope:
                min_slope = slope
                i2 = j
                countdown = -3
            if countdown == 0:
                b = 0.5 * min_slope / coeff2
                limit = i1 + int(b + math.sqrt(b * b + (v1 - lowest) / coeff2) + 1)
                if 0 < limit < search_to:
                    search_to = limit
            j = following[j]
            countdown += 1
        if i1 == 0:
            first_corner = i2
        if i2 == n - 1:
            last_corner = i1
        for k in range(i1 + 1, i2):
            line[k] = v1 + (k - i1) * (min_slope - (k - i1) * coeff2)
        i1 = i2
    if not edges or last_corner == first_corner:
        return np.nan, np.nan
    if 4 * first_corner >= n:
        first_corner = 0
    if 4 * (n - 1 - last_corner) >= n:
        last_corner = n - 1
    v1, v2 = cache[first_corner], cache[last_corner]
    span = last_corner - first_corner
    slope = (v2 - v1) / span
    value0 = v1 - slope * first_corner
    coeff6 = 0.0
    mid = 0.5 * (last_corner + first_corner)
    for i in range((n + 2) // 3, (2 * n) // 3 + 1):
        dx = (i - mid) * 2.0 / span
        poly6 = dx**6 - 1.0
        if cache[i] < value0 + slope * i + coeff6 * poly6:
            coeff6 = -(value0 + slope * i - cache[i]) / poly6
    dx0 = (first_corner - mid) * 2.0 / span
    dx1 = (last_corner - mid) * 2.0 / span
    edge0 = value0 + coeff6 * (dx0**6 - 1.0) + coeff2 * first_corner**2
    edge1 = value0 + (n - 1) * slope + coeff6 * (dx1**6 - 1.0) + coeff2 * (n - 1 - last_corner) ** 2
    return edge0, edge1


@njit(cache=True, nogil=True)
def _diagonal(image, row, col, step_col, length):
    """Copy of a diagonal line of `image` (step +1 row, `step_col` col)."""
    out = np.empty(length, dtype=image.dtype)
    for k in range(length):
        out[k] = image[row + k, col + step_col * k]
    return out


@njit(cache=True, nogil=True)
def _slide_diagonal(image, row, col, step_col, length, coeff2):
    line = _diagonal(image, row, col, step_col, length)
    slide_parabola(line, coeff2, False)
    for k in range(length):
        image[row + k, col + step_col * k] = line[k]


@njit(cache=True, nogil=True)
def _pass(image, direction, coeff2):
    """One of ImageJ's passes: 0 rows, 1 columns, 2/3 the x=y diagonals from the top edge /
    left edge, 4/5 the x=-y diagonals from the top edge / right edge (lines of >= 3 px)."""
    rows, cols = image.shape
    if direction == 0:
        for r in range(rows):
            slide_parabola(image[r, :], coeff2, False)
    elif direction == 1:
        for c in range(cols):
            column = image[:, c].copy()
            slide_parabola(column, coeff2, False)
            image[:, c] = column
    elif direction == 2:
        for i in range(0, cols - 2):
            _slide_diagonal(image, 0, i, 1, min(rows, cols - i), coeff2)
    elif direction == 3:
        for i in range(1, rows - 2):
            _slide_diagonal(image, i, 0, 1, min(cols, rows - i), coeff2)
    elif direction == 4:
        for i in range(2, cols):
            _slide_diagonal(image, 0, i, -1, min(rows, i + 1), coeff2)
    else:
        for i in range(0, rows - 2):
            _slide_diagonal(image, i, cols - 1, -1, min(cols, rows - i), coeff2)


@njit(cache=True, nogil=True)
def _correct_corners(image, coeff2):
    """Lower corner pixels that belong to corner particles (ImageJ's correctCorners)."""
    rows, cols = image.shape
    corners = np.zeros(4)
    e0, e1 = slide_parabola(image[0, :], coeff2, True)
    corners[0] += e0
    corners[1] += e1
    e0, e1 = slide_parabola(image[rows - 1, :], coeff2, True)
    corners[2] += e0
    corners[3] += e1
    column = image[:, 0].copy()
    e0, e1 = slide_parabola(column, coeff2, True)
    image[:, 0] = column
    corners[0] += e0
    corners[2] += e1
    column = image[:, cols - 1].copy()
    e0, e1 = slide_parabola(column, coeff2, True)
    image[:, cols - 1] = column
    corners[1] += e0
    corners[3] += e1
    length = min(rows, cols)
    starts = (
        (0, 0, 1, 1),
        (0, cols - 1, 1, -1),
        (rows - 1, 0, -1, 1),
        (rows - 1, cols - 1, -1, -1),
    )
    for k in range(4):
        r0, c0, dr, dc = starts[k]
        line = np.empty(length, dtype=image.dtype)
        for i in range(length):
            line[i] = image[r0 + dr * i, c0 + dc * i]
        e0, _ = slide_parabola(line, 2.0 * coeff2, True)
        for i in range(length):
            image[r0 + dr * i, c0 + dc * i] = line[i]
        corners[k] += e0
    for k, (r, c) in enumerate(((0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1))):
        if not math.isnan(corners[k]) and image[r, c] > corners[k] / 3.0:
            image[r, c] = corners[k] / 3.0


def sliding_paraboloid(
    image: np.ndarray, radius: float, presmooth: bool = True, correct_corners: bool = True
) -> np.ndarray:
    """Sliding-paraboloid background of a float32 frame (ImageJ semantics; module docstring)."""
    background = np.array(image, dtype=np.float32)
    if min(background.shape) < 3:
        raise ValueError(f"frame {background.shape} is too small for a sliding paraboloid")
    shift = 0.0
    if presmooth:
        background, shift = max3x3(background)
        background = mean3x3(background)
    coeff2 = 0.5 / radius
    if correct_corners:
        _correct_corners(background, coeff2)
    for direction, coeff in (
        (0, coeff2),
        (1, coeff2),
        (0, coeff2),
        (2, 2 * coeff2),
        (3, 2 * coeff2),
        (4, 2 * coeff2),
        (5, 2 * coeff2),
        (2, 2 * coeff2),
        (3, 2 * coeff2),
    ):
        _pass(background, direction, coeff)
    if presmooth:
        background -= np.float32(shift)
    return background


def subtract_background(
    frame: np.ndarray,
    method: str = "rolling_ball",
    radius: float = 20.0,
    presmooth: bool = True,
    clamp: bool = True,
) -> np.ndarray:
    """The frame minus its background, float32. `clamp` sets negative values to 0 (ImageJ's
    behaviour on 8- and 16-bit images); `method` is one of BACKGROUND_METHODS."""
    frame = np.ascontiguousarray(frame, dtype=np.float32)
    if method == "none":
        return frame.copy()
    if method == "rolling_ball":
        result = frame - rolling_ball(frame, radius, presmooth)
    elif method == "sliding_paraboloid":
        result = frame - sliding_paraboloid(frame, radius, presmooth)
    else:
        raise ValueError(f"unknown background method {method!r}; use one of {BACKGROUND_METHODS}")
    return np.maximum(result, 0.0, out=result) if clamp else result
