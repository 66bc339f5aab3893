"""A matched-filter detection image: each pixel's significance as the centre of a spot.

Each pixel is tested as an on/off count (Li & Ma 1983, ApJ 272, 317, eq. 17): "on" is the disc
of `radius` px (pixel centres within it), "off" the square ring of Chebyshev distances
floor(radius) + 3 to floor(radius) + 4 px (the local background, read off the pattern itself;
thin, so that a dense lattice's neighbours fall in it little), both over the pixels inside the
frame. With g the frame's counts per electron
(`noise.poisson_gain`) and v a variance of every pixel whatever its level (the rounding to
whole counts), the counts are N = sum / g + n v / g^2 electrons over n pixels, a = n_on /
n_off, and

    S = sqrt(2) sqrt(N_on ln((1 + a) / a N_on / (N_on + N_off))
                     + N_off ln((1 + a) N_off / (N_on + N_off)))

signed as the excess N_on - a N_off: the likelihood-ratio significance of an excess over the
background, standard normal in its tail down to a few electrons, where Poisson's skew makes
the Gaussian z = (mean_on - m) / sqrt((g m + v) (1 / n_on + 1 / n_off)) (m the off mean,
counts) overstate it several-fold. S is computed where z > 2 (elsewhere both are well below any
threshold); where the gain cannot be read off the frame (g = 0), z is kept with v the frame's
whole pixel variance. One threshold in sigmas then holds across the halo, the rings and the
dose range; the ring follows the background at the spot, also on the direct beam's flank, where
a blurred image has a shoulder and no maximum. Coordinates: rows, cols px.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

ANNULUS = (3, 4)  # px beyond floor(radius): the background ring's Chebyshev distances
EXACT_FROM = 2.0  # sigmas of z above which the likelihood ratio replaces it
# The background along the ring: this quantile of the discs sampled on it, low enough that
# the spots of a dense lattice among them do not raise it.
RING_QUANTILE = 0.25


@njit(cache=True, nogil=True)
def _half_widths(radius):
    """Half-width (px) of each row dy = -R..R of the pixels whose centres lie within radius."""
    reach = int(math.floor(radius))
    widths = np.empty(2 * reach + 1, dtype=np.int64)
    for k in range(2 * reach + 1):
        dy = k - reach
        widths[k] = int(math.floor(math.sqrt(max(radius * radius - dy * dy, 0.0))))
    return widths


@njit(cache=True, nogil=True)
def _box(area, r0, r1, c0, c1, rows):
    """Sum and pixel count of rows r0..r1 - 1, cols c0..c1 - 1 clipped to the frame, from the
    summed-area table's rows kept in `area` (row i at i modulo its length)."""
    cols = area.shape[1] - 1
    r0, r1, c0, c1 = max(r0, 0), min(r1, rows), max(c0, 0), min(c1, cols)
    if r1 <= r0 or c1 <= c0:
        return 0.0, 0
    top, bottom = area[r0 % area.shape[0]], area[r1 % area.shape[0]]
    return bottom[c1] - top[c1] - bottom[c0] + top[c0], (r1 - r0) * (c1 - c0)


@njit(cache=True, nogil=True)
def _statistic(on, n_on, off, n_off, gain, floor):
    """The significance of `on` counts over `n_on` px against `off` counts over `n_off` px."""
    if n_off == 0:
        return 0.0
    background = off / n_off
    variance = (gain * max(background, 0.0) + floor) * (1.0 / n_on + 1.0 / n_off)
    if variance <= 0.0:
        return 0.0
    z = (on / n_on - background) / math.sqrt(variance)
    if z <= EXACT_FROM or gain <= 0.0:
        return z
    pseudo = floor / (gain * gain)
    x_on = max(on / gain + n_on * pseudo, 1e-12)
    x_off = max(off / gain + n_off * pseudo, 0.0)
    a = n_on / n_off
    total = x_on + x_off
    twice = x_on * math.log((1.0 + a) / a * x_on / total)
    if x_off > 0.0:
        twice += x_off * math.log((1.0 + a) * x_off / total)
    return math.sqrt(2.0 * max(twice, 0.0))


