"""Settings of the synthetic dataset generator (mirrors `synthetic` in config/schema)."""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from ..crystal.shapes import SHAPE_MODELS
from ..settings import ConfigSection

SATURATION = {"uint8": 255.0, "uint16": 65535.0, "float32": 65535.0}


@dataclasses.dataclass(frozen=True)
class SyntheticSettings(ConfigSection):
    """What the generator draws and how the detector records it.

    Lengths on the detector are in px at `frame_size`; lengths across the scan in scan steps.
    Sizes quoted "at 256 px" scale with frame_size / 256.

    Grains are random 2D reciprocal lattices, or, when `phases` names crystal phases, those
    phases in turn at known orientations: the first `zone_axis_grains` along one of `zone_axes`
    ([uvw], drawn per grain), the others uniformly random; their spots are kinematic templates at
    `precession_deg` with relrods of `relrod_width` (1/Å) and shape `relrod_model`.

    Detector defects: `dead_pixel_fraction` of the pixels read 0 and `hot_pixel_fraction` read
    half the saturation level, the same pixels in every frame of a scan.

    A liquid cell (`liquid_fraction` > 0): a water layer covers every scan position, vacuum
    included, its thickness a smooth field of 0.5..1.5; it scatters `liquid_fraction` x that
    thickness of the electrons into water's broad diffuse ring (`pattern.WATER_RING`).
    """

    SECTION: ClassVar[str] = "synthetic"
    CHOICES: ClassVar[dict[str, tuple]] = {
        "dtype": tuple(SATURATION),
        "relrod_model": SHAPE_MODELS,
    }

    scan_shape: tuple[int, int] = (32, 40)
    frame_size: int = 256
    dtype: str = "uint16"
    seed: int = 0
    stream: bool = False
    n_grains: int = 6
    phases: tuple[str, ...] = ()
    zone_axis_grains: int = 0
    zone_axes: tuple[tuple[int, int, int], ...] = ((0, 0, 1), (0, 1, 1), (1, 1, 1))
    precession_deg: float = 0.0
    relrod_model: str = "gaussian"
    relrod_width: float = 0.02
    dose: float = 2.0e5
    dose_variation: float = 0.5
    noise: bool = True
    read_noise: float = 0.5
    saturation: float | None = None
    direct_beam_overexposure: float = 2.5
    direct_beam_radius: float = 5.0
    lattice_spacing: tuple[float, float] = (256 / 11, 256 / 6.5)
    spot_radius: tuple[float, float] = (2.0, 4.0)
    edge_sigma: float = 0.5
    supersample: int = 8
    bragg_fraction: float = 0.5
    halo_fraction: float = 0.25
    ring_fraction: float = 0.4
    film_fraction: float = 0.03
    vacuum_fraction: float = 0.12
    amorphous_fraction: float = 0.15
    liquid_fraction: float = 0.0
    dead_pixel_fraction: float = 0.0
    hot_pixel_fraction: float = 0.0
    boundary_width: float = 1.0
    descan: float = 3.0
    scan_step_nm: float = 10.0
    beam_energy_kev: float = 200.0
    stream_line_jitter: int = 2
    stream_blank_frames: tuple[int, int] = (2, 4)
    stream_pre_frames: int = 6
    stream_post_frames: int = 4

    def __post_init__(self):
        super().__post_init__()
        # The thickest crystal or amorphous position (t = 1, water 1.5) must leave the direct
        # beam a share of the electrons.
        grow = 1.0 - math.exp(-2.5)
        scattered = 1.3 * self.halo_fraction + 1.5 * self.liquid_fraction
        scattered += max(self.bragg_fraction * grow + self.film_fraction, self.ring_fraction * grow)
        if scattered > 0.95:
            raise ValueError(
                f"synthetic halo_fraction, bragg_fraction, film_fraction, ring_fraction and "
                f"liquid_fraction scatter {scattered:.2f} of the electrons at the thickest "
                "position; at most 0.95 may leave the direct beam"
            )

    @property
    def scale(self) -> float:
        """Detector size relative to 256 px: sizes quoted at 256 px are multiplied by this."""
        return self.frame_size / 256.0

    @property
    def saturation_level(self) -> float:
        return SATURATION[self.dtype] if self.saturation is None else float(self.saturation)

    @property
    def inv_angstrom_per_px(self) -> float:
        """Reciprocal pixel size: the frame spans +-1.28 1/Å whatever its size."""
        return 2.56 / self.frame_size

    def storage_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)


# The hard test bed of registration (bench/detection.py, tests/test_matched.py, validation.md):
# dense 2D lattices (neighbours 2-7 spot radii apart), a 25x dose range falling from 2e5
# electrons, a strong halo and support-film rings under the crystals, amorphous and vacuum.
HARD_TEST_BED = {
    "scan_shape": (8, 10),
    "n_grains": 5,
    "lattice_spacing": (8.0, 14.0),
    "dose": 2.0e5,
    "dose_variation": 0.97,
    "halo_fraction": 0.3,
    "film_fraction": 0.12,
    "bragg_fraction": 0.35,
    "vacuum_fraction": 0.12,
    "amorphous_fraction": 0.2,
}
