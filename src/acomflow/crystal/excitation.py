"""Excitation errors, relrod shape factors and beam precession (method.md §9).

Lab frame: the beam travels along -z, the Ewald sphere of radius 1/lambda passes through the
origin of reciprocal space with its centre at (0, 0, 1/lambda), tilted on a cone of half-angle
phi (the precession angle) about z during precession. The excitation error of a point g = (x, y, z)
(1/Å) is the sphere's height above the point's projection minus the point's height,
s = z_sphere(x, y) - z: positive for a point below the sphere, as diffsims defines it.

Shape factors weigh a reflection by its excitation error against a relrod width w (1/Å): each
model is 1 at s = 0. The precessed shape factor is the mean over the precession circle.

The formulas are compiled scalar functions, so that the same code serves the matcher's compiled
refinement and, through the array functions at the end, banks and templates; a model is passed
to them by its index in `SHAPE_MODELS`. They are plain `njit` functions, not cached ufuncs:
numba caches a ufunc's kernel and its wrapper in two files, and two processes compiling them at
once can leave a wrapper that calls a kernel symbol the other file does not hold (a segfault).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .shapes import SHAPE_MODELS

LN2 = math.log(2.0)


def model_code(model: str) -> int:
    """The index of a shape model, the form the compiled functions take it in."""
    if model not in SHAPE_MODELS:
        raise ValueError(f"shape model {model!r} is not one of {SHAPE_MODELS}")
    return SHAPE_MODELS.index(model)


@njit(cache=True, nogil=True)
def excitation_error(gx, gy, gz, radius):
    """s (1/Å) of the lab-frame point (gx, gy, gz) for a sphere of radius 1/lambda (1/Å)."""
    return radius - math.sqrt(radius * radius - gx * gx - gy * gy) - gz


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def lorentzian_precessed(s, rho, precession, width):
    """The Lorentzian shape factor averaged over the precession circle in closed form, the
    excitation error taken as s + rho phi cos(theta) around the circle (Palatinus et al. 2019,
    eq. 10, divided by 2 / w so that it is a mean): `s` without precession (1/Å), `rho` the
    distance from the beam axis (1/Å), `precession` in rad."""
    sigma = math.pi / width
    u = sigma * sigma * (rho * rho * precession * precession - s * s) + 1.0
    z = math.sqrt(u * u + 4.0 * sigma * sigma * s * s)
    return math.sqrt(2.0 * (u + z)) / (2.0 * z)


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def shape_of(gx, gy, gz, radius, precession, width, model, closed_form, azimuths):
    """The (precessed) shape factor of the lab-frame point (gx, gy, gz): the relrod weight
    without precession, the closed-form Lorentzian mean, or the numerical mean."""
    s = excitation_error(gx, gy, gz, radius)
    if precession == 0.0:
        return relrod(s, width, model)
    if closed_form and model == 0:
        return lorentzian_precessed(s, math.hypot(gx, gy), precession, width)
    return precessed_relrod(gx, gy, gz, radius, precession, width, model, azimuths)


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def _errors(g, radius):
    out = np.empty(g.shape[0])
    for i in range(g.shape[0]):
        out[i] = excitation_error(g[i, 0], g[i, 1], g[i, 2], radius)
    return out


@njit(cache=True, nogil=True)
def _excited(g, radius, precession, s_max):
    out = np.empty(g.shape[0], dtype=np.bool_)
    for i in range(g.shape[0]):
        out[i] = is_excited(g[i, 0], g[i, 1], g[i, 2], radius, precession, s_max)
    return out


@njit(cache=True, nogil=True)
def _shapes(g, radius, precession, width, model, closed_form, azimuths):
    out = np.empty(g.shape[0])
    for i in range(g.shape[0]):
        out[i] = shape_of(
            g[i, 0], g[i, 1], g[i, 2], radius, precession, width, model, closed_form, azimuths
        )
    return out


def _points(g: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(g, dtype=np.float64).reshape(-1, 3))


def excitation_errors(g: np.ndarray, wavelength: float) -> np.ndarray:
    """s (1/Å) of lab-frame points `g` (n, 3) without precession."""
    return _errors(_points(g), 1.0 / wavelength)


def excited(g: np.ndarray, wavelength: float, precession: float, s_max: float) -> np.ndarray:
    """`is_excited` of lab-frame points `g` (n, 3), precession angle in rad."""
    return _excited(_points(g), 1.0 / wavelength, float(precession), float(s_max))


def shape_factors(
    g: np.ndarray,
    wavelength: float,
    precession: float,
    width: float,
    model: str = "lorentzian",
    closed_form: bool = False,
    azimuths: int = 720,
) -> np.ndarray:
    """`shape_of` of lab-frame points `g` (n, 3), precession angle in rad, relrod width in 1/Å."""
    return _shapes(
        _points(g),
        1.0 / wavelength,
        float(precession),
        float(width),
        model_code(model),
        bool(closed_form),
        int(azimuths),
    )
