"""Settings of reconstruction and masking (mirror `reconstruction` and `masking` in
config/schema)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ..export.names import FORMATS
from ..settings import ConfigSection

RENDERERS = ("paper", "epattern-v4")
DIRECT_BEAM = ("keep", "attenuate", "remove")
REFERENCES = ("dataset", "frame")
DTYPES = ("uint8", "float32")


@dataclasses.dataclass(frozen=True)
class ReconstructionSettings(ConfigSection):
    """How registered spots become frames.

    Lengths: `size`, `radius`, `direct_beam_radius` and `blur` are output px; `g_max_px` is
    input (detector) px from the beam centre, `g_max_inv_angstrom` 1/Å.
    """

    SECTION: ClassVar[str] = "reconstruction"
    CHOICES: ClassVar[dict[str, tuple]] = {
        "renderer": RENDERERS,
        "direct_beam": DIRECT_BEAM,
        "reference": REFERENCES,
        "dtype": DTYPES,
        "formats": FORMATS,
    }

    renderer: str = "paper"
    size: int | None = None  # output frame size (square); None: the input frame size
    radius: float | None = None  # None: each spot's registered radius (scaled); else fixed
    direct_beam_radius: float | None = None  # None: as the other spots
    g_max_px: float | None = None
    g_max_inv_angstrom: float | None = None
    direct_beam: str = "keep"
    attenuation: float = 0.1  # factor on the direct beam with direct_beam "attenuate"
    centred: bool = True  # beam centre at the output frame's centre (else the detector's geometry)
    reference: str = (
        "dataset"  # 8-bit scale: the brightest diffracted spot mean of the dataset or frame
    )
    gain: float = 1.0  # grey levels x gain (> 1 saturates the brightest spots)
    blur: float = 0.0  # Gaussian sigma of a final blur, output px (0: none)
    dtype: str = "uint8"  # of the npy and tiff outputs: uint8 grey levels or float32 counts
    formats: tuple[str, ...] = ("blo", "npy")


@dataclasses.dataclass(frozen=True)
class MaskingSettings(ConfigSection):
    """Masking: the background-subtracted frame kept inside discs of `radius` px (at most half the
    distance to the nearest other spot) around the detected maxima, zero elsewhere."""

    SECTION: ClassVar[str] = "masking"
    CHOICES: ClassVar[dict[str, tuple]] = {"dtype": DTYPES, "formats": FORMATS}

    radius: float = 5.0
    gain: float = 1.0
    dtype: str = "uint8"
    formats: tuple[str, ...] = ("blo",)
