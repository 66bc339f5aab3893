"""Settings of per-frame registration (mirror `registration` in config/schema)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ..settings import ConfigSection

NOISE_METHODS = ("poisson", "corners", "annulus")
DETECTION_METHODS = ("prominence", "matched")
BACKGROUND_METHODS = ("rolling_ball", "sliding_paraboloid", "none")
REFINE_MODES = ("paper", "epattern-v4")
REFINE_IMAGES = ("frame", "subtracted")  # what the "paper" centroid is taken on, above its pedestal


@dataclasses.dataclass(frozen=True)
class RegistrationSettings(ConfigSection):
    """Parameters of per-frame registration; lengths in px, thresholds in counts."""

    SECTION: ClassVar[str] = "registration"
    CHOICES: ClassVar[dict[str, tuple]] = {
        "detection": DETECTION_METHODS,
        "noise": NOISE_METHODS,
        "background": BACKGROUND_METHODS,
        "refine": REFINE_MODES,
        "refine_on": REFINE_IMAGES,
    }

    detection: str = "matched"
    matched_radius: float | str = "auto"  # px, or "auto": measured (register.measured)
    matched_bin: int | str = "auto"  # px: blocks summed before the matched filter, or "auto"
    significance: float = 4.0
    false_discovery: float = 0.05
    gain: float | None = None  # counts per electron; None: a dataset's (register.measured)
    noise: str = "poisson"
    noise_annulus: tuple[float, float] = (0.8, 1.0)
    background: str = "rolling_ball"
    background_radius: float = 20.0
    presmooth: bool = True
    clamp: bool = True
    blur_sigma: float = 2.0
    prominence_k: float = 1.0
    prominence_floor: float = 0.0
    strict: bool = True
    exclude_edges: bool = False
    n_spots_max: int = 150
    refine: str = "paper"
    refine_on: str = "frame"
    r_start: float = 10.0
    radius_smooth: float = 1.0
    tolerance: float = 1e-3
    max_iter: int = 50
    fit_edge: float = 0.75  # px: the edge of the disc fitted after the refinement; 0: none
    direct_beam_search: float = 0.1

    def __post_init__(self):
        super().__post_init__()
        radius = self.matched_radius
        if radius != "auto" and (isinstance(radius, (str, bool)) or not radius > 0):
            raise ValueError(f"registration matched_radius {radius!r} is not 'auto' nor > 0 px")
        if not self.fit_edge >= 0:
            raise ValueError(f"registration fit_edge {self.fit_edge!r} is not >= 0 px")
        block = self.matched_bin
        if block != "auto" and (isinstance(block, (str, bool, float)) or not block >= 1):
            raise ValueError(
                f"registration matched_bin {block!r} is not 'auto' nor an integer >= 1"
            )


def paper_registration(settings: RegistrationSettings) -> RegistrationSettings:
    """`settings` registering as the paper does (method.md §3.3-3.5): prominence maxima above
    the frame corners' noise, positions from the iterated centroid without the disc fit."""
    return dataclasses.replace(settings, detection="prominence", noise="corners", fit_edge=0.0)
