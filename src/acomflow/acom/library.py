"""What the matcher holds of one phase: its bank in polar form, its reflections and symmetry.

Built once per job from the bank's two tables (`crystal.bank`) and the phase's CIF, for a
detector whose radial band (1/Å from the beam) bounds the radial window.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from ..crystal.excitation import model_code
from ..crystal.orientations import point_group
from ..crystal.phase import read_cif
from ..crystal.reflections import reflections
from ..crystal.templates import DiffractionSettings
from ..tables import read_metadata
from .rotations import distance
from .settings import MatchSettings

ZONE_MAX_INDEX = 3  # the zone axes [uvw] whose half turns the matcher tries: indices up to 3


@dataclasses.dataclass(frozen=True, eq=False)
class PhaseLibrary:
    """One phase for the matcher. `directions` (D, 4): each bank direction's quaternion;
    `offsets` (D + 1) into `rho` (ascending within a direction), `alpha` (polar position on
    the detector, 1/Å and rad) and `strength` (intensity^gamma) of the reflections inside
    `window` (r_min, r_max, 1/Å); `norms` (D,) their weight norms; `g` (m, 3) and `structure`
    (m,): every reflection to g_max in the crystal frame, for refinement; `symmetry` (k, 4):
    the proper rotations of the Laue group; `physics`: the relrod model as `refine.placed`
    takes it (the bank's, or the width measured on the dataset: `at_width`); `resolution`: the
    bank's step (rad); `zone_turns` (z, 4): `zone_half_turns`."""

    name: str
    directions: np.ndarray
    offsets: np.ndarray
    rho: np.ndarray
    alpha: np.ndarray
    strength: np.ndarray
    norms: np.ndarray
    g: np.ndarray
    structure: np.ndarray
    symmetry: np.ndarray
    physics: np.ndarray
    window: np.ndarray
    resolution: float
    zone_turns: np.ndarray


def physics_of(diffraction: DiffractionSettings) -> np.ndarray:
    """(1/lambda, precession rad, width, model, closed form, azimuths, s_max) of a relrod
    model."""
    return np.array(
        [
            1.0 / diffraction.wavelength,
            math.radians(diffraction.precession_deg),
            diffraction.width or diffraction.s_max,
            model_code(diffraction.model),
            float(diffraction.closed_form),
            diffraction.azimuths,
            diffraction.s_max,
        ]
    )


def at_width(library: PhaseLibrary, width: float) -> PhaseLibrary:
    """`library` with the relrod width `width` (1/Å) and its excitation cutoff in the same
    proportion to it as the bank's."""
    physics = library.physics.copy()
    factor = width / physics[2]
    physics[2] *= factor
    physics[6] *= factor
    return dataclasses.replace(library, physics=physics)


def proper_symmetry(phase) -> np.ndarray:
    """(k, 4) quaternions of the proper rotations of a phase's Laue group (orix)."""
    return np.asarray(point_group(phase).laue.proper_subgroup.data, dtype=np.float64)


def zone_half_turns(phase, symmetry: np.ndarray, max_index: int = ZONE_MAX_INDEX) -> np.ndarray:
    """(z, 4) quaternions of the 180 deg rotations about the lattice directions [uvw] (indices
    up to `max_index`, one of each +-pair, crystal frame) that are not among the proper
    rotations `symmetry`. Turned so about a zone axis, a crystal puts its zero-order Laue zone
    on the same lab points (g -> -g, and Friedel's law): the ambiguity of zero-order patterns."""
    indices = np.arange(-max_index, max_index + 1)
    uvw = np.array([(u, v, w) for u in indices for v in indices for w in indices])
    uvw = uvw[(np.gcd.reduce(np.abs(uvw), axis=1) == 1)]
    uvw = uvw[[tuple(-row) < tuple(row) for row in uvw]]
    axes = uvw @ phase.direct_basis()
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    turns = np.column_stack([np.zeros(len(axes)), axes])
    identity = np.array([1.0, 0.0, 0.0, 0.0])
    keep = [distance(identity, turn, symmetry) > 1e-6 for turn in turns]
    return np.ascontiguousarray(turns[keep])


def load_library(
    name: str, cif, directions_path, spots_path, detector: tuple, settings: MatchSettings
) -> PhaseLibrary:
    """The library of phase `name` from its CIF and bank tables, for a detector that shows spots
    whole between the radii `detector` (1/Å from the beam: beyond the direct beam's disc, inside
    the frame)."""
    metadata = read_metadata(spots_path)
    diffraction = DiffractionSettings(**metadata["parameters"]["diffraction"])
    g_max = metadata["parameters"]["templates"]["g_max"]
    window = np.array([max(settings.min_g, detector[0]), min(g_max, detector[1])])
    directions = pd.read_parquet(directions_path)
    spots = pd.read_parquet(spots_path)
    rho = np.hypot(spots["gx"].to_numpy(np.float64), spots["gy"].to_numpy(np.float64))
    inside = (rho >= window[0]) & (rho <= window[1]) & (spots["intensity"].to_numpy() > 0)
    order = np.lexsort((rho[inside], spots["direction"].to_numpy()[inside]))
    spots, rho = spots[inside].iloc[order], rho[inside][order]
    strength = spots["intensity"].to_numpy(np.float64) ** settings.intensity_exponent
    index = spots["direction"].to_numpy()
    counts = np.bincount(index, minlength=len(directions))
    phase = read_cif(cif, name)
    lattice = reflections(phase, g_max)
    symmetry = proper_symmetry(phase)
    return PhaseLibrary(
        name=name,
        directions=directions[["qw", "qx", "qy", "qz"]].to_numpy(np.float64),
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        rho=rho,
        alpha=np.arctan2(spots["gy"].to_numpy(np.float64), spots["gx"].to_numpy(np.float64)),
        strength=strength,
        norms=np.sqrt(np.bincount(index, weights=strength**2, minlength=len(directions))),
        g=lattice.g,
        structure=lattice.intensity,
        symmetry=symmetry,
        physics=physics_of(diffraction),
        window=window,
        resolution=math.radians(metadata["parameters"]["templates"]["resolution_deg"]),
        zone_turns=zone_half_turns(phase, symmetry),
    )
