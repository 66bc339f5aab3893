"""Grains of crystal phases at known orientations: each grain's spots are the kinematic template
of its phase at its orientation (`crystal.templates`), drawn on the detector.

Detector convention (method.md §9): a reflection at lab (gx, gy) 1/Å lies at column offset
gx / d and row offset -gy / d from the direct beam, for d 1/Å per px. Every reflection within
the frame's inscribed circle is drawn (the matcher's window ends inside it), except those weaker
than `WEAKEST` of the grain's strongest; the corners stay free of spots, as registration's
noise floor (`register.noise`) reads them.
"""

from __future__ import annotations

import numpy as np

from ..crystal.orientations import random_orientations, rotation_matrices, zone_axis_orientation
from ..crystal.phase import Phase
from ..crystal.reflections import reflections
from ..crystal.templates import DiffractionSettings, template
from .grain import Grain, draw_spot_radius
from .settings import SyntheticSettings

WEAKEST = 1e-3


def diffraction(settings: SyntheticSettings) -> DiffractionSettings:
    """The generator's diffraction model: its beam energy and precession, relrods of
    `relrod_width` (which is also the excitation cutoff) and shape `relrod_model`, averaged
    numerically over the precession."""
    return DiffractionSettings(
        beam_energy_kev=settings.beam_energy_kev,
        precession_deg=settings.precession_deg,
        s_max=settings.relrod_width,
        width=settings.relrod_width,
        model=settings.relrod_model,
        closed_form=False,
    )


def orientations(settings: SyntheticSettings, phases: dict[str, Phase]) -> list[tuple]:
    """(phase name, unit quaternion) of every grain: phases in turn; the first
    `zone_axis_grains` along a zone axis drawn from `zone_axes` at a random in-plane angle, the
    others uniformly random."""
    rng = np.random.default_rng([settings.seed, 3])
    drawn = random_orientations(settings.n_grains, rng)
    grains = []
    for index in range(settings.n_grains):
        name = settings.phases[index % len(settings.phases)]
        if index < settings.zone_axis_grains:
            uvw = settings.zone_axes[int(rng.integers(len(settings.zone_axes)))]
            drawn[index] = zone_axis_orientation(phases[name], uvw, rng.uniform(0.0, 360.0))
        grains.append((name, drawn[index]))
    return grains


def crystal_grains(settings: SyntheticSettings, phases: dict[str, Phase]) -> list[Grain]:
    """The grains of `settings.phases` (every one of them in `phases`) at their orientations."""
    missing = sorted(set(settings.phases) - set(phases))
    if missing:
        raise ValueError(f"synthetic phases {missing} were not given (have {sorted(phases)})")
    d = settings.inv_angstrom_per_px
    reach = settings.frame_size / 2.0  # px: the inscribed circle
    lattices = {name: reflections(phases[name], reach * d) for name in set(settings.phases)}
    model = diffraction(settings)
    rng = np.random.default_rng([settings.seed, 4])
    grains = []
    for name, quaternion in orientations(settings, phases):
        spots = template(lattices[name], rotation_matrices(quaternion)[0], model)
        offsets = np.column_stack([spots.g[:, 0], -spots.g[:, 1]]) / d
        strongest = spots.intensity.max(initial=0.0)
        keep = (np.hypot(*offsets.T) <= reach) & (spots.intensity >= WEAKEST * strongest)
        keep &= spots.intensity > 0  # the strongest is 0 where no reflection is excited
        weights = spots.intensity[keep]
        grains.append(
            Grain(
                hkl=spots.hkl[keep],
                offsets=offsets[keep],
                weights=weights / weights.sum(),
                radius=draw_spot_radius(settings, rng),
                phase=name,
                quaternion=quaternion,
            )
        )
    return grains
