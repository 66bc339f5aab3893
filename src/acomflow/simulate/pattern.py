"""One diffraction pattern: expected electrons per pixel and the truth of every spot in it.

Electrons are shared between the direct beam, Bragg spots, a diffuse halo and amorphous rings
according to the region and thickness t in [0, 1] of the scan position:
  crystal:   Bragg  bragg_fraction * (1 - exp(-2.5 t)),  rings (support film) film_fraction * t
  amorphous: rings  ring_fraction * (1 - exp(-2.5 t)),   no Bragg spots
  vacuum:    direct beam only (2 % halo for the beam tail)
and a halo of halo_fraction * (0.3 + t) outside vacuum; in a liquid cell, everywhere,
liquid_fraction * w into water's diffuse scattering (w the water thickness, 0.5..1.5): a broad
ring at WATER_RING 1/Å and its small-angle tail; the direct beam takes the rest.
Integrated SNR of a spot: S / sqrt(S + B), with S its electrons and B the expected diffuse
electrons plus the read-noise and (integer dtypes) rounding variances, in electrons^2, inside its
disc (pi r^2 px).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from .render import add_discs, disc_area, halo, radial_distance, ring
from .sample import AMORPHOUS, CRYSTAL, VACUUM, Sample
from .settings import SyntheticSettings

# Water's first structure-factor peak (q = 2.0 1/Å, s = q / 2 pi) and its width (sigma), 1/Å;
# 30 % of its scattering in a small-angle tail of WATER_TAIL 1/Å.
WATER_RING = (0.32, 0.07)
WATER_TAIL = 0.15


@dataclasses.dataclass
class Pattern:
    expected: np.ndarray  # (K, K) float64 expected electrons per pixel
    spots: dict  # column name -> (n,) array; the direct beam first


def _fractions(settings: SyntheticSettings, region: int, t: float) -> tuple[float, float, float]:
    """(halo, rings, Bragg) fractions of the frame's electrons."""
    if region == VACUUM:
        return 0.02, 0.0, 0.0
    grow = 1.0 - math.exp(-2.5 * t)
    halo_f = settings.halo_fraction * (0.3 + t)
    if region == AMORPHOUS:
        return halo_f, settings.ring_fraction * grow, 0.0
    return halo_f, settings.film_fraction * t, settings.bragg_fraction * grow


def render_pattern(sample: Sample, settings: SyntheticSettings, y: int, x: int) -> Pattern:
    """Expected electrons of the frame at scan position (y, x) and its spots' truth."""
    size = settings.frame_size
    region, t, dose = (
        int(sample.region[y, x]),
        float(sample.thickness[y, x]),
        float(sample.dose[y, x]),
    )
    cy, cx = float(sample.centre_y[y, x]), float(sample.centre_x[y, x])
    halo_f, ring_f, bragg_f = _fractions(settings, region, t)

    rho = radial_distance((size, size), cy, cx)
    diffuse = dose * halo_f * halo(rho, size / 12.0)
    if ring_f > 0:
        rings = 0.65 * ring(rho, 0.17 * size, 0.025 * size) + 0.35 * ring(
            rho, 0.30 * size, 0.035 * size
        )
        diffuse += dose * ring_f * rings
    liquid_f = settings.liquid_fraction * float(sample.water[y, x])
    if liquid_f > 0:
        d = settings.inv_angstrom_per_px
        water = 0.7 * ring(rho, WATER_RING[0] / d, WATER_RING[1] / d) + 0.3 * halo(
            rho, WATER_TAIL / d
        )
        diffuse += dose * liquid_f * water

    db_radius = float(np.clip(settings.direct_beam_radius * settings.scale, 2.0, 8.0))
    parts = [
        dict(
            x=[cx],
            y=[cy],
            radius=[db_radius],
            electrons=[dose * (1.0 - halo_f - ring_f - bragg_f - liquid_f)],
            grain=[-1],
            h=[0],
            k=[0],
            l=[0],
            is_direct_beam=[True],
        )
    ]
    if region == CRYSTAL:
        for grain, weight in (
            (sample.grain[y, x], sample.mix[y, x]),
            (sample.grain2[y, x], 1.0 - sample.mix[y, x]),
        ):
            if grain < 0 or weight <= 0:
                continue
            g = sample.grains[grain]
            n = len(g.weights)
            parts.append(
                dict(
                    x=cx + g.offsets[:, 0],
                    y=cy + g.offsets[:, 1],
                    radius=np.full(n, g.radius),
                    electrons=dose * bragg_f * weight * g.weights,
                    grain=np.full(n, grain),
                    h=g.hkl[:, 0],
                    k=g.hkl[:, 1],
                    l=g.hkl[:, 2],
                    is_direct_beam=np.zeros(n, bool),
                )
            )
    spots = {key: np.concatenate([np.asarray(p[key]) for p in parts]) for key in parts[0]}

    expected = diffuse.copy()
    add_discs(
        expected,
        spots["x"],
        spots["y"],
        spots["radius"],
        spots["electrons"],
        settings.edge_sigma,
        settings.supersample,
    )

    disc = math.pi * spots["radius"] ** 2
    row = np.clip(np.rint(spots["y"]).astype(int), 0, size - 1)
    col = np.clip(np.rint(spots["x"]).astype(int), 0, size - 1)
    rounding = (
        1.0 / (12.0 * detector_gain(settings) ** 2)
        if settings.storage_dtype().kind in "ui"
        else 0.0
    )
    spots["background"] = diffuse[row, col] * disc + (settings.read_noise**2 + rounding) * disc
    spots["snr"] = spots["electrons"] / np.sqrt(spots["electrons"] + spots["background"])
    return Pattern(expected=expected, spots=spots)


