"""Sub-pixel refinement of registered spots (method.md §3.5).

Coordinates are (y, x) px in the frame (pixel centres at integers). Discs use coverage weights
w = clip(radius + 0.5 - d, 0, 1) for a pixel centre at distance d, which makes every quantity
continuous in the centre and the radius.

"paper": start at the integer maximum with radius r_limit (r_start, at most half the distance to
the nearest other peak); iterate
    centre <- centroid of the positive part of the image above a plane pedestal inside the disc,
              the plane fitted (least squares) to the ring radius < d <= radius + 2, its pixels
              weighted by coverage so that the centroid is continuous in the centre;
    radius <- (the radius in 0.5 px steps up to r_limit whose disc has the largest standard
              deviation on `smooth`, a lightly blurred background-subtracted frame) - 1 px, at
              least 1 px;
until the centre moves less than `tolerance` px with the radius unchanged (else flagged); a centre
that settles slowly (each step a fixed fraction of the last) is moved on to where its steps lead,
and the next centroid tests that point, so the result is the same fixed point in fewer steps. A
radius that returns to its value before the last change is frozen at the larger of the two (on
weak spots the two would alternate for ever). The final centroid is taken in the disc of the
std-maximising radius itself (radius + 1 px, at most r_limit): a window edge that crosses the
spot's own edge biases a pixel-sampled centroid by ~0.01 px. The centre may not travel further
than r_limit from its start: a disc pulled towards a brighter neighbour stops there, flagged.
The image is the raw frame by default (`refine_on`): its diffuse halo is smooth, so the plane
pedestal leaves only symmetric terms under a spot, whereas a rolling ball's hull bridges a spot on
the direct beam's halo slope asymmetrically (a 0.05-0.065 px bias there when centred on the
background-subtracted frame). Measured on the synthetic truth (tests/test_register_frame.py):
noise-free median error 0.0001-0.0003 px, at most 0.034 px; with noise, about half the median
error of a centroid that knows the true background and radius.
`fit_discs` (after "paper", `fit_edge` > 0): each centre taken from a weighted least-squares fit
of a soft-edged disc, its radius, amplitude and a background plane free, over the disc +
`FIT_REACH` px less the neighbours' discs: it weighs the disc's edge, where its position lies,
as a centroid does not (within 1.01-1.08x of the Cramer-Rao bound on isolated discs,
tests/test_refine.py).
"epattern-v4": 5 centre-of-mass iterations in a square box (side 10 px, 20 px for the spot
nearest the frame centre) of the blurred frame; radius 3; mean over the 3x3 block.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.spatial import cKDTree

FLAG_BORDER, FLAG_SATURATED, FLAG_NOT_CONVERGED = 1, 2, 4
# A settling centre whose steps shrink by this ratio or less is moved to the limit of their
# geometric series (at most 3 steps ahead); the next centroid then tests that point.
EXTRAPOLATE_BELOW = 0.75
FIT_REACH = 4.0  # px beyond the disc over which `fit_discs` fits its edge and background
FIT_ITERATIONS = 3  # Gauss-Newton steps of `fit_discs` from the refined centre (more: no better)


@njit(cache=True, nogil=True, inline="always")
def _window(shape, cy, cx, reach):
    """Rows r0..r1 and columns c0..c1 (inclusive) within `reach` px of (cy, cx), inside the frame
    (a disc of radius r covers pixels whose centres lie within r + 0.5 px)."""
    r0, r1 = max(0, int(math.floor(cy - reach))), min(shape[0] - 1, int(math.ceil(cy + reach)))
    c0, c1 = max(0, int(math.floor(cx - reach))), min(shape[1] - 1, int(math.ceil(cx + reach)))
    return r0, r1, c0, c1


@njit(cache=True, nogil=True, inline="always")
def _coverage(radius, distance):
    """Fraction of a pixel whose centre is `distance` px from the disc centre that the disc
    covers."""
    return min(max(radius + 0.5 - distance, 0.0), 1.0)


@njit(cache=True, nogil=True)
def _disc_moments(image, cy, cx, radius):
    """(sum w, sum w v, sum w v^2) of the image values v over the coverage-weighted disc."""
    r0, r1, c0, c1 = _window(image.shape, cy, cx, radius + 0.5)
    sw = s = s2 = 0.0
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            w = _coverage(radius, math.sqrt((r - cy) ** 2 + (c - cx) ** 2))
            v = image[r, c]
            sw += w
            s += w * v
            s2 += w * v * v
    return sw, s, s2


@njit(cache=True, nogil=True)
def _ring_plane(image, cy, cx, inner, outer):
    """Weighted least-squares plane a + by (row - cy) + bx (col - cx) through the ring inner <
    d <= outer px about (cy, cx), each pixel weighted by its coverage (the disc of `outer` less
    the disc of `inner`, so that the plane, and the centroid above it, move continuously with
    the centre); (a, by, bx), or (mean, 0, 0) if the ring is degenerate."""
    r0, r1, c0, c1 = _window(image.shape, cy, cx, outer + 0.5)
    n = sy = sx = syy = sxx = syx = sv = svy = svx = 0.0
    hole = max(inner - 0.5, 0.0) ** 2 * (1.0 - 1e-9)  # within it both discs cover the pixel
    beyond = (outer + 0.5) ** 2  # and beyond it neither
    for r in range(r0, r1 + 1):
        y = r - cy
        for c in range(c0, c1 + 1):
            x = c - cx
            d2 = y * y + x * x
            if d2 < hole or d2 >= beyond:
                continue
            d = math.sqrt(d2)
            w = _coverage(outer, d) - _coverage(inner, d)
            v = image[r, c]
            n += w
            sy += w * y
            sx += w * x
            syy += w * y * y
            sxx += w * x * x
            syx += w * y * x
            sv += w * v
            svy += w * v * y
            svx += w * v * x
    if n < 6:
        return (sv / n if n > 0 else 0.0), 0.0, 0.0
    # centred normal equations: the slopes from the 2x2 covariance system, then the offset
    my, mx, mv = sy / n, sx / n, sv / n
    cyy, cxx, cyx = syy / n - my * my, sxx / n - mx * mx, syx / n - my * mx
    cvy, cvx = svy / n - mv * my, svx / n - mv * mx
    det = cyy * cxx - cyx * cyx
    if det <= 1e-9 * (cyy + cxx) ** 2:
        return mv, 0.0, 0.0
    by = (cvy * cxx - cvx * cyx) / det
    bx = (cvx * cyy - cvy * cyx) / det
    return mv - by * my - bx * mx, by, bx


@njit(cache=True, nogil=True)
def _centroid(image, cy, cx, radius):
    """Centroid of the positive part of the image inside the disc, above the plane fitted to
    the ring radius < d <= radius + 2 (a sloped residual background pulls a plain centroid)."""
    a, by, bx = _ring_plane(image, cy, cx, radius, radius + 2.0)
    r0, r1, c0, c1 = _window(image.shape, cy, cx, radius + 0.5)
    s = sy = sx = 0.0
    beyond = (radius + 0.5) ** 2  # the disc covers no pixel centred this far
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            d2 = (r - cy) ** 2 + (c - cx) ** 2
            if d2 >= beyond:
                continue
            # branch-free: a noisy pixel's sign is a coin toss the processor cannot predict
            wv = _coverage(radius, math.sqrt(d2)) * max(
                image[r, c] - (a + by * (r - cy) + bx * (c - cx)), 0.0
            )
            s += wv
            sy += wv * r
            sx += wv * c
    if s <= 0.0:
        return cy, cx
    return sy / s, sx / s


@njit(cache=True, nogil=True)
def centroids(image, ys, xs, radius):
    """`_centroid` of the discs of `radius` px about each (ys, xs) px: one step, no iteration."""
    out_y, out_x = np.empty(ys.shape[0]), np.empty(ys.shape[0])
    for k in range(ys.shape[0]):
        out_y[k], out_x[k] = _centroid(image, ys[k], xs[k], radius)
    return out_y, out_x


@njit(cache=True, nogil=True)
def _std_radius(image, cy, cx, r_limit):
    """The radius (0.5 px steps, 1 .. r_limit) whose disc has the largest standard deviation.

    One pass over the window. A pixel at distance d falls in shell b = ceil(2 d - 1): it is
    wholly inside every candidate radius 1 + k/2 with k >= b, and partly inside k = b - 1
    (coverage 1 + b/2 - d) and k = b - 2 (coverage 1/2 + b/2 - d); both are linear in d, so each
    shell keeps the sums of v^p and d v^p (p = 0, 1, 2) and the candidates are read off them.
    """
    n = int(math.floor((r_limit - 1.0) / 0.5 + 1e-9)) + 1
    shells = np.zeros((n + 2, 6))  # per shell: sum of 1, v, v^2, d, d v, d v^2
    reach = 1.0 + 0.5 * (n - 1) + 0.5  # the largest candidate's, so that shells stop at n + 1
    r0, r1, c0, c1 = _window(image.shape, cy, cx, reach)
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            d2 = (r - cy) ** 2 + (c - cx) ** 2
            if d2 >= reach * reach:
                continue  # outside every candidate disc
            d = math.sqrt(d2)
            v = image[r, c]
            shell = shells[max(int(math.ceil(2.0 * d - 1.0 - 1e-9)), 0)]
            shell[0] += 1.0
            shell[1] += v
            shell[2] += v * v
            shell[3] += d
            shell[4] += d * v
            shell[5] += d * v * v
    best, best_std = 1.0, -1.0
    sw = s = s2 = 0.0
    for k in range(n):
        sw += shells[k, 0]  # the shells wholly inside radius 1 + k/2
        s += shells[k, 1]
        s2 += shells[k, 2]
        weight, total, squares = sw, s, s2
        for b, edge in ((k + 1, 1.0 + 0.5 * (k + 1)), (k + 2, 0.5 + 0.5 * (k + 2))):
            weight += edge * shells[b, 0] - shells[b, 3]
            total += edge * shells[b, 1] - shells[b, 4]
            squares += edge * shells[b, 2] - shells[b, 5]
        if weight > 0:
            mean = total / weight
            std = math.sqrt(max(squares / weight - mean * mean, 0.0))
            if std > best_std:
                best, best_std = 1.0 + 0.5 * k, std
    return best


@njit(cache=True, nogil=True)
def refine_paper(image, smooth, rows, cols, limits, tolerance, max_iter):
    """Refine every spot of `image`, the radius searched on `smooth`; returns arrays y, x,
    radius, converged (bool). After the first step the radius is measured again only once the
    centre has settled at the current radius (the same fixed point, a third of the radius
    searches)."""
    n = rows.shape[0]
    ys, xs, radii = np.empty(n), np.empty(n), np.empty(n)
    converged = np.zeros(n, dtype=np.bool_)
    for k in range(n):
        cy, cx = float(rows[k]), float(cols[k])
        limit = limits[k]
        radius, previous, frozen, settling = limit, -1.0, False, False
        last_y = last_x = 0.0  # the last plain step at this radius (0: none)
        for _ in range(max_iter):
            ny, nx = _centroid(image, cy, cx, radius)
            if (ny - rows[k]) ** 2 + (nx - cols[k]) ** 2 > limit * limit:
                break  # pulled towards another spot: keep the last position, flagged
            step_y, step_x = ny - cy, nx - cx
            moved = math.sqrt(step_y**2 + step_x**2)
            cy, cx = ny, nx
            if settling and moved >= tolerance:
                last = last_y**2 + last_x**2
                ratio = (step_y * last_y + step_x * last_x) / last if last > 0 else 0.0
                if 0.0 < ratio < EXTRAPOLATE_BELOW:
                    cy += step_y * ratio / (1.0 - ratio)
                    cx += step_x * ratio / (1.0 - ratio)
                    last_y = last_x = 0.0
                else:
                    last_y, last_x = step_y, step_x
                continue  # the radius is measured again once the centre has settled
            last_y = last_x = 0.0
            new_radius = radius if frozen else max(_std_radius(smooth, cy, cx, limit) - 1.0, 1.0)
            if moved < tolerance and new_radius == radius:
                converged[k] = True
                break
            if new_radius == previous and new_radius != radius:  # a 2-cycle: keep the larger radius
                frozen, new_radius = True, max(new_radius, radius)
            if new_radius != radius:
                previous, radius = radius, new_radius
            settling = True
        ys[k], xs[k] = _centroid(image, cy, cx, min(radius + 1.0, limit))
        radii[k] = radius
    return ys, xs, radii, converged


@njit(cache=True, nogil=True)
def _solve(matrix, vector):
    """matrix^-1 vector for a small symmetric system, or zeros where it is singular."""
    try:
        return np.linalg.solve(matrix, vector)
    except Exception:  # numba raises a plain error for a singular matrix
        return np.zeros_like(vector)


@njit(cache=True, nogil=True, inline="always")
def _half_erfc(u, gauss):
    """erfc(u) / 2 from gauss = exp(-u^2), which the fit computes anyway: Abramowitz & Stegun
    7.1.26, |error| < 1.5e-7 (libm's erfc would take half the fit's time)."""
    t = 1.0 / (1.0 + 0.3275911 * abs(u))
    series = 0.254829592 + t * (
        -0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))
    )
    tail = 0.5 * gauss * t * series
    return tail if u >= 0.0 else 1.0 - tail


@njit(cache=True, nogil=True)
def _fit_disc(image, cy, cx, radius, edge, reach, iterations, tolerance, others, gain, floor):
    """The centre (y, x) of the soft-edged disc a + by (row - y) + bx (col - x) + A erfc((d -
    R) / (sqrt(2) edge)) / 2 fitted by least squares to the pixels within `radius` + `reach` px
    of it, its radius R free from `radius` (a disc's centre and radius are orthogonal: fitting
    R costs the centre no precision, and a wrong R would). Gauss-Newton from (cy, cx), the
    pixels taken about the current centre from those within 1 px more of the start, less the
    neighbours' discs `others` (y, x, squared radius): each step is the (y, x, R) part of the
    step of all seven parameters from the best linear ones (a, by, bx, A) at the current (y, x,
    R), at most 1 px each. Each step's rows b = (1, dy, dx, D, dD/dy, dD/dx, dD/dR) give G =
    sum b b^T and h = sum b v over the pixels' values v: the linear fit solves G's first block,
    the step's system is G and h scaled by A in the last three rows and columns. After the
    first step each pixel is weighted by 1 / (g max(model, g) + v), the variance of the last
    step's model counts with g `gain` counts per electron (Poisson, at least one electron's)
    and v `floor` counts^2: where the disc outshines its background, its bright pixels are
    the noisiest, and equal weights would cost the centre about a fifth of its precision
    (g = 0: equal weights). (cy, cx) itself if the fit finds no disc (A <= 0), leaves the start
    radius or leaves the frame (a disc cut by the frame's edge can pull it out)."""
    scale = 1.0 / (math.sqrt(2.0) * edge)
    norm = scale / math.sqrt(math.pi)
    outer = radius + reach
    grown = outer + 1.0
    r0, r1, c0, c1 = _window(image.shape, cy, cx, grown)
    area = (r1 - r0 + 1) * (c1 - c0 + 1)
    rows, cols, values = np.empty(area), np.empty(area), np.empty(area)
    n = 0
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            if (r - cy) ** 2 + (c - cx) ** 2 > grown * grown:
                continue
            near = False
            for k in range(others.shape[0]):
                near |= (r - others[k, 0]) ** 2 + (c - others[k, 1]) ** 2 < others[k, 2]
            if not near:
                rows[n], cols[n], values[n] = r, c, image[r, c]
                n += 1
    basis, taken = np.empty((n, 7)), np.empty(n)
    y, x, fitted = cy, cx, radius
    linear = np.zeros(4)
    for number in range(iterations):
        m = 0
        for p in range(n):
            dy, dx = rows[p] - y, cols[p] - x
            d2 = dy * dy + dx * dx
            if d2 > outer * outer:
                continue
            d = max(math.sqrt(d2), 1e-9)
            u = (d - fitted) * scale
            gauss = math.exp(-u * u)
            rim = gauss * norm  # dD/dR = -dD/dd
            half = _half_erfc(u, gauss)
            weight = 1.0
            if number > 0 and gain > 0.0:  # no model to weigh by before the first step
                model = linear[0] + linear[1] * dy + linear[2] * dx + linear[3] * half
                weight = 1.0 / math.sqrt(gain * max(model, gain) + floor)
            across = weight * rim / d
            basis[m, 0], basis[m, 1], basis[m, 2] = weight, weight * dy, weight * dx
            basis[m, 3], basis[m, 4], basis[m, 5] = weight * half, across * dy, across * dx
            basis[m, 6], taken[m] = weight * rim, weight * values[p]
            m += 1
        if m < 12:
            return cy, cx
        g = basis[:m].T @ basis[:m]
        h = basis[:m].T @ taken[:m]
        linear = _solve(g[:4, :4].copy(), h[:4].copy())
        amplitude = linear[3]
        if amplitude <= 0.0:
            return cy, cx
        scaled = np.array([1.0, 1.0, 1.0, 1.0, amplitude, amplitude, amplitude])
        residual = h - g[:, :4].copy() @ linear  # sum b (v - model)
        step = _solve(g * np.outer(scaled, scaled), residual * scaled)
        length = math.sqrt(step[4] ** 2 + step[5] ** 2)
        y += step[4] * min(1.0, 1.0 / max(length, 1e-12))
        x += step[5] * min(1.0, 1.0 / max(length, 1e-12))
        fitted = min(max(fitted + min(max(step[6], -1.0), 1.0), 0.5), outer - 1.0)
        if (y - cy) ** 2 + (x - cx) ** 2 > radius * radius or not (
            -0.5 <= y <= image.shape[0] - 0.5 and -0.5 <= x <= image.shape[1] - 0.5
        ):
            return cy, cx
        if length < tolerance:
            break
    return y, x


def flat_disc_radius(refined):
    """The radius (px) of the flat disc whose standard deviation peaks at the std search's
    radius (`refine_paper`'s radius + 1 px): that radius over sqrt(2)."""
    return (np.asarray(refined, np.float64) + 1.0) / np.sqrt(2.0)


@njit(cache=True, nogil=True)
def fit_discs(image, ys, xs, radii, edge, reach, iterations, tolerance, gain, floor):
    """`_fit_disc` of every spot (ys, xs px, starting disc radii px), each without the pixels
    within its neighbours' discs grown by 1 px, weighted by the noise model (`gain` counts per
    electron, 0 for equal weights; `floor` counts^2) of `image`'s counts: the fitted centres
    y, x."""
    n = ys.shape[0]
    out_y, out_x = np.empty(n), np.empty(n)
    others = np.empty((n, 3))
    for k in range(n):
        m = 0
        for i in range(n):
            apart = math.sqrt((ys[i] - ys[k]) ** 2 + (xs[i] - xs[k]) ** 2)
            if i != k and apart < radii[k] + reach + radii[i] + 2.0:
                others[m, 0], others[m, 1], others[m, 2] = ys[i], xs[i], (radii[i] + 1.0) ** 2
                m += 1
        out_y[k], out_x[k] = _fit_disc(
            image,
            ys[k],
            xs[k],
            radii[k],
            edge,
            reach,
            iterations,
            tolerance,
            others[:m],
            gain,
            floor,
        )
    return out_y, out_x


@njit(cache=True, nogil=True)
def refine_epattern_v4(blurred, rows, cols, boxes):
    """ePattern v4 compatibility: 5 centre-of-mass iterations in a square box of the blurred
    frame."""
    n = rows.shape[0]
    n_rows, n_cols = blurred.shape
    ys, xs = np.empty(n), np.empty(n)
    for k in range(n):
        cy, cx = float(rows[k]), float(cols[k])
        half = boxes[k] / 2.0
        for _ in range(5):
            r0, r1 = max(0, int(round(cy - half))), min(n_rows - 1, int(round(cy + half)))
            c0, c1 = max(0, int(round(cx - half))), min(n_cols - 1, int(round(cx + half)))
            s = sy = sx = 0.0
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    v = blurred[r, c]
                    s += v
                    sy += v * r
                    sx += v * c
            if s > 0:
                cy, cx = sy / s, sx / s
        ys[k], xs[k] = cy, cx
    return ys, xs


@njit(cache=True, nogil=True)
def measure(image, raw, ys, xs, radii, saturation):
    """Per spot: mean, standard deviation, integrated and peak of `image` in the disc (coverage-
    weighted); flags border / saturated."""
    n = ys.shape[0]
    rows, cols = image.shape
    mean, std, integrated, peak = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    flags = np.zeros(n, dtype=np.int32)
    for k in range(n):
        sw, s, s2 = _disc_moments(image, ys[k], xs[k], radii[k])
        mean[k] = s / sw if sw > 0 else 0.0
        std[k] = math.sqrt(max(s2 / sw - mean[k] ** 2, 0.0)) if sw > 0 else 0.0
        integrated[k] = s
        reach = radii[k] + 0.5
        if (
            ys[k] - reach < -0.5
            or xs[k] - reach < -0.5
            or ys[k] + reach > rows - 0.5
            or xs[k] + reach > cols - 0.5
        ):
            flags[k] |= FLAG_BORDER
        best = -np.inf
        r0, r1, c0, c1 = _window(image.shape, ys[k], xs[k], reach)
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r - ys[k]) ** 2 + (c - xs[k]) ** 2 <= reach**2:
                    best = max(best, image[r, c])
                    if raw[r, c] >= saturation:
                        flags[k] |= FLAG_SATURATED
        peak[k] = best
    return mean, std, integrated, peak, flags


def neighbour_limits(rows, cols, r_start: float) -> np.ndarray:
    """r_start clipped to half the distance to the nearest other peak (at least 1 px)."""
    points = np.stack([rows, cols], axis=1).astype(float)
    if len(points) < 2:
        return np.full(len(points), float(r_start))
    distance, _ = cKDTree(points).query(points, k=2)
    return np.clip(np.minimum(r_start, distance[:, 1] / 2.0), 1.0, None)
