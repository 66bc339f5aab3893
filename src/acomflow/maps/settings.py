"""Settings of the maps (mirror `maps` in config/schema)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ..settings import ConfigSection

UNITS = ("fraction", "px", "inv_angstrom")


@dataclasses.dataclass(frozen=True)
class MapSettings(ConfigSection):
    """Detector and filter geometry of the maps.

    Radii and g-vectors are measured from the beam centre in `units`: "fraction" of half the
    frame's smaller side, detector "px", or "inv_angstrom" (needs the reciprocal pixel size).
    `spot_margin` is always px.
    """

    SECTION: ClassVar[str] = "maps"
    CHOICES: ClassVar[dict[str, tuple]] = {"units": UNITS}

    units: str = "fraction"
    crystalline_min_spots: int = 5  # spot count (direct beam included) of a crystalline pattern
    bf_radius: float | None = None  # None: 1.5 x the median registered direct-beam radius
    adf: tuple[float, float] = (0.5, 0.95)
    amorphous: tuple[float, float] = (0.2, 0.7)
    spot_margin: float = 2.0  # px added to each registered spot radius when masking spots out
    vdf_annulus: tuple[float, float] = (0.2, 0.6)
    vdf_g_vectors: tuple[
        tuple[float, float], ...
    ] = ()  # (g_x, g_y); if given, used instead of the annulus
    vdf_tolerance: float = 0.02

    def __post_init__(self):
        super().__post_init__()
        for name in ("adf", "amorphous", "vdf_annulus"):
            inner, outer = getattr(self, name)
            if not 0 <= inner < outer:
                raise ValueError(f"maps {name} {[inner, outer]}: need 0 <= inner < outer")

    @classmethod
    def from_config(cls, config: dict):
        settings = super().from_config(config)
        return dataclasses.replace(
            settings, vdf_g_vectors=tuple(tuple(g) for g in settings.vdf_g_vectors)
        )

    def px_per_unit(self, frame_shape, inv_angstrom_per_px: float | None) -> float:
        """Detector px per unit of these settings' lengths."""
        if self.units == "px":
            return 1.0
        if self.units == "fraction":
            return min(frame_shape) / 2.0
        if not inv_angstrom_per_px:
            raise ValueError(
                "maps units inv_angstrom need the reciprocal pixel size: "
                "set calibration.inv_angstrom_per_px for this dataset"
            )
        return 1.0 / inv_angstrom_per_px
