"""Settings of beam centring and neighbour averaging (mirror `centring` and
`neighbour_averaging` in config/schema)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ..settings import ConfigSection

CENTRE_REFERENCES = ("plane", "measured")
AVERAGING_SIZES = (1, 3, 5, 7)


@dataclasses.dataclass(frozen=True)
class CentringSettings(ConfigSection):
    """What registration measures x_c, y_c from (the descan plane or each frame's measured
    centre), and the distance (px) beyond which a measured centre is an outlier of the plane."""

    SECTION: ClassVar[str] = "centring"
    CHOICES: ClassVar[dict[str, tuple]] = {"reference": CENTRE_REFERENCES}

    reference: str = "plane"
    outlier_px: float = 0.25


@dataclasses.dataclass(frozen=True)
class AveragingSettings(ConfigSection):
    """The side (scan positions) of the neighbourhood each frame is averaged over (1: off)."""

    SECTION: ClassVar[str] = "neighbour_averaging"
    CHOICES: ClassVar[dict[str, tuple]] = {"size": AVERAGING_SIZES}

    size: int = 1