@njit(cache=True, nogil=True, error_model="numpy")
def _significance(frame, radius, gain, floor):
    """`significance`, streamed down the frame: only the rows of the row prefix sums and of
    the summed-area table that the current row's disc and ring reach are kept."""
    rows, cols = frame.shape
    widths = _half_widths(radius)
    reach = widths.shape[0] // 2
    inner, outer = reach + ANNULUS[0], reach + ANNULUS[1]
    n_disc = 0
    for w in widths:
        n_disc += 2 * w + 1
    n_ring = (2 * outer + 1) ** 2 - (2 * inner - 1) ** 2
    kept = 2 * outer + 2
    prefix = np.zeros((kept, cols + 1))  # frame row j at j % kept, a leading 0
    area = np.zeros((kept, cols + 1))  # summed-area row i (rows 0..i - 1) at i % kept
    done = 0  # summed-area rows 0..done computed
    out = np.empty((rows, cols), dtype=np.float32)
    disc, ring = np.empty(cols), np.empty(cols)
    spread = 1.0 / n_disc + 1.0 / n_ring
    for r in range(rows):
        while done < min(r + outer + 1, rows):
            running, source = 0.0, frame[done]
            line, previous, current = (
                prefix[done % kept],
                area[done % kept],
                area[(done + 1) % kept],
            )
            for c in range(cols):
                running += source[c]
                line[c + 1] = running
            for c in range(cols + 1):
                current[c] = previous[c] + line[c]
            done += 1
        interior_row = outer <= r < rows - outer
        if interior_row:  # the bulk: no clipping, loops over views the compiler vectorises
            span = slice(outer, cols - outer)
            inside = disc[span]
            inside[:] = 0.0
            for k in range(2 * reach + 1):
                line, w = prefix[(r + k - reach) % kept], widths[k]
                right, left = (
                    line[outer + w + 1 : cols - outer + w + 1],
                    line[outer - w : cols - outer - w],
                )
                for i in range(inside.shape[0]):
                    inside[i] += right[i] - left[i]
            low, high = area[(r - outer) % kept], area[(r + outer + 1) % kept]
            near, far = area[(r - inner + 1) % kept], area[(r + inner) % kept]
            n = cols - 2 * outer
            big_rr, big_lr = (
                high[2 * outer + 1 : 2 * outer + 1 + n],
                low[2 * outer + 1 : 2 * outer + 1 + n],
            )
            big_rl, big_ll = high[:n], low[:n]
            hole_rr, hole_lr = (
                far[outer + inner : outer + inner + n],
                near[outer + inner : outer + inner + n],
            )
            hole_rl = far[outer - inner + 1 : outer - inner + 1 + n]
            hole_ll = near[outer - inner + 1 : outer - inner + 1 + n]
            target, background = out[r, span], ring[span]
            for i in range(n):  # z first; S where it matters
                background[i] = (big_rr[i] - big_lr[i] + big_ll[i] - big_rl[i]) - (
                    hole_rr[i] - hole_lr[i] + hole_ll[i] - hole_rl[i]
                )
                mean = background[i] * (1.0 / n_ring)
                variance = (gain * max(mean, 0.0) + floor) * spread
                target[i] = (inside[i] * (1.0 / n_disc) - mean) / math.sqrt(variance)
            for i in range(n):
                if not target[i] <= EXACT_FROM:
                    target[i] = _statistic(inside[i], n_disc, background[i], n_ring, gain, floor)
        for c in range(cols):
            if interior_row and outer <= c < cols - outer:
                continue
            on, n_on = 0.0, 0
            for k in range(2 * reach + 1):
                rr = r + k - reach
                if 0 <= rr < rows:
                    lo, hi = max(c - widths[k], 0), min(c + widths[k], cols - 1)
                    line = prefix[rr % kept]
                    on += line[hi + 1] - line[lo]
                    n_on += hi - lo + 1
            big, n_big = _box(area, r - outer, r + outer + 1, c - outer, c + outer + 1, rows)
            hole, n_hole = _box(area, r - inner + 1, r + inner, c - inner + 1, c + inner, rows)
            out[r, c] = _statistic(on, n_on, big - hole, n_big - n_hole, gain, floor)
    return out


