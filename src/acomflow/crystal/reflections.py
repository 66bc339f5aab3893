"""Reciprocal-lattice points of a phase to a largest |g|, and their kinematic structure factors.

g = (h, k, l) @ reciprocal basis, in 1/Å in the crystal's Cartesian frame (`phase`). Electron
scattering factors are International Tables Vol. C table 4.3.2.2's five-Gaussian fits (gemmi's
`c4322`): f(s) = sum_i a_i exp(-b_i s^2) Å, with s = |g| / 2 = sin(theta) / lambda. The structure
factor F(g) = sum_j occ_j f_j(s) exp(-B_j s^2) exp(2 pi i g . r_j) sums over the unit cell's atoms.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from .phase import Phase

EXTINCT = 1e-8  # |F|^2 below this fraction of the largest is a systematic absence


@dataclasses.dataclass(frozen=True, eq=False)
class Reflections:
    """Reciprocal-lattice points: Miller indices (n, 3) int, g (n, 3) 1/Å in the crystal's
    Cartesian frame, and |F|^2 (n,) Å^2."""

    hkl: np.ndarray
    g: np.ndarray
    intensity: np.ndarray

    @property
    def g_length(self) -> np.ndarray:
        return np.linalg.norm(self.g, axis=1)


@functools.cache
def _c4322(element: str) -> tuple[np.ndarray, np.ndarray]:
    import gemmi

    coefficients = np.asarray(gemmi.Element(element).c4322.get_coefs(), dtype=np.float64)
    return coefficients[:5], coefficients[5:]


def scattering_factor(element: str, s: np.ndarray) -> np.ndarray:
    """Electron scattering factor (Å) of a neutral atom at s = sin(theta) / lambda (1/Å)."""
    a, b = _c4322(element)
    s2 = np.asarray(s, dtype=np.float64)[..., None] ** 2
    return (a * np.exp(-b * s2)).sum(axis=-1)


def structure_factors(
    phase: Phase, hkl: np.ndarray, g_length: np.ndarray, scattering=scattering_factor
) -> np.ndarray:
    """Complex kinematic structure factors F (Å) of the reflections `hkl` (n, 3) of |g| `g_length`
    (1/Å); `scattering(element, s)` gives the atoms' scattering factors (Å)."""
    s = np.asarray(g_length, dtype=np.float64) / 2.0
    phases = np.exp(
        2j * math.pi * (np.asarray(hkl, dtype=np.float64) @ phase.positions.T)
    )  # (n, atoms)
    amplitude = np.empty(phases.shape)
    for element in set(phase.elements):
        atoms = np.array([e == element for e in phase.elements])
        amplitude[:, atoms] = np.asarray(scattering(element, s))[:, None]
    amplitude *= phase.occupancies * np.exp(-np.outer(s * s, phase.b_iso))
    return (amplitude * phases).sum(axis=1)


def reflections(phase: Phase, g_max: float, scattering=scattering_factor) -> Reflections:
    """Every reciprocal-lattice point 0 < |g| <= `g_max` (1/Å) that is not a systematic absence,
    ordered by |g| then h, k, l (scattering factors: see `structure_factors`)."""
    basis = phase.reciprocal_basis()
    # |h| <= g_max / (distance between the lattice planes of h), i.e. g_max |a| for h, etc.
    reach = np.ceil(g_max * np.linalg.norm(phase.direct_basis(), axis=1)).astype(int)
    grid = np.stack(np.meshgrid(*(np.arange(-n, n + 1) for n in reach), indexing="ij"), -1).reshape(
        -1, 3
    )
    g = grid @ basis
    length = np.linalg.norm(g, axis=1)
    keep = (length > 0) & (length <= g_max)
    grid, g, length = grid[keep], g[keep], length[keep]
    intensity = np.abs(structure_factors(phase, grid, length, scattering)) ** 2
    present = intensity > EXTINCT * intensity.max(initial=0.0)
    order = np.lexsort(
        (grid[present, 2], grid[present, 1], grid[present, 0], np.round(length[present], 9))
    )
    return Reflections(grid[present][order], g[present][order], intensity[present][order])
