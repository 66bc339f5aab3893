"""Calibration: scan step and reciprocal pixel size in the pipeline's units, from any file's axes.

Units used everywhere downstream: scan step in nm, reciprocal pixel size in 1/Å per detector
pixel, camera length in mm, beam energy in keV; detector directions in degrees from the x axis
(right) towards the y axis (down), as an image shows them.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np

_LENGTH_NM = {
    "m": 1e9,
    "cm": 1e7,
    "mm": 1e6,
    "um": 1e3,
    "µm": 1e3,
    "μm": 1e3,
    "nm": 1.0,
    "a": 0.1,
    "å": 0.1,
    "pm": 1e-3,
}
_INV_LENGTH_PER_ANGSTROM = {"a": 1.0, "å": 1.0, "nm": 0.1, "pm": 100.0}


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Dataset calibration; None where the source does not say and the config does not set it.

    `distortion_ratio` and `distortion_angle_deg` describe the projector lenses' elliptical
    distortion: a circle of reciprocal space shows as an ellipse `distortion_ratio` (>= 1) times
    longer along `distortion_angle_deg` than across it (`undistortion`)."""

    scan_step_nm: float | None = None
    inv_angstrom_per_px: float | None = None
    camera_length_mm: float | None = None
    beam_energy_kev: float | None = None
    distortion_ratio: float | None = None
    distortion_angle_deg: float | None = None

    def updated(self, **overrides) -> Calibration:
        """A copy with every override that is not None applied (config values win over the
        file's)."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def undistortion(ratio: float | None, angle_deg: float | None) -> np.ndarray:
    """The 2 x 2 map of detector px (x, y) that makes the ellipse of an elliptical distortion
    (`ratio` times longer along `angle_deg` than across) round again, keeping its area: the
    reciprocal pixel size stays that of the geometric mean of the two axes. The identity
    without a ratio."""
    if ratio is None:
        return np.eye(2)
    angle = math.radians(angle_deg or 0.0)
    along = np.array([math.cos(angle), math.sin(angle)])
    across = np.array([-along[1], along[0]])
    return np.outer(along, along) / math.sqrt(ratio) + np.outer(across, across) * math.sqrt(ratio)


def ellipse(undistort: np.ndarray) -> tuple[float, float]:
    """(ratio, angle_deg) of the distortion that the symmetric map `undistort` undoes: a circle
    shows `ratio` (>= 1) times longer along `angle_deg` (from x towards y, y down, in
    [0, 180)) than across: `undistortion`'s inverse."""
    values, vectors = np.linalg.eigh(np.linalg.inv(undistort))
    if values[1] - values[0] < 1e-12:
        return 1.0, 0.0  # round: no direction
    angle = math.degrees(math.atan2(vectors[1, 1], vectors[0, 1])) % 180.0
    return float(values[1] / values[0]), angle


def _clean(units: str | None) -> str:
    """Normalise a units string: drop LaTeX markup, spaces and braces; lower case."""
    text = (units or "").strip().lower()
    return (
        re.sub(r"[\s${}\\]", "", text)
        .replace("mathrm", "")
        .replace("^-1", "⁻¹")
        .replace("**-1", "⁻¹")
    )


def length_to_nm(value: float, units: str | None) -> float | None:
    """A real-space length in nm, or None if `units` is not a length unit."""
    factor = _LENGTH_NM.get(_clean(units))
    return None if factor is None else float(value) * factor


def reciprocal_to_inv_angstrom(value: float, units: str | None) -> float | None:
    """A reciprocal length ('1/nm', 'nm^-1', '$A^{-1}$', '1 / Å', ...) in 1/Å, or None."""
    text = _clean(units)
    match = re.fullmatch(r"1/(\w+)", text) or re.fullmatch(r"(\w+)⁻¹", text)
    if not match:
        return None
    factor = _INV_LENGTH_PER_ANGSTROM.get(match.group(1))
    return None if factor is None else float(value) * factor


def electron_wavelength_angstrom(energy_kev: float) -> float:
    """Relativistic electron wavelength in Å for an accelerating voltage given in keV."""
    volts = energy_kev * 1e3
    return 12.2642584 / math.sqrt(volts * (1.0 + 0.978475e-6 * volts))


def angle_to_inv_angstrom(value_rad: float, energy_kev: float | None) -> float | None:
    """A scattering angle (rad, small-angle) as a reciprocal length in 1/Å, given the beam
    energy."""
    if energy_kev is None:
        return None
    return float(value_rad) / electron_wavelength_angstrom(energy_kev)


def reciprocal_pixel(value: float, units: str | None, energy_kev: float | None) -> float | None:
    """1/Å per pixel from a detector axis given as a reciprocal length or an angle in rad/mrad."""
    text = _clean(units)
    if text in ("rad", "angle"):
        return angle_to_inv_angstrom(value, energy_kev)
    if text == "mrad":
        return angle_to_inv_angstrom(value * 1e-3, energy_kev)
    return reciprocal_to_inv_angstrom(value, units)
