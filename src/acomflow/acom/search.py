"""The coarse search: every beam direction of a bank at every in-plane angle, mirror included.

Spots and template reflections are taken in polar form on the detector plane: radius r (1/Å) and
angle (rad, anticlockwise from the lab's x). A template reflection at (rho, alpha), turned
anticlockwise by theta, lies at (rho, alpha + theta); mirrored (x -> -x, `rotations.MIRROR`) and
then turned, at (rho, pi - alpha + theta); angles are rounded to `n_bins` bins. Every
spot-reflection pair whose radii agree within 3 `tolerance` (found by walking both lists in order
of radius) votes for the in-plane angle that superposes them, weighted by both weights and a
Gaussian of the radial mismatch. A direction's score is its best bin plus the higher neighbour
of it, over the product of the two weight norms.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .rotations import MIRROR, about_z, distance, multiply, positive


@njit(cache=True, nogil=True)
def coarse_search(radius, angle, weight, offsets, rho, alpha, strength, norms, tolerance, n_bins):
    """Per direction and mirror (0: none, 1: mirrored), the best normalised vote `score`
    (directions, 2) and its in-plane bin `best` (directions, 2). `radius`, `angle`, `weight`: the
    spots, sorted by radius; `offsets` (directions + 1): each direction's reflections in `rho`,
    `alpha`, `strength`, by radius within a direction; `norms`: each direction's weight norm
    (0: nothing to match)."""
    n_directions, n_spots = offsets.shape[0] - 1, radius.shape[0]
    score = np.zeros((n_directions, 2))
    best = np.zeros((n_directions, 2), dtype=np.int64)
    spot_norm = math.sqrt(np.sum(weight * weight))
    if spot_norm == 0.0:
        return score, best
    per_radian = n_bins / (2.0 * math.pi)
    spot_bins = np.round(angle * per_radian).astype(np.int64) % n_bins
    reflection_bins = np.round(alpha * per_radian).astype(np.int64) % n_bins
    half_turn = n_bins // 2
    reach = 3.0 * tolerance
    inv2 = 0.5 / (tolerance * tolerance)
    hist = np.zeros(2 * n_bins)
    touched = np.empty(2 * n_spots * max(1, np.max(np.diff(offsets))), np.int64)
    for d in range(n_directions):
        if norms[d] == 0.0:
            continue
        n_touched, lo = 0, 0
        top0, top1, bin0, bin1 = 0.0, 0.0, 0, 0
        for j in range(offsets[d], offsets[d + 1]):
            while lo < n_spots and radius[lo] < rho[j] - reach:
                lo += 1
            i = lo
            while i < n_spots and radius[i] <= rho[j] + reach:
                dr = radius[i] - rho[j]
                vote = weight[i] * strength[j] * math.exp(-dr * dr * inv2)
                turned = spot_bins[i] - reflection_bins[j]
                turned += n_bins if turned < 0 else 0
                mirrored = spot_bins[i] + reflection_bins[j] - half_turn
                mirrored += n_bins if mirrored < 0 else 0
                mirrored -= n_bins if mirrored >= n_bins else 0
                hist[turned] += vote
                hist[n_bins + mirrored] += vote
                if hist[turned] > top0:
                    top0, bin0 = hist[turned], turned
                if hist[n_bins + mirrored] > top1:
                    top1, bin1 = hist[n_bins + mirrored], mirrored
                touched[n_touched] = turned
                touched[n_touched + 1] = n_bins + mirrored
                n_touched += 2
                i += 1
        for m, k in ((0, bin0), (1, bin1)):
            # a solution between two bins shares its votes: the best bin and its higher neighbour
            row = m * n_bins
            side = max(hist[row + (k + 1) % n_bins], hist[row + (k - 1) % n_bins])
            score[d, m] = (hist[row + k] + side) / (spot_norm * norms[d])
            best[d, m] = k
        for t in range(n_touched):
            hist[touched[t]] = 0.0
    return score, best


@njit(cache=True, nogil=True)
def distinct_candidates(score, best, n_bins, directions, symmetry, distinct, n):
    """The orientations (k <= n, 4) of the best-scoring (direction, mirror) pairs of a search,
    best first, each more than `distinct` rad from those before it (symmetry reduced), and their
    scores (k,): a direction's quaternion, mirrored (`rotations.MIRROR`) if so, then turned
    anticlockwise by its best in-plane bin."""
    step = 2.0 * math.pi / n_bins
    flat = score.ravel()
    order = np.argsort(-flat, kind="mergesort")
    chosen = np.empty((n, 4))
    scores = np.empty(n)
    k = 0
    for index in order:
        if k == n or flat[index] <= 0.0:
            break
        direction, mirrored = index // 2, index % 2
        q = directions[direction]
        if mirrored:
            q = multiply(q, MIRROR)
        q = positive(multiply(q, about_z(-best[direction, mirrored] * step)))
        apart = True
        for c in range(k):
            if distance(chosen[c], q, symmetry) <= distinct:
                apart = False
                break
        if apart:
            chosen[k], scores[k] = q, flat[index]
            k += 1
    return chosen[:k], scores[:k]
