"""The score of an orientation against a pattern's spots, and its refinement below the bank's step.

A candidate orientation q0 comes with the lab vectors G0 (m, 3) of the phase's reflections near
the Ewald sphere at q0, and their |F|^2. At a small lab rotation v (rotation vector, rad:
v_z in-plane, v_x and v_y tilts) and a calibration scale c, reflection j lies at g_j =
G0_j @ matrix(v), on the detector at (g_x, g_y) / c, with the weight t_j = (|F|^2 x shape
factor(g_j))^gamma, its excitation re-computed from the 3D vector (`crystal.excitation`), and
the relrod width b times the library's, and so its excitation cutoff (a nuisance parameter: the
width follows the thickness).
With the Gaussian kernel K(a, b) = exp(-|a - b|^2 / 2 tolerance^2), the score is the cosine of
the two weighted point sets blurred by it,

    S = sum_ij w_i t_j K(p_i, g_j / c) / (|w| |t|),  |w|^2 = sum_ii' w_i w_i' K(p_i, p_i'),
    |t|^2 = sum_jj' t_j t_j' K(g_j / c, g_j' / c),

over the spots p_i (weights w_i) and the reflections within the radial window: at most 1 (K
is positive definite), 1 when the two sets coincide, lowered by spots no reflection explains
(in |w|) and reflections no spot shows (in |t|); two spots closer than the tolerance count as
one blob, whichever reflection explains them. Each reflection only meets the spots and the
reflections within 3 tolerances plus the largest refinement moves (`links`). The refinement
maximises S by Nelder-Mead over (v, ln c, ln b).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..crystal.excitation import is_excited, shape_of
from .rotations import from_vector, matrix

MOVE = 0.03  # 1/Å: the largest move of a reflection a refinement is expected to make
WIDTH_RANGE = 4.0  # a free relrod width stays within this factor of the library's
LN_WIDTH_RANGE = math.log(WIDTH_RANGE)
N_PARAMETERS = 5  # (v_x, v_y, v_z, ln c, ln b)
EXPLAINED = 2.0  # tolerances: a spot this near an excited reflection counts as explained


@njit(cache=True, nogil=True)
def pairs(points, g0, reach):
    """CSR (offsets (m + 1), point indices) of the `points` (n, 2) within `reach` (1/Å) of each
    reflection's detector position at the starting orientation."""
    m, n = g0.shape[0], points.shape[0]
    offsets = np.zeros(m + 1, np.int64)
    found = np.empty(m * n, np.int64)
    k = 0
    for j in range(m):
        for i in range(n):
            if (points[i, 0] - g0[j, 0]) ** 2 + (points[i, 1] - g0[j, 1]) ** 2 <= reach * reach:
                found[k] = i
                k += 1
        offsets[j + 1] = k
    return offsets, found[:k]


@njit(cache=True, nogil=True)
def links(spots, weight, g0, tolerance, move):
    """What the score of a candidate needs besides the parameters: the spots near each
    reflection and the reflections near each reflection (`pairs`, within 3 tolerances plus the
    largest move `move` of each), and the spots' norm |w| (see the module)."""
    spot_offsets, spot_found = pairs(spots, g0, 3.0 * tolerance + move)
    near_offsets, near_found = pairs(g0[:, :2], g0, 3.0 * tolerance + 2.0 * move)
    inv2 = 0.5 / (tolerance * tolerance)
    w2 = 0.0
    for i in range(spots.shape[0]):
        for k in range(spots.shape[0]):
            d2 = (spots[i, 0] - spots[k, 0]) ** 2 + (spots[i, 1] - spots[k, 1]) ** 2
            w2 += weight[i] * weight[k] * math.exp(-d2 * inv2)
    return spot_offsets, spot_found, near_offsets, near_found, math.sqrt(w2)


