"""Excitation errors, relrod shape factors and beam precession (method.md §9).

Lab frame: the beam travels along -z, the Ewald sphere of radius 1/lambda passes through the
origin of reciprocal space with its centre at (0, 0, 1/lambda), tilted on a cone of half-angle
phi (the precession angle) about z during precession. The excitation error of a point g = (x, y, z)
(1/Å) is the sphere's height above the point's projection minus the point's height,
s = z_sphere(x, y) - z: positive for a point below the sphere, as diffsims defines it.

Shape factors weigh a reflection by its excitation error against a relrod width w (1/Å): each
model is 1 at s = 0. The precessed shape factor is the mean over the precession circle.
"""

from __future__ import annotations

import math

import numpy as np

SHAPE_MODELS = ("lorentzian", "gaussian", "linear")


def excitation_errors(g: np.ndarray, wavelength: float) -> np.ndarray:
    """s (1/Å) of lab-frame points `g` (n, 3) without precession."""
    radius = 1.0 / wavelength
    rho2 = g[:, 0] ** 2 + g[:, 1] ** 2
    return radius - np.sqrt(radius * radius - rho2) - g[:, 2]


def excited(g: np.ndarray, wavelength: float, precession: float, s_max: float) -> np.ndarray:
    """Whether each lab-frame point comes within `s_max` (1/Å) of the sphere at some azimuth of
    the precession (angle `precession`, rad): the sphere's height over a point at distance rho
    from the axis ranges over its heights at rho - r sin(phi) and rho + r sin(phi)."""
    radius = 1.0 / wavelength
    rho = np.hypot(g[:, 0], g[:, 1])
    centre_z, offset = radius * math.cos(precession), radius * math.sin(precession)
    low = centre_z - np.sqrt(radius * radius - (rho - offset) ** 2)
    high = centre_z - np.sqrt(radius * radius - (rho + offset) ** 2)
    return (g[:, 2] - s_max <= high) & (g[:, 2] + s_max >= low)


def shape_factor(s: np.ndarray, width: float, model: str = "lorentzian") -> np.ndarray:
    """The relrod weight of excitation errors `s` (1/Å): "lorentzian" 1 / (1 + (pi s / w)^2)
    (the two-beam rocking curve of a slab of thickness 1/w, Palatinus et al. 2019, eq. 6),
    "gaussian" of the same half width at half maximum, w / pi, "linear" max(0, 1 - |s| / w)
    (ASTAR's fall-off)."""
    s = np.asarray(s, dtype=np.float64)
    if model == "lorentzian":
        return 1.0 / (1.0 + (math.pi * s / width) ** 2)
    if model == "gaussian":
        return np.exp(-math.log(2.0) * (math.pi * s / width) ** 2)
    if model == "linear":
        return np.clip(1.0 - np.abs(s) / width, 0.0, None)
    raise ValueError(f"shape model {model!r} is not one of {SHAPE_MODELS}")


def precessed_shape_factor(
    g: np.ndarray,
    wavelength: float,
    precession: float,
    width: float,
    model: str = "lorentzian",
    azimuths: int = 720,
) -> np.ndarray:
    """The shape factor of lab-frame points `g` (n, 3) averaged over `azimuths` equally spaced
    positions of the precessing sphere (exact geometry), precession angle in rad."""
    radius = 1.0 / wavelength
    theta = (np.arange(azimuths) + 0.5) * (2.0 * math.pi / azimuths)
    cx = radius * math.sin(precession) * np.cos(theta)
    cy = radius * math.sin(precession) * np.sin(theta)
    lateral2 = (g[:, :1] - cx) ** 2 + (g[:, 1:2] - cy) ** 2
    s = radius * math.cos(precession) - np.sqrt(radius * radius - lateral2) - g[:, 2:3]
    return shape_factor(s, width, model).mean(axis=1)


def lorentzian_precessed(
    s: np.ndarray, rho: np.ndarray, precession: float, width: float
) -> np.ndarray:
    """The Lorentzian shape factor averaged over the precession circle in closed form, the
    excitation error taken as s + rho phi cos(theta) around the circle (Palatinus et al. 2019,
    eq. 10, divided by 2 / w so that it is a mean): `s` without precession (1/Å), `rho` the
    distance from the beam axis (1/Å), `precession` in rad."""
    sigma = math.pi / width
    s, rho = np.asarray(s, dtype=np.float64), np.asarray(rho, dtype=np.float64)
    u = sigma**2 * (rho**2 * precession**2 - s**2) + 1.0
    z = np.sqrt(u**2 + 4.0 * sigma**2 * s**2)
    return np.sqrt(2.0 * (u + z)) / (2.0 * z)
