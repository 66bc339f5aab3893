"""Masking (SPEC §4), the fast alternative to reconstruction that needs no table: each frame's
background-subtracted image kept inside discs around its detected prominence maxima, zero
elsewhere. Discs have `radius` px, at most half the distance to the nearest other maximum, and
hold the pixels whose centres lie within it. Frames keep the detector geometry (no resampling).

The 8-bit scale is per frame: the brightest kept pixel outside the direct beam's disc (the most
prominent maximum within the registration's direct-beam search radius of the frame centre)
maps to 255 / gain grey levels. The virtual bright field stored in a .blo is the kept signal inside
the direct beam's disc.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..calibration import Calibration
from ..export.sinks import FrameOutputs
from ..logs import Progress, logger
from ..provenance import record
from ..register.dataset import saturation_level
from ..register.frame import RegistrationSettings, detect_spots
from ..register.refine import neighbour_limits
from ..store import DATA_NAME, NpyFrames, read_sidecar
from .settings import MaskingSettings

_MODULES = ["acomflow.reconstruct.mask"]


def mask_frame(raw: np.ndarray, registration: RegistrationSettings, radius: float, saturation: float = np.inf):
    """(masked float32 frame, its 8-bit reference in counts, bright-field value) of one raw frame."""
    frame = np.asarray(raw, dtype=np.float32)
    masked = np.zeros(frame.shape, np.float32)
    if not np.isfinite(frame).all() or frame.min() == frame.max():
        return masked, 0.0, 0.0
    found = detect_spots(frame, registration, saturation)
    if len(found.rows) == 0:
        return masked, 0.0, 0.0
    limits = neighbour_limits(found.rows, found.cols, radius)
    centre = ((frame.shape[0] - 1) / 2.0, (frame.shape[1] - 1) / 2.0)
    near = np.hypot(found.rows - centre[0], found.cols - centre[1]) <= registration.direct_beam_search * min(frame.shape)
    direct = int(np.flatnonzero(near)[0]) if near.any() else -1  # maxima come most prominent first
    reference = vbf = 0.0
    for k, (r, c, limit) in enumerate(zip(found.rows, found.cols, limits)):
        reach = int(np.floor(limit))
        r0, r1 = max(r - reach, 0), min(r + reach + 1, frame.shape[0])
        c0, c1 = max(c - reach, 0), min(c + reach + 1, frame.shape[1])
        yy, xx = np.ogrid[r0 - r : r1 - r, c0 - c : c1 - c]
        inside = yy * yy + xx * xx <= limit * limit
        kept = np.where(inside, found.subtracted[r0:r1, c0:c1], np.float32(0))
        masked[r0:r1, c0:c1] = np.maximum(masked[r0:r1, c0:c1], kept)
        if k == direct:
            vbf = float(kept.sum())
        else:
            reference = max(reference, float(kept.max()))
    return masked, reference, vbf


def mask_dataset(store_dir, out_dir, name: str, settings: MaskingSettings, registration: RegistrationSettings) -> dict:
    """Mask every frame of the store in `store_dir` into the outputs `settings.formats` under `out_dir`."""
    sidecar = read_sidecar(store_dir)
    ny, nx = sidecar["scan_shape"]
    ky, kx = sidecar["frame_shape"]
    if ky != kx and ({"blo", "bmp"} & set(settings.formats)):
        raise ValueError(f"{store_dir}: frames are {ky} x {kx}; .blo and BMP outputs of masked frames need square frames")
    lines = NpyFrames(Path(store_dir) / DATA_NAME)
    saturation = saturation_level(lines.dtype)
    provenance = record({**settings.as_dict(), "registration": registration.as_dict()},
                        inputs=[Path(store_dir) / "data.json"], modules=_MODULES)
    out_sidecar = {"source": {"format": "masked", "store": str(store_dir)}, "calibration": sidecar.get("calibration", {}),
                   "provenance": provenance}
    calibration = Calibration(**sidecar.get("calibration", {}))
    logger.info("masking %d x %d frames of %s into %s", ny, nx, store_dir, ", ".join(settings.formats))
    progress = Progress("mask", ny * nx)
    with FrameOutputs(out_dir, name, settings.formats, (ny, nx), ky, settings.dtype, calibration, ky, out_sidecar) as outputs:
        for y in range(ny):
            frames = np.zeros((nx, ky, kx), np.float32)
            grey, vbf = np.ones(nx), np.zeros(nx)
            for x, raw in enumerate(lines[y : y + 1][0]):
                frames[x], reference, vbf[x] = mask_frame(raw, registration, settings.radius, saturation)
                grey[x] = 255.0 * settings.gain / reference if reference > 0 else 1.0
            outputs.write(y * nx, frames, grey, vbf)
            progress.update(nx)
    return {"frames": ny * nx, "outputs": outputs.paths}
