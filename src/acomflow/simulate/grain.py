"""A grain of the synthetic sample: its spots as offsets from the direct beam."""

from __future__ import annotations

import dataclasses

import numpy as np

from .settings import SyntheticSettings


@dataclasses.dataclass(frozen=True)
class Grain:
    """One crystal: its reflections as (dx, dy) px offsets from the direct beam (x along columns,
    y along rows); a crystal phase's grain also has its name and orientation."""

    hkl: np.ndarray  # (n, 3) int indices (l = 0 for a 2D lattice, g = h a* + k b*)
    offsets: np.ndarray  # (n, 2) float, columns (dx, dy) px
    weights: np.ndarray  # (n,) relative kinematic intensities, summing to 1
    radius: float  # spot radius, px
    phase: str | None = None
    quaternion: np.ndarray | None = None  # (4,) unit quaternion, orix's convention


def draw_spot_radius(settings: SyntheticSettings, rng: np.random.Generator) -> float:
    """A grain's spot radius (px): uniform in `spot_radius` (at 256 px), scaled, within 2-8 px."""
    low, high = settings.spot_radius
    return float(np.clip(rng.uniform(low, high) * settings.scale, 2.0, 8.0))
