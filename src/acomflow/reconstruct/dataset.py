"""Reconstruction of a whole dataset from its registered table, streamed scan line by scan line.

The spots table is read in record batches and cut into scan lines (it is sorted by scan_y,
scan_x as the merge writes it), so memory holds a batch, one line of output frames and the
beam centres (16 bytes per scan position), whatever the scan size. The 8-bit scale maps the
brightest diffracted-spot mean of the dataset (or of each frame) to 255 / gain grey levels; the
direct beam may saturate.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..calibration import Calibration
from ..export.sinks import FrameOutputs
from ..logs import logger
from ..provenance import record
from ..scan import Stage, run, scan_lines
from ..tables import brightest_diffracted_mean, read_metadata
from .frame import g_limit_px, render_frame, spot_values
from .settings import ReconstructionSettings

COLUMNS = ["scan_y", "scan_x", "x", "y", "radius", "mean", "is_direct_beam"]


def _frame_scale(
    values: np.ndarray,
    direct: np.ndarray,
    settings: ReconstructionSettings,
    dataset_reference: float,
) -> float:
    """Grey levels per count for one frame whose spots are drawn with `values`."""
    if settings.reference == "dataset":
        reference = dataset_reference
    else:
        reference = values[~direct].max(initial=0.0) or values.max(initial=0.0) or 1.0
    return 255.0 * settings.gain / reference


def reconstruct_dataset(
    spots_path, patterns_path, out_dir, name: str, settings: ReconstructionSettings
) -> dict:
    """Render every pattern of the registered table into the outputs `settings.formats` under
    `out_dir`; returns a summary (frames, size, scale, reference)."""
    meta = read_metadata(spots_path)
    ny, nx = meta["scan_shape"]
    frame_shape = tuple(meta["frame_shape"])
    calibration = Calibration(**meta.get("calibration", {}))
    size = settings.size or max(frame_shape)
    scale = size / max(frame_shape)
    drawn = dataclasses.replace(settings, size=size)  # square outputs, whatever the detector
    g_limit_px(
        settings, calibration.inv_angstrom_per_px
    )  # a missing calibration fails before any output
    patterns = pd.read_parquet(patterns_path, columns=["centre_y", "centre_x"])
    if len(patterns) != ny * nx:
        raise ValueError(
            f"{patterns_path}: {len(patterns)} patterns, the table's scan has {ny * nx}"
        )
    centres = patterns.to_numpy(np.float64).reshape(ny, nx, 2)
    reference = brightest_diffracted_mean(spots_path)
    provenance = record(settings.as_dict(), inputs=[spots_path, patterns_path])
    out_calibration = calibration.updated(
        inv_angstrom_per_px=None
        if calibration.inv_angstrom_per_px is None
        else calibration.inv_angstrom_per_px / scale
    )
    sidecar = {
        "source": {"format": "reconstruction", "table": str(spots_path)},
        "calibration": out_calibration.as_dict(),
        "provenance": provenance,
    }
    logger.info(
        "reconstructing %d x %d patterns at %d px (scale %.3g) into %s",
        ny,
        nx,
        size,
        scale,
        ", ".join(settings.formats),
    )

    def per_frame(frame):
        values, direct = (
            spot_values(frame.rows, settings),
            frame.rows["is_direct_beam"].astype(bool),
        )
        image = render_frame(
            frame.rows,
            tuple(centres[frame.y, frame.x]),
            frame_shape,
            drawn,
            calibration.inv_angstrom_per_px,
            values,
        )
        return {
            "frame": image,
            "scale": _frame_scale(values, direct, settings, reference),
            "vbf": frame.rows["mean"][direct].sum(),
        }

    lines = scan_lines((ny, nx), (0, ny), spots=spots_path, columns=COLUMNS)
    with FrameOutputs(
        out_dir,
        name,
        settings.formats,
        (ny, nx),
        size,
        settings.dtype,
        calibration,
        max(frame_shape),
        sidecar,
    ) as outputs:
        run(
            Stage("reconstruct", per_frame),
            lines,
            ny * nx,
            lambda y, results: outputs.write_results(y * nx, results),
        )
    return {
        "frames": ny * nx,
        "size": size,
        "scale": scale,
        "reference": reference,
        "outputs": outputs.paths,
    }