def detector_gain(settings: SyntheticSettings) -> float:
    """Counts per electron such that the vacuum direct beam at the nominal dose peaks at
    `direct_beam_overexposure` x the saturation level (so the beam is partly saturated)."""
    db_radius = float(np.clip(settings.direct_beam_radius * settings.scale, 2.0, 8.0))
    peak_electrons = settings.dose * 0.98 / disc_area(db_radius, settings.edge_sigma)
    return settings.saturation_level * settings.direct_beam_overexposure / peak_electrons


@functools.lru_cache(maxsize=4)
def detector_defects(frame_size: int, seed: int, dead: float, hot: float):
    """Flat indices of the dead and of the hot pixels (fractions `dead` and `hot` of the
    frame), drawn once for a scan."""
    n = frame_size**2
    n_dead, n_hot = round(dead * n), round(hot * n)
    chosen = np.random.default_rng([seed, 2]).choice(n, n_dead + n_hot, replace=False)
    return chosen[:n_dead], chosen[n_dead:]


def record_frame(
    expected: np.ndarray, settings: SyntheticSettings, gain: float, rng: np.random.Generator
) -> np.ndarray:
    """Detector counts: gain x (Poisson electrons + Gaussian read noise), clipped at 0 and at
    saturation, rounded for integer dtypes; dead pixels at 0, hot ones at half the saturation
    level."""
    electrons = expected
    if settings.noise:
        electrons = rng.poisson(expected) + rng.normal(0.0, settings.read_noise, expected.shape)
    counts = np.clip(electrons * gain, 0.0, settings.saturation_level)
    dtype = settings.storage_dtype()
    if dtype.kind in "ui":
        counts = np.rint(counts)
    if settings.dead_pixel_fraction or settings.hot_pixel_fraction:
        dead, hot = detector_defects(
            settings.frame_size,
            settings.seed,
            settings.dead_pixel_fraction,
            settings.hot_pixel_fraction,
        )
        counts.flat[dead] = 0.0
        counts.flat[hot] = np.rint(settings.saturation_level / 2)
    return counts.astype(dtype)


def blank_frame(settings: SyntheticSettings, gain: float, rng: np.random.Generator) -> np.ndarray:
    """A frame recorded with the beam blanked: read noise only."""
    return record_frame(np.zeros((settings.frame_size,) * 2), settings, gain, rng)
