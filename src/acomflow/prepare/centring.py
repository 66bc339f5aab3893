"""Direct-beam centres of a stored dataset and its descan plane, one scan line at a time.

Writes a Parquet table (scan_y, scan_x, centre_y, centre_x: measured; plane_y, plane_x: descan
plane; residual px; flags) with the plane coefficients and provenance in its metadata, and a
plot of the measured centres, the plane and the residuals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import plots
from ..logs import logger
from ..provenance import record
from ..scan import Stage, run, scan_lines, store_lines
from ..store import SIDECAR_NAME, read_sidecar
from ..tables import write_table
from .centre import CENTRE_OUTLIER, MEASURED_DTYPES, fit_descan, measure_centre
from .settings import CentringSettings


def centre_dataset(
    store_dir,
    table_path,
    plot_path=None,
    search: float = 0.1,
    r_start: float = 10.0,
    outlier_px: float = CentringSettings.outlier_px,
) -> pd.DataFrame:
    """Measure the beam centre of every frame of the store in `store_dir`, fit the descan plane
    and write the centres table (and its plot); returns the table."""
    ny, nx = read_sidecar(store_dir)["scan_shape"]
    stage = Stage(
        f"beam centres {store_dir}",
        lambda frame: {"centres": measure_centre(frame.data, search, r_start)},
        {"centres": MEASURED_DTYPES},
    )
    lines = scan_lines((ny, nx), (0, ny), store_lines(store_dir, (0, ny)))
    measured = run(stage, lines, ny * nx)["centres"]
    return write_centres(
        measured,
        store_dir,
        table_path,
        plot_path,
        outlier_px,
        {"search": search, "r_start": r_start},
    )


def write_centres(
    measured: pd.DataFrame,
    store_dir,
    table_path,
    plot_path=None,
    outlier_px: float = CentringSettings.outlier_px,
    measured_with: dict | None = None,
) -> pd.DataFrame:
    """Fit the descan plane through the centres `measured` (`MEASURED_DTYPES`, every frame of
    the store in `store_dir`, row-major) and write the centres table (and its plot); returns
    the table. `measured_with`, the settings of `measure_centre` (search, r_start), is
    recorded with `outlier_px` in the table's metadata."""
    store_dir = Path(store_dir)
    sidecar = read_sidecar(store_dir)
    ny, nx = sidecar["scan_shape"]
    ky, kx = sidecar["frame_shape"]
    if not measured["usable"].any():
        raise ValueError(
            f"{store_dir}: none of the {ny * nx} frames can be used: every one is constant "
            "(all zero, or saturated throughout) or holds NaN or Inf values; check the source "
            "file, its format and its dtype"
        )
    yy, xx = measured.scan_y.to_numpy(), measured.scan_x.to_numpy()
    centre_y, centre_x = measured.centre_y.to_numpy(), measured.centre_x.to_numpy()
    if not np.isfinite(centre_y).any():
        logger.warning(
            "beam centres of %s: no frame shows a direct beam; the frame's centre is used",
            store_dir,
        )
    coefficients, plane_y, plane_x, outlier = fit_descan(
        yy, xx, centre_y, centre_x, outlier_px, fallback=((ky - 1) / 2.0, (kx - 1) / 2.0)
    )
    table = pd.DataFrame(
        {
            "scan_y": yy,
            "scan_x": xx,
            "centre_y": centre_y,
            "centre_x": centre_x,
            "plane_y": plane_y,
            "plane_x": plane_x,
            "residual": np.hypot(centre_y - plane_y, centre_x - plane_x),
            "flags": measured["flags"].to_numpy()
            | np.where(outlier, CENTRE_OUTLIER, 0).astype(np.int32),
        }
    )
    settings = {**(measured_with or {}), "outlier_px": outlier_px}
    metadata = {
        **record(settings, inputs=[store_dir / SIDECAR_NAME]),
        "descan": coefficients,
        "scan_shape": [ny, nx],
    }
    write_table(table, table_path, metadata)
    logger.info(
        "beam centres of %s: descan %.3f px over the scan, %d outliers, median residual %.4f px",
        store_dir,
        _span(table),
        int(outlier.sum()),
        float(np.nanmedian(table.residual)),
    )
    if plot_path is not None:
        plot_centres(table, (ny, nx), plot_path)
    return table


def _span(table: pd.DataFrame) -> float:
    """Largest distance (px) of the plane's centre from its value at the first position."""
    return float(
        np.hypot(table.plane_y - table.plane_y.iloc[0], table.plane_x - table.plane_x.iloc[0]).max()
    )


def plot_centres(table: pd.DataFrame, scan_shape, path) -> None:
    """Measured centre y and x and the residual from the descan plane, as scan maps."""
    figure, axes = plots.subplots(1, 3, (13, 4))
    maps = (
        ("centre_y", "centre y (px)"),
        ("centre_x", "centre x (px)"),
        ("residual", "distance from the descan plane (px)"),
    )
    for ax, (column, label) in zip(axes, maps):
        plots.scan_image(
            figure, ax, table[column].to_numpy().reshape(scan_shape), label, "px", cmap="viridis"
        )
    outliers = table[(table["flags"] & CENTRE_OUTLIER) != 0]
    axes[2].plot(outliers.scan_x, outliers.scan_y, "x", color="tab:red", label="outlier")
    if len(outliers):
        axes[2].legend()
    plots.save(figure, path)
