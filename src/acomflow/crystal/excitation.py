"""Excitation errors, relrod shape factors and beam precession (method.md §9).

Lab frame: the beam travels along -z, the Ewald sphere of radius 1/lambda passes through the
origin of reciprocal space with its centre at (0, 0, 1/lambda), tilted on a cone of half-angle
phi (the precession angle) about z during precession. The excitation error of a point g = (x, y, z)
(1/Å) is the sphere's height above the point's projection minus the point's height,
s = z_sphere(x, y) - z: positive for a point below the sphere, as diffsims defines it.

Shape factors weigh a reflection by its excitation error against a relrod width w (1/Å): each
model is 1 at s = 0. The precessed shape factor is the mean over the precession circle.

The formulas are numba ufuncs, so that the same code serves arrays (banks, the generator) and
compiled loops (the matcher's refinement); a model is passed to them by its index in
`SHAPE_MODELS`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import vectorize

SHAPE_MODELS = ("lorentzian", "gaussian", "linear")
LN2 = math.log(2.0)


def model_code(model: str) -> int:
    """The index of a shape model, the form the ufuncs take it in."""
    if model not in SHAPE_MODELS:
        raise ValueError(f"shape model {model!r} is not one of {SHAPE_MODELS}")
    return SHAPE_MODELS.index(model)


@vectorize(["float64(float64, float64, float64, float64)"], cache=True)
def excitation_error(gx, gy, gz, radius):
    """s (1/Å) of the lab-frame point (gx, gy, gz) for a sphere of radius 1/lambda (1/Å)."""
    return radius - math.sqrt(radius * radius - gx * gx - gy * gy) - gz


@vectorize(["float64(float64, float64, int64)"], cache=True)
def relrod(s, width, model):
    """The relrod weight of an excitation error `s` (1/Å): model 0 (lorentzian)
    1 / (1 + (pi s / w)^2) (the two-beam rocking curve of a slab of thickness 1/w, Palatinus et
    al. 2019, eq. 6), 1 (gaussian) of the same half width at half maximum, w / pi, 2 (linear)
    max(0, 1 - |s| / w) (ASTAR's fall-off)."""
    x = math.pi * s / width
    if model == 0:
        return 1.0 / (1.0 + x * x)
    if model == 1:
        return math.exp(-LN2 * x * x)
    return max(0.0, 1.0 - abs(s) / width)


@vectorize(["float64(float64, float64, float64, float64)"], cache=True)
def lorentzian_precessed(s, rho, precession, width):
    """The Lorentzian shape factor averaged over the precession circle in closed form, the
    excitation error taken as s + rho phi cos(theta) around the circle (Palatinus et al. 2019,
    eq. 10, divided by 2 / w so that it is a mean): `s` without precession (1/Å), `rho` the
    distance from the beam axis (1/Å), `precession` in rad."""
    sigma = math.pi / width
    u = sigma * sigma * (rho * rho * precession * precession - s * s) + 1.0
    z = math.sqrt(u * u + 4.0 * sigma * sigma * s * s)
    return math.sqrt(2.0 * (u + z)) / (2.0 * z)


@vectorize(
    ["float64(float64, float64, float64, float64, float64, float64, int64, int64)"], cache=True
)
def precessed_relrod(gx, gy, gz, radius, precession, width, model, azimuths):
    """The relrod weight of the lab-frame point (gx, gy, gz) averaged over `azimuths` equally
    spaced positions of the precessing sphere (exact geometry), precession angle in rad."""
    total = 0.0
    lateral = radius * math.sin(precession)
    height = radius * math.cos(precession)
    for i in range(azimuths):
        theta = (i + 0.5) * (2.0 * math.pi / azimuths)
        dx, dy = gx - lateral * math.cos(theta), gy - lateral * math.sin(theta)
        s = height - math.sqrt(radius * radius - dx * dx - dy * dy) - gz
        total += relrod(s, width, model)
    return total / azimuths


@vectorize(
    ["float64(float64, float64, float64, float64, float64, float64, int64, boolean, int64)"],
    cache=True,
)
def shape_of(gx, gy, gz, radius, precession, width, model, closed_form, azimuths):
    """The (precessed) shape factor of the lab-frame point (gx, gy, gz): the relrod weight
    without precession, the closed-form Lorentzian mean, or the numerical mean."""
    s = excitation_error(gx, gy, gz, radius)
    if precession == 0.0:
        return relrod(s, width, model)
    if closed_form and model == 0:
        return lorentzian_precessed(s, math.hypot(gx, gy), precession, width)
    return precessed_relrod(gx, gy, gz, radius, precession, width, model, azimuths)


def excitation_errors(g: np.ndarray, wavelength: float) -> np.ndarray:
    """s (1/Å) of lab-frame points `g` (n, 3) without precession."""
    return excitation_error(g[:, 0], g[:, 1], g[:, 2], 1.0 / wavelength)


@vectorize(["boolean(float64, float64, float64, float64, float64, float64)"], cache=True)
def is_excited(gx, gy, gz, radius, precession, s_max):
    """Whether the lab-frame point (gx, gy, gz) comes within `s_max` (1/Å) of the sphere (radius
    1/lambda) at some azimuth of the precession (angle `precession`, rad): the sphere's height
    over a point at distance rho from the axis ranges over its heights at rho - r sin(phi) and
    rho + r sin(phi)."""
    rho = math.hypot(gx, gy)
    centre_z, offset = radius * math.cos(precession), radius * math.sin(precession)
    low = centre_z - math.sqrt(radius * radius - (rho - offset) ** 2)
    high = centre_z - math.sqrt(radius * radius - (rho + offset) ** 2)
    return gz - s_max <= high and gz + s_max >= low


def excited(g: np.ndarray, wavelength: float, precession: float, s_max: float) -> np.ndarray:
    """`is_excited` of lab-frame points `g` (n, 3), precession angle in rad."""
    return is_excited(g[:, 0], g[:, 1], g[:, 2], 1.0 / wavelength, precession, s_max)


def shape_factor(s: np.ndarray, width: float, model: str = "lorentzian") -> np.ndarray:
    """The relrod weight (`relrod`) of excitation errors `s` (1/Å) for a model named in
    `SHAPE_MODELS`."""
    return relrod(np.asarray(s, dtype=np.float64), width, model_code(model))


def precessed_shape_factor(
    g: np.ndarray,
    wavelength: float,
    precession: float,
    width: float,
    model: str = "lorentzian",
    azimuths: int = 720,
) -> np.ndarray:
    """`precessed_relrod` of lab-frame points `g` (n, 3), precession angle in rad."""
    g = np.asarray(g, dtype=np.float64)
    return precessed_relrod(
        g[:, 0], g[:, 1], g[:, 2], 1.0 / wavelength, precession, width, model_code(model), azimuths
    )