@njit(cache=True, nogil=True)
def placed(x, g0, structure, physics, gamma):
    """Detector positions (m, 2) 1/Å and weights t (m,) of the reflections at parameters x =
    (v_x, v_y, v_z, ln c, ln b): the relrod width and the excitation cutoff both b times those
    of `physics` = (1/lambda, precession rad, width, model, closed form, azimuths, s_max), 0 for
    the reflections not excited within the cutoff."""
    rot = matrix(from_vector(x[:3]))
    scale = math.exp(x[3])
    radius, precession = physics[0], physics[1]
    width, cutoff = physics[2] * math.exp(x[4]), physics[6] * math.exp(x[4])
    model, closed, azimuths = int(physics[3]), physics[4] != 0.0, int(physics[5])
    m = g0.shape[0]
    position = np.empty((m, 2))
    weight = np.empty(m)
    for j in range(m):
        gx = g0[j, 0] * rot[0, 0] + g0[j, 1] * rot[1, 0] + g0[j, 2] * rot[2, 0]
        gy = g0[j, 0] * rot[0, 1] + g0[j, 1] * rot[1, 1] + g0[j, 2] * rot[2, 1]
        gz = g0[j, 0] * rot[0, 2] + g0[j, 1] * rot[1, 2] + g0[j, 2] * rot[2, 2]
        position[j, 0], position[j, 1] = gx / scale, gy / scale
        if is_excited(gx, gy, gz, radius, precession, cutoff):
            shape = shape_of(gx, gy, gz, radius, precession, width, model, closed, azimuths)
            weight[j] = (structure[j] * shape) ** gamma
        else:
            weight[j] = 0.0
    return position, weight


@njit(cache=True, nogil=True)
def score(x, spots, weight, g0, structure, found, physics, gamma, tolerance, window, floor):
    """S at parameters x (see the module); `found` from `links`; `window` = (r_min, r_max) 1/Å;
    `floor` the weight, as a fraction of the strongest reflection's, below which a reflection
    would give no detectable spot and counts neither way."""
    spot_offsets, spot_found, near_offsets, near_found, w_norm = found
    position, t = placed(x, g0, structure, physics, gamma)
    inv2 = 0.5 / (tolerance * tolerance)
    rho = np.hypot(position[:, 0], position[:, 1])
    counted = (rho >= window[0]) & (rho <= window[1])
    strongest = np.max(t * counted) if t.shape[0] else 0.0
    counted &= t >= floor * strongest
    total, t2 = 0.0, 0.0
    for j in range(g0.shape[0]):
        if not counted[j]:
            continue
        for k in range(spot_offsets[j], spot_offsets[j + 1]):
            i = spot_found[k]
            dx, dy = spots[i, 0] - position[j, 0], spots[i, 1] - position[j, 1]
            total += weight[i] * t[j] * math.exp(-(dx * dx + dy * dy) * inv2)
        for k in range(near_offsets[j], near_offsets[j + 1]):
            other = near_found[k]
            if counted[other]:
                dx, dy = position[other, 0] - position[j, 0], position[other, 1] - position[j, 1]
                t2 += t[other] * t[j] * math.exp(-(dx * dx + dy * dy) * inv2)
    if t2 <= 0.0 or w_norm == 0.0:
        return 0.0
    return total / (w_norm * math.sqrt(t2))


@njit(cache=True, nogil=True)
def _bounded(
    x, spots, weight, g0, structure, found, physics, gamma, tolerance, window, floor, bound
):
    """`score`, and -1 (worse than any) beyond `bound` rad of rotation or a relrod width
    beyond a factor `WIDTH_RANGE` of the library's."""
    if x[0] * x[0] + x[1] * x[1] + x[2] * x[2] > bound * bound or abs(x[4]) > LN_WIDTH_RANGE:
        return -1.0
    return score(x, spots, weight, g0, structure, found, physics, gamma, tolerance, window, floor)