def significance(frame: np.ndarray, radius: float, gain: float, variance_floor: float):
    """The matched-filter significance S (float32, sigmas; see the module: g = `gain` counts
    per electron, v = `variance_floor` counts^2) of every pixel of a frame."""
    return _significance(
        np.asarray(frame, np.float32), float(radius), float(gain), float(variance_floor)
    )


@njit(cache=True, nogil=True)
def _disc_at(frame, row, col, widths):
    """Sum and pixel count of the disc (row half-widths `widths`) about (row, col), clipped to
    the frame."""
    reach = widths.shape[0] // 2
    total, n = 0.0, 0
    for k in range(2 * reach + 1):
        r = row + k - reach
        if 0 <= r < frame.shape[0]:
            for c in range(max(col - widths[k], 0), min(col + widths[k] + 1, frame.shape[1])):
                total += frame[r, c]
            n += max(min(col + widths[k] + 1, frame.shape[1]) - max(col - widths[k], 0), 0)
    return total, n


@njit(cache=True, nogil=True)
def disc_at(frame, rows, cols, radius):
    """The sums (float64) over the discs of `radius` px about the pixels (rows, cols) of a
    frame, clipped to it."""
    widths = _half_widths(radius)
    sums = np.empty(rows.shape[0])
    for i in range(rows.shape[0]):
        sums[i] = _disc_at(frame, rows[i], cols[i], widths)[0]
    return sums


@njit(cache=True, nogil=True)
def _along_ring(frame, rows, cols, centre_y, centre_x, radius, gain, floor, samples, nearest):
    widths = _half_widths(radius)
    reach = widths.shape[0] // 2
    n_disc = 0
    for w in widths:
        n_disc += 2 * w + 1
    out = np.full(rows.shape[0], np.inf, dtype=np.float32)
    means = np.empty(2 * samples)
    for i in range(rows.shape[0]):
        dy, dx = rows[i] - centre_y, cols[i] - centre_x
        rho = math.hypot(dy, dx)
        if rho < nearest:
            continue
        step, theta = (2 * reach + 2) / rho, math.atan2(dy, dx)
        m = 0
        for j in range(1, samples + 1):
            for sign in (-1.0, 1.0):
                angle = theta + sign * j * step
                total, n = _disc_at(
                    frame,
                    int(round(centre_y + rho * math.sin(angle))),
                    int(round(centre_x + rho * math.cos(angle))),
                    widths,
                )
                if 2 * n >= n_disc:
                    means[m] = total / n
                    m += 1
        if m < samples:
            continue
        on, n_on = _disc_at(frame, rows[i], cols[i], widths)
        n_off = m * n_disc * 2.0 / math.pi  # a quantile's efficiency, at most a median's
        level = np.sort(means[:m])[int(m * RING_QUANTILE)]
        out[i] = _statistic(on, n_on, level * n_off, n_off, gain, floor)
    return out


def along_ring(frame, rows, cols, centre, radius, gain, variance_floor, samples=4, nearest=0.0):
    """The significance (float32, sigmas) of each candidate (rows, cols px) against its ring:
    the disc of `radius` px about it against the `RING_QUANTILE` of the discs at the same
    distance from `centre` (y, x px), `samples` on each side along the circle, 2 floor(radius) +
    2 px apart (of those at least half inside the frame). An amorphous ring's or the halo's
    background then stands under the candidate, as no square around it can follow a ring's
    curvature, and the spots of a dense lattice among the samples leave the low quantile where
    it is. Infinite (no test) for candidates within `nearest` px of the centre or with fewer
    than `samples` discs to compare."""
    return _along_ring(
        np.asarray(frame, np.float32),
        np.asarray(rows, np.int64),
        np.asarray(cols, np.int64),
        float(centre[0]),
        float(centre[1]),
        float(radius),
        float(gain),
        float(variance_floor),
        int(samples),
        float(nearest),
    )


