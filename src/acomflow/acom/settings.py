"""Settings of the orientation matcher (mirror `matching` in config/schema)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ..settings import ConfigSection


@dataclasses.dataclass(frozen=True)
class MatchSettings(ConfigSection):
    """How registered spots are matched (method.md §10): patterns with at least `min_spots`
    diffracted spots are matched; spots and template reflections count from `min_g` (1/Å), or
    beyond the direct beam, to the frame's edge (or the bank's g_max); a spot weighs its
    integrated intensity to the power `intensity_exponent`, times min(1, significance /
    `full_weight_significance`) where that is positive (significance: prominence over the
    pattern's noise; off by default: it biases the intensities the tilt is read from); spot and
    template positions agree within a Gaussian of `tolerance` (1/Å); the in-plane angle is
    searched in steps of `in_plane_step_deg`; the best `candidates` distinct solutions of each
    phase (more than `distinct_deg` apart) are refined below the bank's step, with the
    calibration's scale free if `refine_scale`, at the relrod width `relrod_width`: `measured`
    on the dataset (one per phase, from up to `width_patterns` patterns of at least 8 spots:
    `acom.relrod`), `per_pattern` (refined for each pattern of at least 8 spots) or the
    `bank`'s; the spots undistorted by the calibration's elliptical distortion, or by one
    `measured` on the same patterns (`distortion`, `acom.distortion`)."""

    SECTION: ClassVar[str] = "matching"
    CHOICES: ClassVar[dict[str, tuple]] = {
        "relrod_width": ("measured", "per_pattern", "bank"),
        "distortion": ("calibration", "measured"),
    }

    min_spots: int = 3
    min_g: float = 0.1
    intensity_exponent: float = 0.5
    full_weight_significance: float = 0.0
    tolerance: float = 0.012
    in_plane_step_deg: float = 1.0
    candidates: int = 3
    distinct_deg: float = 5.0
    refine: bool = True
    refine_scale: bool = False
    relrod_width: str = "measured"
    width_patterns: int = 200
    distortion: str = "calibration"
