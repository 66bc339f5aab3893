"""One reconstructed frame from one pattern's registered spots (method.md §5).

Geometry: the output frame is size x size px, `scale` = size / max(ky, kx) output px per input
px. With `centred`, the beam centre maps onto the output's geometric centre ((size - 1) / 2);
otherwise the input frame's geometric centre does. An input position p (px) maps to
(p - origin) * scale + (n - 1) / 2 along an axis of n output px. Without `size` and not
centred, the output is the detector's own geometry: (ky, kx) px, every spot where it was
registered (what the metrics compare with the frame, whatever its shape).
"""

from __future__ import annotations

import numpy as np

from ..kernels import gaussian_blur
from .discs import render_discs
from .epattern_v4 import render_epattern_v4
from .settings import ReconstructionSettings

EPATTERN_V4_RADII = (4.0, 2.0)  # direct beam, other spots (output px)


def spot_values(spots: dict, settings: ReconstructionSettings) -> np.ndarray:
    """Each spot's drawn value (counts): its registered mean, the direct beam's attenuated or
    zero."""
    values = np.asarray(spots["mean"], np.float64).copy()
    direct = np.asarray(spots["is_direct_beam"], bool)
    if settings.direct_beam == "attenuate":
        values[direct] *= settings.attenuation
    elif settings.direct_beam == "remove":
        values[direct] = 0.0
    return values


def g_limit_px(settings: ReconstructionSettings, inv_angstrom_per_px: float | None) -> float:
    """The reciprocal-radius cutoff in input px (inf if none); 1/Å needs the pixel calibration."""
    limit = np.inf if settings.g_max_px is None else settings.g_max_px
    if settings.g_max_inv_angstrom is not None:
        if inv_angstrom_per_px is None:
            raise ValueError(
                "reconstruction g_max_inv_angstrom needs the reciprocal pixel size: "
                "set calibration.inv_angstrom_per_px for this dataset"
            )
        limit = min(limit, settings.g_max_inv_angstrom / inv_angstrom_per_px)
    return limit


def render_frame(
    spots: dict,
    centre: tuple[float, float],
    frame_shape,
    settings: ReconstructionSettings,
    inv_angstrom_per_px: float | None = None,
    values: np.ndarray | None = None,
) -> np.ndarray:
    """The reconstructed float32 frame of one pattern: (size, size), or (ky, kx) in the
    detector's own geometry (see the module).

    `spots`: arrays x, y (input px), radius, mean, is_direct_beam; `centre` the (y, x) beam
    centre in input px (NaN: the frame's geometric centre is used); `inv_angstrom_per_px` the
    input pixel calibration, needed only for a cutoff in 1/Å; `values` the spots' drawn
    values if already known (default `spot_values`).
    """
    g_limit = g_limit_px(settings, inv_angstrom_per_px)
    size = settings.size or max(frame_shape)
    scale = size / max(frame_shape)
    detector = settings.size is None and not settings.centred
    shape = tuple(int(n) for n in frame_shape) if detector else (size, size)
    geometric = ((frame_shape[0] - 1) / 2.0, (frame_shape[1] - 1) / 2.0)
    beam = centre if np.all(np.isfinite(centre)) else geometric
    origin = beam if settings.centred else geometric
    ys, xs = np.asarray(spots["y"], np.float64), np.asarray(spots["x"], np.float64)
    keep = np.hypot(ys - beam[0], xs - beam[1]) <= g_limit
    direct = np.asarray(spots["is_direct_beam"], bool)
    if settings.renderer == "epattern-v4":
        radii = np.where(
            direct,
            settings.direct_beam_radius or EPATTERN_V4_RADII[0],
            settings.radius or EPATTERN_V4_RADII[1],
        )
    else:
        radii = (
            np.asarray(spots["radius"], np.float64) * scale
            if settings.radius is None
            else np.full(len(ys), settings.radius)
        )
        if settings.direct_beam_radius is not None:
            radii = np.where(direct, settings.direct_beam_radius, radii)
    out_y = (ys - origin[0]) * scale + (shape[0] - 1) / 2.0
    out_x = (xs - origin[1]) * scale + (shape[1] - 1) / 2.0
    values = spot_values(spots, settings) if values is None else values
    draw = render_epattern_v4 if settings.renderer == "epattern-v4" else render_discs
    image = draw(shape, out_y[keep], out_x[keep], radii[keep], values[keep])
    return gaussian_blur(image, settings.blur) if settings.blur > 0 else image