@njit(cache=True, nogil=True)
def _maxima(z, threshold, separation):
    rows, cols = z.shape
    found_r, found_c = [], []
    for r in range(rows):
        for c in range(cols):
            v = z[r, c]
            if v <= threshold:
                continue
            top = True
            for rr in range(max(r - separation, 0), min(r + separation + 1, rows)):
                for cc in range(max(c - separation, 0), min(c + separation + 1, cols)):
                    if z[rr, cc] > v:
                        top = False
                        break
                if not top:
                    break
            if top:
                found_r.append(r)
                found_c.append(c)
    n = len(found_r)
    index = np.full((rows, cols), -1, dtype=np.int64)
    parent = np.arange(n)
    for i in range(n):
        r, c = found_r[i], found_c[i]
        index[r, c] = i
        for dr, dc in ((0, -1), (-1, -1), (-1, 0), (-1, 1)):  # the neighbours already seen
            rr, cc = r + dr, c + dc
            if 0 <= rr < rows and 0 <= cc < cols and index[rr, cc] >= 0:
                a, b = index[rr, cc], i
                while parent[a] != a:
                    a = parent[a]
                while parent[b] != b:
                    b = parent[b]
                parent[max(a, b)] = min(a, b)  # the root is a plateau's first pixel
    keep = np.array([parent[i] == i for i in range(n)], dtype=np.bool_)
    out_r = np.array(found_r, dtype=np.int64)[keep] if n else np.empty(0, np.int64)
    out_c = np.array(found_c, dtype=np.int64)[keep] if n else np.empty(0, np.int64)
    return out_r, out_c


def significant_maxima(z: np.ndarray, threshold: float, separation: int = 2):
    """Rows, cols and z of the local maxima of z (over the square of +-`separation` px; of a
    connected flat top, its first pixel in row-major order) above `threshold`, most
    significant first."""
    rows, cols = _maxima(np.asarray(z, np.float32), float(threshold), int(separation))
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


@njit(cache=True, nogil=True)
def _quiet_deviation(z, rows, cols, reach):
    """1.4826 x the median absolute deviation of z on every other row and column, away from
    the candidates (taxicab distance > reach), and the fraction of those pixels that is left."""
    near = np.zeros(z.shape, dtype=np.bool_)
    for r, c in zip(rows, cols):
        for dr in range(-reach, reach + 1):
            rr = r + dr
            if 0 <= rr < z.shape[0]:
                span = reach - abs(dr)
                near[rr, max(c - span, 0) : min(c + span + 1, z.shape[1])] = True
    quiet = np.empty((z.shape[0] + 1) // 2 * ((z.shape[1] + 1) // 2), dtype=np.float32)
    n = 0
    for r in range(0, z.shape[0], 2):
        for c in range(0, z.shape[1], 2):
            if not near[r, c]:
                quiet[n] = z[r, c]
                n += 1
    if n == 0:
        return 1.0, 0.0
    values = quiet[:n]
    middle = np.median(values)
    return 1.4826 * np.median(np.abs(values - middle)), n / quiet.shape[0]


def noise_scale(z: np.ndarray, rows, cols, reach: float) -> float:
    """The spread of z where no candidate lies within `reach` px (steps along rows and
    columns), sampled on every other row and column: 1.4826 x its median absolute deviation
    (1 where less than a fifth of the frame is left to tell). Under the model's noise it is 1;
    noise correlated between pixels, which the gain read off 3 x 3 residuals cannot see, makes
    it larger."""
    scale, left = _quiet_deviation(
        np.asarray(z, np.float32),
        np.asarray(rows, np.int64),
        np.asarray(cols, np.int64),
        int(math.ceil(reach)),
    )
    return float(scale) if left >= 0.2 else 1.0
