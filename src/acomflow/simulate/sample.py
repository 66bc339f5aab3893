"""The synthetic sample: grains (random 2D reciprocal lattices, or crystal phases at known
orientations, `crystals`), amorphous and vacuum regions, thickness, the water layer of a liquid
cell, dose and the descan of the direct beam, drawn once per dataset from its seed.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..crystal.phase import Phase
from .crystals import crystal_grains
from .grain import Grain, draw_spot_radius
from .settings import SyntheticSettings

VACUUM, AMORPHOUS, CRYSTAL = 0, 1, 2
REGION_NAMES = {VACUUM: "vacuum", AMORPHOUS: "amorphous", CRYSTAL: "crystal"}


@dataclasses.dataclass(frozen=True)
class Sample:
    """Per-scan-position maps (ny, nx) and the grains; centres are (y, x) in frame px."""

    grains: list[Grain]
    region: np.ndarray
    grain: np.ndarray
    grain2: np.ndarray
    mix: np.ndarray
    thickness: np.ndarray
    water: np.ndarray
    dose: np.ndarray
    centre_y: np.ndarray
    centre_x: np.ndarray
    descan: dict


def _lattice(settings: SyntheticSettings, rng: np.random.Generator) -> Grain:
    """A grain: random 2D reciprocal lattice, Wilson-like |F|^2 with extinctions, |g| envelope."""
    size = settings.frame_size
    a_len = rng.uniform(*(length * settings.scale for length in settings.lattice_spacing))
    b_len = a_len * rng.uniform(0.8, 1.4)
    gamma, phi = np.deg2rad(rng.uniform(60.0, 120.0)), rng.uniform(0.0, 2.0 * np.pi)
    basis = np.array(
        [[math.cos(phi), math.sin(phi)], [math.cos(phi + gamma), math.sin(phi + gamma)]]
    )
    basis *= np.array([[a_len], [b_len]])
    g_max = 0.46 * size
    span = int(math.ceil(g_max / (min(a_len, b_len) * math.sin(gamma)))) + 1
    h, k = np.meshgrid(np.arange(-span, span + 1), np.arange(-span, span + 1), indexing="ij")
    hk = np.stack([h.ravel(), k.ravel()], axis=1)
    offsets = hk @ basis
    keep = (np.hypot(*offsets.T) <= g_max) & np.any(hk != 0, axis=1)
    hk, offsets = hk[keep], offsets[keep]
    # Friedel pairs share |F|^2 (exponential, Wilson statistics); 15 % are extinct.
    key = np.where((hk[:, 0] > 0) | ((hk[:, 0] == 0) & (hk[:, 1] > 0)), 1, -1)[:, None] * hk
    _, pair = np.unique(key, axis=0, return_inverse=True)
    pair = pair.ravel()
    f2 = rng.exponential(1.0, pair.max() + 1) * (rng.random(pair.max() + 1) > 0.15)
    weights = f2[pair] * np.exp(-((np.hypot(*offsets.T) / (0.3 * size)) ** 2))
    keep = weights > 0
    radius = draw_spot_radius(settings, rng)
    return Grain(
        hkl=np.column_stack([hk[keep], np.zeros(int(keep.sum()), dtype=hk.dtype)]),
        offsets=offsets[keep],
        weights=weights[keep] / weights[keep].sum(),
        radius=radius,
    )


def _smooth_field(shape, rng: np.random.Generator, n_waves: int = 3) -> np.ndarray:
    """A smooth random field over the scan, scaled to [0, 1]."""
    yy, xx = np.meshgrid(np.linspace(0, 1, shape[0]), np.linspace(0, 1, shape[1]), indexing="ij")
    field = np.zeros(shape)
    for _ in range(n_waves):
        ky, kx = rng.uniform(-1.5, 1.5, 2) * 2 * np.pi
        field += np.cos(ky * yy + kx * xx + rng.uniform(0, 2 * np.pi))
    span = np.ptp(field)
    return (field - field.min()) / span if span > 0 else np.full(shape, 0.5)


def _voronoi(shape, seeds: np.ndarray, width: float):
    """Nearest and second-nearest grain per position and the weight of the nearest.

    The weight is 1 beyond `width` scan steps from the cell boundary and falls linearly to 0.5
    on it, so patterns mix across grain boundaries.
    """
    if len(seeds) == 1:  # a single crystal: no boundary
        return np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64), np.ones(shape)
    yy, xx = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    d2 = (yy[..., None] - seeds[:, 0]) ** 2 + (xx[..., None] - seeds[:, 1]) ** 2
    order = np.argsort(d2, axis=-1, kind="stable")
    first, second = order[..., 0], order[..., 1]
    gap = (
        np.take_along_axis(d2, order[..., 1:2], -1)[..., 0]
        - np.take_along_axis(d2, order[..., :1], -1)[..., 0]
    )
    separation = np.linalg.norm(seeds[first] - seeds[second], axis=-1)
    distance = gap / (2.0 * separation)  # from the perpendicular bisector, in scan steps
    mix = np.clip(0.5 + distance / (2.0 * width), 0.5, 1.0)
    return first, second, mix


def build_sample(settings: SyntheticSettings, phases: dict[str, Phase] | None = None) -> Sample:
    """Draw the sample for `settings` (deterministic in settings.seed); `phases` holds every
    phase settings.phases names."""
    rng = np.random.default_rng([settings.seed, 0])
    ny, nx = settings.scan_shape
    # The 2D lattices are drawn in any case, so that a seed's regions, thickness and dose do
    # not depend on what fills the grains.
    lattices = [_lattice(settings, rng) for _ in range(settings.n_grains)]
    grains = crystal_grains(settings, phases or {}) if settings.phases else lattices
    seeds = rng.uniform([0, 0], [ny, nx], size=(settings.n_grains, 2))
    grain, grain2, mix = _voronoi((ny, nx), seeds, settings.boundary_width)

    yy, xx = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    edge = (xx + 0.5) / nx + 0.06 * np.sin(2 * np.pi * 1.3 * yy / ny + rng.uniform(0, 2 * np.pi))
    vacuum = edge > 1.0 - settings.vacuum_fraction
    centre = rng.uniform([0.25 * ny, 0.2 * nx], [0.75 * ny, 0.5 * nx])
    aspect = rng.uniform(0.6, 1.6)
    semi = math.sqrt(settings.amorphous_fraction * ny * nx / math.pi)
    inside = (semi > 0) & (
        ((yy - centre[0]) / max(semi * aspect, 1e-9)) ** 2
        + ((xx - centre[1]) / max(semi / aspect, 1e-9)) ** 2
        <= 1.0
    )
    region = np.where(vacuum, VACUUM, np.where(inside, AMORPHOUS, CRYSTAL)).astype(np.int8)

    thickness = np.where(region == VACUUM, 0.0, 0.25 + 0.75 * _smooth_field((ny, nx), rng))
    dose = settings.dose * (1.0 - settings.dose_variation * thickness)

    frame_centre = (settings.frame_size - 1) / 2.0
    descan = {
        "centre_y0": frame_centre + rng.uniform(-2, 2) * settings.scale,
        "centre_x0": frame_centre + rng.uniform(-2, 2) * settings.scale,
        # px per scan step, so that the full scan wanders by about `descan` px
        "dy_dscan_y": rng.uniform(-1, 1) * settings.descan / max(ny - 1, 1),
        "dy_dscan_x": rng.uniform(-1, 1) * settings.descan / max(nx - 1, 1),
        "dx_dscan_y": rng.uniform(-1, 1) * settings.descan / max(ny - 1, 1),
        "dx_dscan_x": rng.uniform(-1, 1) * settings.descan / max(nx - 1, 1),
    }
    centre_y = descan["centre_y0"] + descan["dy_dscan_y"] * yy + descan["dy_dscan_x"] * xx
    centre_x = descan["centre_x0"] + descan["dx_dscan_y"] * yy + descan["dx_dscan_x"] * xx
    crystal = region == CRYSTAL
    # Drawn last, so that a seed's sample without liquid does not change.
    water = 0.5 + _smooth_field((ny, nx), rng) if settings.liquid_fraction > 0 else yy * 0.0
    return Sample(
        grains=grains,
        region=region,
        grain=np.where(crystal, grain, -1),
        grain2=np.where(crystal & (mix < 1.0), grain2, -1),
        mix=np.where(crystal, mix, 0.0),
        thickness=thickness,
        water=water,
        dose=dose,
        centre_y=centre_y,
        centre_x=centre_x,
        descan=descan,
    )
