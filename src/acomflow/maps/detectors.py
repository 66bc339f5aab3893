"""Virtual detectors on the frames, centred on each pattern's beam centre, in one streaming pass.

A pixel belongs to a detector when its centre (integer px) lies within its radii. The amorphous
detector is an annulus with every registered spot's disc (its radius + `spot_margin` px) masked
out, so it sees the diffuse scattering between the spots: amorphous rings, not Bragg discs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from ..logs import logger
from ..scan import Stage, run, scan_lines, store_lines
from ..store import read_sidecar
from .names import DETECTOR_MAPS
from .settings import MapSettings
from .table import median_direct_beam_radius

DETECTOR_DTYPES = {
    "scan_y": "int32",
    "scan_x": "int32",
    **{name: "float32" for name in DETECTOR_MAPS},
}


@njit(cache=True, nogil=True)
def detector_sums(
    frame, cy, cx, bf_radius, adf_inner, adf_outer, am_inner, am_outer, spot_y, spot_x, spot_r
):
    """(BF sum, ADF sum, amorphous mean) of one frame (counts; mean per unmasked px, NaN if none).

    Radii in px around the centre (cy, cx); spot_y, spot_x, spot_r the discs masked out of
    the amorphous annulus.
    """
    bf = adf = amorphous = 0.0
    n_amorphous = 0
    # only the spots whose discs reach the amorphous annulus can mask it
    reach = np.hypot(spot_y - cy, spot_x - cx)
    near = np.flatnonzero((reach + spot_r >= am_inner) & (reach - spot_r <= am_outer))
    for i in range(frame.shape[0]):
        dy2 = (i - cy) ** 2
        for j in range(frame.shape[1]):
            r2 = dy2 + (j - cx) ** 2
            value = frame[i, j]
            if r2 <= bf_radius**2:
                bf += value
            if adf_inner**2 <= r2 <= adf_outer**2:
                adf += value
            if am_inner**2 <= r2 <= am_outer**2:
                masked = False
                for s in near:
                    if (i - spot_y[s]) ** 2 + (j - spot_x[s]) ** 2 <= spot_r[s] ** 2:
                        masked = True
                        break
                if not masked:
                    amorphous += value
                    n_amorphous += 1
    return bf, adf, amorphous / n_amorphous if n_amorphous else np.nan


def detector_radii(
    settings: MapSettings, frame_shape, inv_angstrom_per_px, spots_path
) -> dict[str, float]:
    """The detectors' radii in px (the BF default from the table's direct-beam radius)."""
    unit = settings.px_per_unit(frame_shape, inv_angstrom_per_px)
    bf = (
        settings.bf_radius * unit
        if settings.bf_radius is not None
        else 1.5 * median_direct_beam_radius(spots_path)
    )
    if not np.isfinite(bf):  # no direct beam registered anywhere
        bf = 0.05 * min(frame_shape)
    return {
        "bf": bf,
        "adf_inner": settings.adf[0] * unit,
        "adf_outer": settings.adf[1] * unit,
        "amorphous_inner": settings.amorphous[0] * unit,
        "amorphous_outer": settings.amorphous[1] * unit,
    }


def detector_maps(
    store_dir, spots_path, patterns: pd.DataFrame, settings: MapSettings
) -> tuple[dict, dict]:
    """BF, ADF and amorphous maps ((ny, nx) float32, names in DETECTOR_MAPS) of the store in
    `store_dir`, read one scan line at a time, and the radii used (px).

    Each frame's detectors are centred on its pattern's centre_x, centre_y (the descan plane;
    the frame centre where that is NaN).
    """
    sidecar = read_sidecar(store_dir)
    ny, nx = sidecar["scan_shape"]
    frame_shape = sidecar["frame_shape"]
    radii = detector_radii(
        settings, frame_shape, sidecar["calibration"].get("inv_angstrom_per_px"), spots_path
    )
    logger.info("virtual detectors (px): %s", ", ".join(f"{k} {v:.1f}" for k, v in radii.items()))
    centres = patterns[["centre_y", "centre_x"]].to_numpy(np.float64)
    centres = np.where(
        np.isfinite(centres), centres, [(frame_shape[0] - 1) / 2.0, (frame_shape[1] - 1) / 2.0]
    )

    def per_frame(frame):
        cy, cx = centres[frame.y * nx + frame.x]
        spots = frame.rows
        bf, adf, amorphous = detector_sums(
            frame.data,
            cy,
            cx,
            radii["bf"],
            radii["adf_inner"],
            radii["adf_outer"],
            radii["amorphous_inner"],
            radii["amorphous_outer"],
            spots["y"].astype(np.float64),
            spots["x"].astype(np.float64),
            spots["radius"].astype(np.float64) + settings.spot_margin,
        )
        return {"detectors": {"bf": bf, "adf": adf, "amorphous": amorphous}}

    stage = Stage("virtual detectors", per_frame, {"detectors": DETECTOR_DTYPES})
    lines = scan_lines(
        (ny, nx),
        (0, ny),
        store_lines(store_dir, (0, ny)),
        spots_path,
        ["scan_y", "scan_x", "x", "y", "radius"],
    )
    table = run(stage, lines, ny * nx)["detectors"]
    return {name: table[name].to_numpy().reshape(ny, nx) for name in DETECTOR_MAPS}, radii
