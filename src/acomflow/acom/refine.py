"""The score of an orientation against a pattern's spots, and its refinement below the bank's step.

A candidate orientation q0 comes with the lab vectors G0 (m, 3) of the phase's reflections near
the Ewald sphere at q0, and their |F|^2. At a small lab rotation v (rotation vector, rad:
v_z in-plane, v_x and v_y tilts) and a calibration scale c, reflection j lies at g_j =
G0_j @ matrix(v), on the detector at (g_x, g_y) / c, with the weight t_j = (|F|^2 x shape
factor(g_j))^gamma, its excitation re-computed from the 3D vector (`crystal.excitation`). The
score is

    S = sum_ij w_i t_j exp(-|p_i - g_j / c|^2 / 2 tolerance^2) / (|w| |t|)

over the spots p_i (weights w_i) and the reflections within the radial window: 1 when the two
weighted point sets coincide, lowered by spots no reflection explains (in |w|) and reflections
no spot shows (in |t|). Each reflection only meets the spots within 3 tolerances plus the
largest refinement move (`pairs`). The refinement maximises S by Nelder-Mead over (v, ln c).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..crystal.excitation import is_excited, shape_of
from .rotations import from_vector, matrix

MOVE = 0.03  # 1/Å: the largest move of a reflection a refinement is expected to make


@njit(cache=True, nogil=True)
def pairs(spots, g0, reach):
    """CSR (offsets (m + 1), spot indices) of the spots within `reach` (1/Å) of each
    reflection's detector position at the starting orientation."""
    m, n = g0.shape[0], spots.shape[0]
    offsets = np.zeros(m + 1, np.int64)
    found = np.empty(m * n, np.int64)
    k = 0
    for j in range(m):
        for i in range(n):
            if (spots[i, 0] - g0[j, 0]) ** 2 + (spots[i, 1] - g0[j, 1]) ** 2 <= reach * reach:
                found[k] = i
                k += 1
        offsets[j + 1] = k
    return offsets, found[:k]


@njit(cache=True, nogil=True)
def placed(x, g0, structure, physics, gamma):
    """Detector positions (m, 2) 1/Å and weights t (m,) of the reflections at parameters x =
    (v_x, v_y, v_z, ln c), 0 for those not excited within the bank's s_max (as in the bank).
    `physics` = (1/lambda, precession rad, width, model, closed form, azimuths, s_max)."""
    rot = matrix(from_vector(x[:3]))
    scale = math.exp(x[3])
    radius, precession, width = physics[0], physics[1], physics[2]
    model, closed, azimuths = int(physics[3]), physics[4] != 0.0, int(physics[5])
    m = g0.shape[0]
    position = np.empty((m, 2))
    weight = np.empty(m)
    for j in range(m):
        gx = g0[j, 0] * rot[0, 0] + g0[j, 1] * rot[1, 0] + g0[j, 2] * rot[2, 0]
        gy = g0[j, 0] * rot[0, 1] + g0[j, 1] * rot[1, 1] + g0[j, 2] * rot[2, 1]
        gz = g0[j, 0] * rot[0, 2] + g0[j, 1] * rot[1, 2] + g0[j, 2] * rot[2, 2]
        position[j, 0], position[j, 1] = gx / scale, gy / scale
        if is_excited(gx, gy, gz, radius, precession, physics[6]):
            shape = shape_of(gx, gy, gz, radius, precession, width, model, closed, azimuths)
            weight[j] = (structure[j] * shape) ** gamma
        else:
            weight[j] = 0.0
    return position, weight


@njit(cache=True, nogil=True)
def score(
    x, spots, weight, g0, structure, offsets, found, physics, gamma, tolerance, window, floor
):
    """S at parameters x (see the module); `window` = (r_min, r_max) 1/Å; `floor` the weight, as
    a fraction of the strongest reflection's, below which a reflection would give no detectable
    spot and counts neither way."""
    position, t = placed(x, g0, structure, physics, gamma)
    inv2 = 0.5 / (tolerance * tolerance)
    rho = np.hypot(position[:, 0], position[:, 1])
    inside = (rho >= window[0]) & (rho <= window[1])
    strongest = np.max(t * inside) if t.shape[0] else 0.0
    total, t_norm = 0.0, 0.0
    for j in range(g0.shape[0]):
        if not inside[j] or t[j] < floor * strongest:
            continue
        t_norm += t[j] * t[j]
        for k in range(offsets[j], offsets[j + 1]):
            i = found[k]
            dx, dy = spots[i, 0] - position[j, 0], spots[i, 1] - position[j, 1]
            total += weight[i] * t[j] * math.exp(-(dx * dx + dy * dy) * inv2)
    w_norm = math.sqrt(np.sum(weight * weight))
    if t_norm == 0.0 or w_norm == 0.0:
        return 0.0
    return min(1.0, total / (w_norm * math.sqrt(t_norm)))


@njit(cache=True, nogil=True)
def _bounded(
    x, spots, weight, g0, structure, offsets, found, physics, gamma, tolerance, window, floor, bound
):
    """`score`, and -1 (worse than any) beyond `bound` rad of rotation."""
    if x[0] * x[0] + x[1] * x[1] + x[2] * x[2] > bound * bound:
        return -1.0
    return score(
        x, spots, weight, g0, structure, offsets, found, physics, gamma, tolerance, window, floor
    )


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
    n_params,
    step,
    bound,
    evaluations,
):
    """Nelder-Mead over the first `n_params` of (v_x, v_y, v_z, ln c) from 0 with initial steps
    `step` (4,), the rotation kept within `bound` rad of the start (a refinement stays in its
    candidate's basin), at most `evaluations` scores; returns (x (4,), S)."""
    offsets, found = pairs(spots, g0, 3.0 * tolerance + MOVE)
    args = (
        spots,
        weight,
        g0,
        structure,
        offsets,
        found,
        physics,
        gamma,
        tolerance,
        window,
        floor,
        bound,
    )
    simplex = np.zeros((n_params + 1, 4))
    values = np.empty(n_params + 1)
    for k in range(1, n_params + 1):
        simplex[k, k - 1] = step[k - 1]
    for k in range(n_params + 1):
        values[k] = -_bounded(simplex[k], *args)
    used = n_params + 1
    while used < evaluations:
        order = np.argsort(values)
        simplex, values = simplex[order], values[order]
        if values[-1] - values[0] < 1e-10 and np.max(np.abs(simplex - simplex[0])) < 1e-5:
            break
        centroid = np.zeros(4)
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
def fit(x, spots, weight, g0, structure, physics, gamma, tolerance, window):
    """At parameters x: the number of spots within 2 tolerances of a reflection of the window,
    and their weighted RMS distance to the nearest one (1/Å; NaN with none)."""
    position, t = placed(x, g0, structure, physics, gamma)
    matched, total, weights = 0, 0.0, 0.0
    for i in range(spots.shape[0]):
        nearest = np.inf
        for j in range(g0.shape[0]):
            rho = math.hypot(position[j, 0], position[j, 1])
            if rho < window[0] or rho > window[1]:
                continue
            d2 = (spots[i, 0] - position[j, 0]) ** 2 + (spots[i, 1] - position[j, 1]) ** 2
            nearest = min(nearest, d2)
        if nearest <= 4.0 * tolerance * tolerance:
            matched += 1
            total += weight[i] * nearest
            weights += weight[i]
    return matched, math.sqrt(total / weights) if weights > 0 else np.nan
