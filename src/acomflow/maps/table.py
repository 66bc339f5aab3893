"""Maps computed from the registered table alone (no frame is read).

Every map is (scan_y, scan_x) float32. Intensities are the spots' registered means (counts per
px, background subtracted); g is a spot's position from the beam centre (x_c, y_c, px).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .names import TABLE_MAPS
from .settings import MapSettings

_COLUMNS = ["scan_y", "scan_x", "x_c", "y_c", "mean", "is_direct_beam"]


def in_vdf(gx: np.ndarray, gy: np.ndarray, settings: MapSettings, px_per_unit: float) -> np.ndarray:
    """Whether spots at g = (gx, gy) px fall in the virtual dark-field aperture: within
    `vdf_tolerance` of one of `vdf_g_vectors`, or else in the |g| annulus `vdf_annulus`."""
    if settings.vdf_g_vectors:
        g = np.asarray(settings.vdf_g_vectors, np.float64) * px_per_unit
        distance = np.hypot(gx[:, None] - g[None, :, 0], gy[:, None] - g[None, :, 1]).min(axis=1)
        return distance <= settings.vdf_tolerance * px_per_unit
    inner, outer = (r * px_per_unit for r in settings.vdf_annulus)
    modulus = np.hypot(gx, gy)
    return (modulus >= inner) & (modulus <= outer)


def table_maps(
    spots_path,
    patterns: pd.DataFrame,
    scan_shape,
    frame_shape,
    settings: MapSettings,
    inv_angstrom_per_px: float | None = None,
    batch_rows: int = 1 << 18,
) -> dict[str, np.ndarray]:
    """The table maps (names in TABLE_MAPS) of a registered dataset.

    spot_count: spots per pattern, the direct beam included; vbf: the direct beam's mean (0 where
    none was found); full_vbf: the sum of all spot means; vdf: the sum of the means of the
    diffracted spots in the dark-field aperture (`in_vdf`); noise_sigma and prominence_min:
    the pattern's noise and threshold (counts); crystalline: 1 where spot_count >=
    `crystalline_min_spots`. The spots table is read in batches of `batch_rows` rows.
    """
    ny, nx = scan_shape
    px_per_unit = settings.px_per_unit(frame_shape, inv_angstrom_per_px)
    sums = {name: np.zeros(ny * nx) for name in ("vbf", "full_vbf", "vdf")}
    for batch in pq.ParquetFile(spots_path).iter_batches(batch_size=batch_rows, columns=_COLUMNS):
        column = {c: batch.column(c).to_numpy(zero_copy_only=False) for c in _COLUMNS}
        row = column["scan_y"].astype(np.int64) * nx + column["scan_x"]
        mean, direct = column["mean"].astype(np.float64), column["is_direct_beam"]
        dark = ~direct & in_vdf(
            column["x_c"].astype(np.float64),
            column["y_c"].astype(np.float64),
            settings,
            px_per_unit,
        )
        for name, chosen in (("vbf", direct), ("full_vbf", slice(None)), ("vdf", dark)):
            sums[name] += np.bincount(row[chosen], mean[chosen], minlength=ny * nx)
    count = patterns.n_spots.to_numpy()
    maps = {
        "spot_count": count,
        **sums,
        "noise_sigma": patterns.noise_sigma.to_numpy(),
        "prominence_min": patterns.prominence_min.to_numpy(),
        "crystalline": count >= settings.crystalline_min_spots,
    }
    return {name: maps[name].astype(np.float32).reshape(ny, nx) for name in TABLE_MAPS}


def median_direct_beam_radius(spots_path) -> float:
    """The median registered radius (px) of the direct beam over the dataset (NaN if none)."""
    radius = pq.read_table(
        spots_path, columns=["radius"], filters=[("is_direct_beam", "==", True)]
    ).column(0)
    return float(np.median(radius.to_numpy())) if len(radius) else float("nan")
