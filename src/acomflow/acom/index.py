"""The correlation index Q on images (Rauch and Dupuy 2005), as ASTAR computes it.

For a frame P and the template of bank direction i turned in-plane by theta (mirror included,
as in `search`), Q = sum_j P(x_j, y_j) T_j / sqrt(sum_j T_j^2) over the template's reflections j
inside the radial window, T_j their weights (intensity^gamma, `library`) and P read at their
detector positions. P is first resampled on a polar grid about the beam centre (rings 0.5 px
apart, `n_bins` angles, bilinear, from the frame's 3 x 3 mean), so that a turned template is a
shift along the angle axis. The solution is the best Q over directions, angles and the mirror;
the reliability R = 100 (1 - Q2/Q1) takes Q2 from the best solution more than `distinct` rad
away (symmetry reduced). Works on any stack of frames: raw, filtered, reconstructed, masked.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numba import njit

from ..kernels import mean3x3
from .library import PhaseLibrary
from .search import distinct_candidates

RING_PX = 0.5  # radial step of the polar grid (px)


@njit(cache=True, nogil=True)
def polar_image(image, centre_y, centre_x, n_rings, n_bins):
    """(n_rings, n_bins) bilinear samples of `image` at radius ring x RING_PX px and angle
    bin x 2 pi / n_bins (anticlockwise from the lab's x: up is decreasing row), 0 outside."""
    rows, cols = image.shape
    polar = np.zeros((n_rings, n_bins))
    for b in range(n_bins):
        angle = b * 2.0 * math.pi / n_bins
        ca, sa = math.cos(angle), math.sin(angle)
        for r in range(n_rings):
            x = centre_x + r * RING_PX * ca
            y = centre_y - r * RING_PX * sa
            x0, y0 = int(math.floor(x)), int(math.floor(y))
            if x0 < 0 or y0 < 0 or x0 + 1 >= cols or y0 + 1 >= rows:
                continue
            fx, fy = x - x0, y - y0
            polar[r, b] = (
                image[y0, x0] * (1 - fx) * (1 - fy)
                + image[y0, x0 + 1] * fx * (1 - fy)
                + image[y0 + 1, x0] * (1 - fx) * fy
                + image[y0 + 1, x0 + 1] * fx * fy
            )
    return polar


@njit(cache=True, nogil=True)
def index_search(polar, offsets, ring, angle_bin, strength, norms):
    """Q per direction and mirror (directions, 2) at its best in-plane bin, and that bin: each
    reflection at polar ring `ring` and angle bin `angle_bin` (of the polar grid)."""
    n_rings, n_bins = polar.shape
    # Each ring twice in a row, so that a turn is a contiguous slice (vectorised, no modulo);
    # single precision doubles the vector width, and Q needs far less than its 1e-7.
    doubled = np.empty((n_rings, 2 * n_bins), dtype=np.float32)
    doubled[:, :n_bins] = polar
    doubled[:, n_bins:] = polar
    n_directions = offsets.shape[0] - 1
    score = np.zeros((n_directions, 2))
    best = np.zeros((n_directions, 2), dtype=np.int64)
    turned_sums = np.zeros(n_bins, dtype=np.float32)
    mirrored_sums = np.zeros(n_bins, dtype=np.float32)
    half_turn = n_bins // 2
    for d in range(n_directions):
        if norms[d] == 0.0:
            continue
        turned_sums[:] = 0.0
        mirrored_sums[:] = 0.0
        for j in range(offsets[d], offsets[d + 1]):
            if ring[j] >= n_rings:
                continue
            values = doubled[ring[j]]
            s = np.float32(strength[j])
            turned = angle_bin[j]
            mirrored = (half_turn - angle_bin[j]) % n_bins
            turned_values = values[turned : turned + n_bins]
            mirrored_values = values[mirrored : mirrored + n_bins]
            for t in range(n_bins):
                turned_sums[t] += s * turned_values[t]
                mirrored_sums[t] += s * mirrored_values[t]
        for m, sums in enumerate((turned_sums, mirrored_sums)):
            k = np.argmax(sums)
            score[d, m], best[d, m] = sums[k] / norms[d], k
    return score, best


@dataclasses.dataclass(frozen=True, eq=False)
class IndexGrid:
    """A library's reflections on the polar grid of a detector (`d` 1/Å per px): each one's
    ring and angle bin, and the rings the grid needs. Built once for a stack of frames."""

    library: PhaseLibrary
    n_bins: int
    n_rings: int
    ring: np.ndarray
    angle_bin: np.ndarray


def index_grid(library: PhaseLibrary, d: float, n_bins: int = 360) -> IndexGrid:
    """The polar grid of `library` at `d` 1/Å per px and `n_bins` (even) angles."""
    if n_bins % 2:
        raise ValueError(f"n_bins must be even (the mirror is a half turn), not {n_bins}")
    return IndexGrid(
        library=library,
        n_bins=n_bins,
        n_rings=int(library.window[1] / d / RING_PX) + 2,
        ring=np.round(library.rho / d / RING_PX).astype(np.int64),
        angle_bin=np.round(library.alpha * n_bins / (2 * math.pi)).astype(np.int64) % n_bins,
    )


def image_index(
    frame: np.ndarray,
    centre: tuple[float, float],
    grid: IndexGrid,
    distinct: float = math.radians(5.0),
) -> dict:
    """Q1, the reliability and the orientation (unit quaternion) of one frame (ky, kx) with its
    beam centre (y, x) px, against the library of `grid`."""
    library = grid.library
    smooth = mean3x3(np.asarray(frame, np.float32))
    polar = polar_image(smooth, *centre, grid.n_rings, grid.n_bins)
    score, best = index_search(
        polar, library.offsets, grid.ring, grid.angle_bin, library.strength, library.norms
    )
    orientations, scores = distinct_candidates(
        score, best, grid.n_bins, library.directions, library.symmetry, distinct, 2
    )
    if len(scores) == 0 or scores[0] <= 0:
        return {"index": 0.0, "reliability": 0.0, "quaternion": np.full(4, np.nan)}
    second = scores[1] if len(scores) > 1 else 0.0
    return {
        "index": float(scores[0]),
        "reliability": 100.0 * (1.0 - second / scores[0]),
        "quaternion": orientations[0],
    }


def index_pattern(frame: np.ndarray, centre: tuple[float, float], grids, distinct: float) -> dict:
    """The image index of one frame against every phase's grid (`index_grid`), as the matcher
    reports a pattern: the phase with the best Q (index into `grids`; -1 where no template
    touches the frame), its orientation, Q, its reliability (`image_index`) and the phase
    reliability, 100 (1 - Q of the best other phase / Q1) (NaN with one phase)."""
    results = [image_index(frame, centre, grid, distinct) for grid in grids]
    scores = [result["index"] for result in results]
    phase = int(np.argmax(scores))
    best = results[phase]
    if best["index"] <= 0:
        return {**best, "phase": -1, "phase_reliability": 0.0}
    others = [score for k, score in enumerate(scores) if k != phase]
    return {
        **best,
        "phase": phase,
        "phase_reliability": 100.0 * (1.0 - max(others) / best["index"]) if others else np.nan,
    }
