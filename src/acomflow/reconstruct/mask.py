"""Masking (method.md §5), the fast alternative to reconstruction that needs no table: each frame's
background-subtracted image kept inside discs around its detected prominence maxima, zero
elsewhere. Discs have `radius` px, at most half the distance to the nearest other maximum, and
hold the pixels whose centres lie within it. Frames keep the detector geometry (no resampling);
a non-square frame is padded with zeros to a square of its larger side (its first pixel at
((size - ky) // 2, (size - kx) // 2)), as block files and the other outputs hold square frames.

The 8-bit scale is per frame: the brightest kept pixel outside the direct beam's disc (chosen
among the maxima by `peaks.beam`, their integrated counts those of their discs) maps to
255 / gain grey levels. The virtual bright field stored in a .blo is the kept signal inside
the direct beam's disc.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..calibration import Calibration
from ..export.sinks import FrameOutputs
from ..logs import logger
from ..peaks.beam import direct_beam, search_radius
from ..peaks.refine import neighbour_limits
from ..provenance import record
from ..register.frame import detect_spots
from ..register.measured import measured_settings
from ..register.settings import RegistrationSettings
from ..scan import Stage, run, scan_lines, store_lines
from ..store import read_sidecar, saturation_level
from .settings import MaskingSettings


def mask_frame(
    raw: np.ndarray, registration: RegistrationSettings, radius: float, saturation: float = np.inf
):
    """(masked float32 frame, its 8-bit reference in counts, bright-field value) of one raw
    frame."""
    frame = np.asarray(raw, dtype=np.float32)
    masked = np.zeros(frame.shape, np.float32)
    if not np.isfinite(frame).all() or frame.min() == frame.max():
        return masked, 0.0, 0.0
    found = detect_spots(frame, registration, saturation)
    if len(found.rows) == 0:
        return masked, 0.0, 0.0
    limits = neighbour_limits(found.rows, found.cols, radius)
    kept_discs = []
    for r, c, limit in zip(found.rows, found.cols, limits):
        reach = int(np.floor(limit))
        r0, r1 = max(r - reach, 0), min(r + reach + 1, frame.shape[0])
        c0, c1 = max(c - reach, 0), min(c + reach + 1, frame.shape[1])
        yy, xx = np.ogrid[r0 - r : r1 - r, c0 - c : c1 - c]
        kept = np.where(
            yy * yy + xx * xx <= limit * limit, found.subtracted[r0:r1, c0:c1], np.float32(0)
        )
        masked[r0:r1, c0:c1] = np.maximum(masked[r0:r1, c0:c1], kept)
        kept_discs.append(kept)
    sums = np.array([float(kept.sum()) for kept in kept_discs])
    centre = ((frame.shape[0] - 1) / 2.0, (frame.shape[1] - 1) / 2.0)
    beam = direct_beam(
        found.rows,
        found.cols,
        sums,
        centre,
        search_radius(frame.shape, registration.direct_beam_search),
    )
    reference = max(
        (float(kept.max()) for k, kept in enumerate(kept_discs) if k != beam), default=0.0
    )
    vbf = float(sums[beam]) if beam >= 0 else 0.0
    return masked, reference, vbf


def mask_dataset(
    store_dir, out_dir, name: str, settings: MaskingSettings, registration: RegistrationSettings
) -> dict:
    """Mask every frame of the store in `store_dir` into the outputs `settings.formats` under
    `out_dir`."""
    registration = measured_settings(store_dir, registration)
    sidecar = read_sidecar(store_dir)
    ny, nx = sidecar["scan_shape"]
    ky, kx = sidecar["frame_shape"]
    size = max(ky, kx)
    top, left = (size - ky) // 2, (size - kx) // 2
    saturation = saturation_level(sidecar["dtype"])
    provenance = record(
        {**settings.as_dict(), "registration": registration.as_dict()},
        inputs=[Path(store_dir) / "data.json"],
    )
    out_sidecar = {
        "source": {"format": "masked", "store": str(store_dir)},
        "calibration": sidecar.get("calibration", {}),
        "provenance": provenance,
    }
    calibration = Calibration(**sidecar.get("calibration", {}))
    logger.info(
        "masking %d x %d frames of %s into %s", ny, nx, store_dir, ", ".join(settings.formats)
    )

    def per_frame(frame):
        masked, reference, vbf = mask_frame(frame.data, registration, settings.radius, saturation)
        square = np.zeros((size, size), np.float32)
        square[top : top + ky, left : left + kx] = masked
        return {
            "frame": square,
            "scale": 255.0 * settings.gain / reference if reference > 0 else 1.0,
            "vbf": vbf,
        }

    lines = scan_lines((ny, nx), (0, ny), store_lines(store_dir, (0, ny)))
    formats, dtype = settings.formats, settings.dtype
    with FrameOutputs(
        out_dir, name, formats, (ny, nx), size, dtype, calibration, size, out_sidecar
    ) as outputs:
        run(
            Stage("mask", per_frame),
            lines,
            ny * nx,
            lambda y, results: outputs.write_results(y * nx, results),
        )
    return {"frames": ny * nx, "outputs": outputs.paths}
