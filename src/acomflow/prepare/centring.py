"""Direct-beam centres of a stored dataset and its descan plane, one scan line at a time.

Writes a Parquet table (scan_y, scan_x, centre_y, centre_x: measured; plane_y, plane_x: descan
plane; residual px; flags) with the plane coefficients and provenance in its metadata, and a
plot of the measured centres, the plane and the residuals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..logs import Progress, logger
from .. import plots
from ..provenance import record
from ..store import DATA_NAME, SIDECAR_NAME, NpyFrames, read_sidecar
from ..tables import write_table
from .centre import CENTRE_OUTLIER, beam_centre, fit_descan

_MODULES = ["acomflow.prepare.centring"]


def centre_dataset(store_dir, table_path, plot_path=None, search: float = 0.1, r_start: float = 10.0,
                   outlier_px: float = 0.25) -> pd.DataFrame:
    """Measure the beam centre of every frame of the store in `store_dir`, fit the descan plane
    and write the centres table (and its plot); returns the table."""
    store_dir = Path(store_dir)
    sidecar = read_sidecar(store_dir)
    ny, nx = sidecar["scan_shape"]
    lines = NpyFrames(store_dir / DATA_NAME)
    measured = np.full((ny, nx, 2), np.nan)
    flags = np.zeros((ny, nx), dtype=np.int32)
    progress = Progress(f"beam centres {store_dir}", ny * nx)
    for y in range(ny):
        block = lines[y : y + 1][0]
        for x in range(nx):
            cy, cx, flags[y, x] = beam_centre(block[x], None, search, r_start)
            measured[y, x] = cy, cx
        progress.update(nx)
    yy, xx = np.indices((ny, nx))
    coefficients, plane_y, plane_x, outlier = fit_descan(yy.ravel(), xx.ravel(), measured[..., 0].ravel(),
                                                         measured[..., 1].ravel(), outlier_px)
    table = pd.DataFrame({
        "scan_y": yy.ravel().astype("int32"), "scan_x": xx.ravel().astype("int32"),
        "centre_y": measured[..., 0].ravel(), "centre_x": measured[..., 1].ravel(),
        "plane_y": plane_y, "plane_x": plane_x,
        "residual": np.hypot(measured[..., 0].ravel() - plane_y, measured[..., 1].ravel() - plane_x),
        "flags": flags.ravel() | np.where(outlier, CENTRE_OUTLIER, 0).astype(np.int32),
    })
    settings = {"search": search, "r_start": r_start, "outlier_px": outlier_px}
    metadata = {**record(settings, inputs=[store_dir / SIDECAR_NAME], modules=_MODULES),
                "descan": coefficients, "scan_shape": [ny, nx]}
    write_table(table, table_path, metadata)
    logger.info("beam centres of %s: descan %.3f px over the scan, %d outliers, median residual %.4f px",
                store_dir, _span(table), int(outlier.sum()), float(np.nanmedian(table.residual)))
    if plot_path is not None:
        plot_centres(table, (ny, nx), plot_path)
    return table


def _span(table: pd.DataFrame) -> float:
    """Largest distance (px) of the plane's centre from its value at the first position."""
    return float(np.hypot(table.plane_y - table.plane_y.iloc[0], table.plane_x - table.plane_x.iloc[0]).max())


def plot_centres(table: pd.DataFrame, scan_shape, path) -> None:
    """Measured centre y and x and the residual from the descan plane, as scan maps."""
    figure, axes = plots.subplots(1, 3, (13, 4))
    maps = (("centre_y", "centre y (px)"), ("centre_x", "centre x (px)"), ("residual", "distance from the descan plane (px)"))
    for ax, (column, label) in zip(axes, maps):
        plots.scan_image(figure, ax, table[column].to_numpy().reshape(scan_shape), label, "px", cmap="viridis")
    outliers = table[(table["flags"] & CENTRE_OUTLIER) != 0]
    axes[2].plot(outliers.scan_x, outliers.scan_y, "x", color="tab:red", label="outlier")
    if len(outliers):
        axes[2].legend()
    plots.save(figure, path)
