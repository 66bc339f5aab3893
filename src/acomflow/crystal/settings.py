"""Settings of template banks (mirror `templates` in config/schema)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ..settings import ConfigSection
from .shapes import SHAPE_MODELS
from .templates import DiffractionSettings


@dataclasses.dataclass(frozen=True)
class TemplateSettings(ConfigSection):
    """How a bank samples and weighs: beam directions about `resolution_deg` apart, reflections
    to `g_max` (1/Å), excited within `s_max` (1/Å) at some point of the precession, relrods of
    `width` (1/Å; None: `s_max`) and shape `model`."""

    SECTION: ClassVar[str] = "templates"
    CHOICES: ClassVar[dict[str, tuple]] = {"model": SHAPE_MODELS}

    resolution_deg: float = 1.0
    g_max: float = 1.5
    s_max: float = 0.03
    width: float | None = None
    model: str = "lorentzian"

    def diffraction(self, beam_energy_kev: float, precession_deg: float) -> DiffractionSettings:
        """The diffraction model of these settings for an acquisition (keV, deg)."""
        return DiffractionSettings(
            beam_energy_kev=beam_energy_kev,
            precession_deg=precession_deg,
            s_max=self.s_max,
            width=self.width,
            model=self.model,
        )
