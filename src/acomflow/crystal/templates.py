"""Kinematic spot templates of a phase at an orientation (method.md §9).

Orientation convention (orix's and diffsims'): an orientation is a rotation R (orix `Rotation`,
its matrix `R.to_matrix()`) taking the crystal's Cartesian frame to the lab frame as
g_lab = g_crystal @ R (row vectors), i.e. g_lab = R^T g_crystal. The beam travels along -z of
the lab frame (`excitation`); the detector sees the lab's x to the right (increasing column)
and y up (decreasing row): a spot at (gx, gy) 1/Å lies at column cx + gx / d, row cy - gy / d
for a calibration of d 1/Å per px and the direct beam at (cy, cx).

A template keeps each reflection's Miller indices, its 3D lab vector, |F|^2, excitation error
and intensity, so that it can be recomputed at any nearby rotation.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..calibration import electron_wavelength_angstrom
from .excitation import excitation_errors, excited, shape_factors
from .reflections import Reflections


@dataclasses.dataclass(frozen=True)
class DiffractionSettings:
    """The acquisition and the relrod model: beam energy (keV), precession angle (deg), the
    largest excitation error a spot may have at some point of the precession (1/Å), the relrod
    width (1/Å; None: `s_max`), the shape model, and whether a Lorentzian is averaged over the
    precession in closed form (else numerically, over `azimuths`)."""

    beam_energy_kev: float = 200.0
    precession_deg: float = 1.0
    s_max: float = 0.03
    width: float | None = None
    model: str = "lorentzian"
    closed_form: bool = True
    azimuths: int = 720

    @property
    def wavelength(self) -> float:
        """Relativistic electron wavelength (Å)."""
        return electron_wavelength_angstrom(self.beam_energy_kev)


@dataclasses.dataclass(frozen=True, eq=False)
class Template:
    """The excited reflections of one orientation: `hkl` (n, 3), `g` (n, 3) lab frame 1/Å
    (detector-plane coordinates g[:, 0], g[:, 1]), `structure` |F|^2 (Å^2), `s` the excitation
    error without precession (1/Å) and `intensity` = |F|^2 x the (precessed) shape factor."""

    hkl: np.ndarray
    g: np.ndarray
    structure: np.ndarray
    s: np.ndarray
    intensity: np.ndarray


def excite(g: np.ndarray, settings: DiffractionSettings):
    """Which lab-frame points `g` (n, 3) are excited (`keep`, (n,) bool) and, for those, the
    excitation error without precession `s` (1/Å) and the (precessed) shape factor."""
    wavelength, precession = settings.wavelength, math.radians(settings.precession_deg)
    keep = excited(g, wavelength, precession, settings.s_max)
    g = g[keep]
    shape = shape_factors(
        g,
        wavelength,
        precession,
        settings.width or settings.s_max,
        settings.model,
        settings.closed_form,
        settings.azimuths,
    )
    return keep, excitation_errors(g, wavelength), shape


def template(
    reflections: Reflections, rotation: np.ndarray, settings: DiffractionSettings
) -> Template:
    """The template of `reflections` at the orientation matrix `rotation` (3, 3), as above."""
    g = reflections.g @ np.asarray(rotation, dtype=np.float64)
    keep, s, shape = excite(g, settings)
    structure = reflections.intensity[keep]
    return Template(reflections.hkl[keep], g[keep], structure, s, structure * shape)