@njit(cache=True, nogil=True)
def refine(
    spots,
    weight,
    g0,
    structure,
    physics,
    gamma,
    tolerance,
    window,
    floor,
    starts,
    free,
    step,
    bound,
    evaluations,
):
    """Nelder-Mead over the parameters `free` (indices into (v_x, v_y, v_z, ln c, ln b)) from
    the best of the trial `starts` (k, 5), with initial steps `step` (5,), the rotation kept
    within `bound` rad of the candidate (a refinement stays in its basin), at most
    `evaluations` scores besides the starts'; returns (x (5,), S)."""
    found = links(spots, weight, g0, tolerance, MOVE)
    args = (
        spots,
        weight,
        g0,
        structure,
        found,
        physics,
        gamma,
        tolerance,
        window,
        floor,
        bound,
    )
    start, best = 0, -np.inf
    for k in range(starts.shape[0]):
        value = _bounded(starts[k], *args)
        if value > best:
            start, best = k, value
    n_params = free.shape[0]
    simplex = np.empty((n_params + 1, N_PARAMETERS))
    simplex[:] = starts[start]
    values = np.empty(n_params + 1)
    for k in range(1, n_params + 1):
        simplex[k, free[k - 1]] += step[free[k - 1]]
    for k in range(n_params + 1):
        values[k] = -_bounded(simplex[k], *args)
    used = n_params + 1
    while used < evaluations:
        order = np.argsort(values)
        simplex, values = simplex[order], values[order]
        if values[-1] - values[0] < 1e-10 and np.max(np.abs(simplex - simplex[0])) < 1e-5:
            break
        centroid = np.zeros(N_PARAMETERS)
        for k in range(n_params):
            centroid += simplex[k] / n_params
        reflected = centroid + (centroid - simplex[-1])
        f_reflected = -_bounded(reflected, *args)
        used += 1
        if f_reflected < values[0]:
            expanded = centroid + 2.0 * (centroid - simplex[-1])
            f_expanded = -_bounded(expanded, *args)
            used += 1
            if f_expanded < f_reflected:
                simplex[-1], values[-1] = expanded, f_expanded
            else:
                simplex[-1], values[-1] = reflected, f_reflected
        elif f_reflected < values[-2]:
            simplex[-1], values[-1] = reflected, f_reflected
        else:
            inside = f_reflected >= values[-1]
            target = simplex[-1] if inside else reflected
            contracted = centroid + 0.5 * (target - centroid)
            f_contracted = -_bounded(contracted, *args)
            used += 1
            if f_contracted < min(f_reflected, values[-1]):
                simplex[-1], values[-1] = contracted, f_contracted
            else:
                for k in range(1, n_params + 1):
                    simplex[k] = simplex[0] + 0.5 * (simplex[k] - simplex[0])
                    values[k] = -_bounded(simplex[k], *args)
                used += n_params
    k = np.argmin(values)
    return simplex[k].copy(), -values[k]


@njit(cache=True, nogil=True)
def nearest(position, t, spots, window):
    """Per spot (n, 2, 1/Å): the index of the nearest reflection (detector positions (m, 2) and
    weights t, as `placed` gives them) that is excited and inside the radial `window`, -1
    where there is none, and its squared distance (inf where none)."""
    shown = np.empty(position.shape[0], np.bool_)
    for j in range(position.shape[0]):
        rho = math.hypot(position[j, 0], position[j, 1])
        shown[j] = t[j] > 0.0 and window[0] <= rho <= window[1]
    index = np.full(spots.shape[0], -1, np.int64)
    closest = np.full(spots.shape[0], np.inf)
    for i in range(spots.shape[0]):
        for j in range(position.shape[0]):
            d2 = (spots[i, 0] - position[j, 0]) ** 2 + (spots[i, 1] - position[j, 1]) ** 2
            if shown[j] and d2 < closest[i]:
                index[i], closest[i] = j, d2
    return index, closest


@njit(cache=True, nogil=True)
def fit(position, t, spots, weight, tolerance, window):
    """At the reflections (positions, weights t, `placed`): the number of spots within
    `EXPLAINED` tolerances of their `nearest`, and their weighted RMS distance to it (1/Å; NaN
    with none)."""
    _, closest = nearest(position, t, spots, window)
    reach2 = (EXPLAINED * tolerance) ** 2
    matched, total, weights = 0, 0.0, 0.0
    for i in range(spots.shape[0]):
        if closest[i] <= reach2:
            matched += 1
            total += weight[i] * closest[i]
            weights += weight[i]
    return matched, math.sqrt(total / weights) if weights > 0 else np.nan
