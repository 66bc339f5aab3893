"""How faithful the reconstruction is, frame by frame, streamed one scan line at a time.

For every frame: PSNR, SSIM and RMSE (scikit-image) between the background-subtracted frame
and its reconstruction drawn in the detector's own geometry (same size, not centred, direct
beam kept, no blur: only the renderer and its radii come from the reconstruction settings);
then the reconstruction is registered again (noise "corners": a rendering has no Poisson
statistics) and each table spot is paired with the nearest re-registered spot, giving its
position offset (px) and its integrated intensity in the reconstruction against the table's
(raw minus background, counts).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

from ..logs import logger
from ..reconstruct.frame import render_frame
from ..reconstruct.settings import ReconstructionSettings
from ..register.background import subtract_background
from ..register.frame import register_frame
from ..register.settings import RegistrationSettings, paper_registration
from ..scan import Stage, run, scan_lines, store_lines
from ..store import read_sidecar

PATTERN_COLUMNS = {
    "scan_y": "int32",
    "scan_x": "int32",
    "psnr": "float32",
    "ssim": "float32",
    "rmse": "float32",
    "offset_median": "float32",
    "paired": "int32",
}
PAIR_COLUMNS = {
    "scan_y": "int32",
    "scan_x": "int32",
    "spot": "int32",
    "is_direct_beam": "bool",
    "integrated": "float32",
    "integrated_reconstructed": "float32",
    "offset": "float32",
}
_SPOT_COLUMNS = [
    "scan_y",
    "scan_x",
    "spot",
    "x",
    "y",
    "radius",
    "mean",
    "integrated",
    "is_direct_beam",
]


def in_detector_geometry(settings: ReconstructionSettings) -> ReconstructionSettings:
    """The reconstruction settings drawn over the frame itself: the renderer and radii kept."""
    return dataclasses.replace(
        settings,
        size=None,
        centred=False,
        direct_beam="keep",
        blur=0.0,
        g_max_px=None,
        g_max_inv_angstrom=None,
    )


SSIM_WINDOW = 7  # px: scikit-image's default window; smaller frames take their largest odd side


def frame_quality(subtracted: np.ndarray, reconstruction: np.ndarray) -> tuple[float, float, float]:
    """(PSNR dB, SSIM, RMSE counts) of `reconstruction` against `subtracted` (frames of one
    shape, any), over the data range of `subtracted` (PSNR and SSIM NaN for a flat frame; SSIM
    NaN for a frame under 3 px a side, on a window of the frame's largest odd side under 7 px)."""
    data_range = float(subtracted.max() - subtracted.min())
    rmse = float(np.sqrt(mean_squared_error(subtracted, reconstruction)))
    if data_range == 0:
        return np.nan, np.nan, rmse
    psnr = (
        peak_signal_noise_ratio(subtracted, reconstruction, data_range=data_range)
        if rmse > 0
        else np.inf
    )
    window = min(SSIM_WINDOW, min(subtracted.shape) - (1 - min(subtracted.shape) % 2))
    ssim = (
        structural_similarity(subtracted, reconstruction, data_range=data_range, win_size=window)
        if window >= 3
        else np.nan
    )
    return float(psnr), float(ssim), rmse


def round_trip(spots: dict, reconstruction: np.ndarray, settings: RegistrationSettings):
    """Register `reconstruction` again and pair each table spot with the nearest spot found:
    (distance px, that spot's integrated counts); NaN where nothing was found. Whatever the
    detection of `settings`, the reconstruction's spots are found by the paper's registration
    (prominence, `noise: corners`, no disc fit): a noise-free image gives the matched filter no
    noise to weigh them by, and its rendered discs are not the fit's model."""
    again, _ = register_frame(reconstruction, paper_registration(settings))
    n = len(spots["x"])
    if len(again["x"]) == 0 or n == 0:
        return np.full(n, np.nan), np.full(n, np.nan)
    distance, index = cKDTree(np.c_[again["y"], again["x"]]).query(np.c_[spots["y"], spots["x"]])
    return distance, again["integrated"][index]


def quality_stage(
    registration: RegistrationSettings,
    reconstruction: ReconstructionSettings,
    frame_shape,
    centres: np.ndarray,
) -> Stage:
    """Quality and round trip as a per-frame stage filling the "quality" (PATTERN_COLUMNS) and
    "pairs" (PAIR_COLUMNS) tables; `centres` the (ny x nx, 2) beam centres y, x px."""
    draw = in_detector_geometry(reconstruction)

    def per_frame(frame):
        spots = frame.rows
        row = {"psnr": np.nan, "ssim": np.nan, "rmse": np.nan, "offset_median": np.nan, "paired": 0}
        data = frame.data.astype(np.float32)
        if not np.isfinite(data).all() or data.min() == data.max():
            return {"quality": row}  # a frame registration could not use has no quality
        subtracted = subtract_background(
            data,
            registration.background,
            registration.background_radius,
            registration.presmooth,
            registration.clamp,
        )
        image = render_frame(spots, tuple(centres[frame.y, frame.x]), frame_shape, draw)
        row["psnr"], row["ssim"], row["rmse"] = frame_quality(subtracted, image)
        offset, integrated = round_trip(spots, image, registration)
        paired = np.isfinite(offset) & (offset <= np.maximum(spots["radius"], 1.0))
        if paired.any():
            row["offset_median"], row["paired"] = (
                float(np.median(offset[paired])),
                int(paired.sum()),
            )
        pairs = {
            "spot": spots["spot"],
            "is_direct_beam": spots["is_direct_beam"],
            "integrated": spots["integrated"],
            "integrated_reconstructed": np.where(paired, integrated, np.nan),
            "offset": np.where(paired, offset, np.nan),
        }
        return {"quality": row, "pairs": pairs}

    return Stage("quality metrics", per_frame, {"quality": PATTERN_COLUMNS, "pairs": PAIR_COLUMNS})


def quality_lines(
    store_dir,
    spots_path,
    patterns_path,
    registration: RegistrationSettings,
    reconstruction: ReconstructionSettings,
    lines: tuple[int, int] | None = None,
):
    """The quality stage of a dataset and its scan lines [start, stop) = `lines` (default:
    all), as (stage, lines, the scan lines [start, stop), nx) for `scan.run` or `scan.run_shard`."""
    sidecar = read_sidecar(store_dir)
    ny, nx = sidecar["scan_shape"]
    lines = lines or (0, ny)
    centres = (
        pd.read_parquet(patterns_path, columns=["centre_y", "centre_x"])
        .to_numpy(np.float64)
        .reshape(ny, nx, 2)
    )
    stage = quality_stage(registration, reconstruction, tuple(sidecar["frame_shape"]), centres)
    frames = scan_lines((ny, nx), lines, store_lines(store_dir, lines), spots_path, _SPOT_COLUMNS)
    return stage, frames, lines, nx


def quality_dataset(
    store_dir,
    spots_path,
    patterns_path,
    registration: RegistrationSettings,
    reconstruction: ReconstructionSettings,
    lines: tuple[int, int] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-pattern quality (PATTERN_COLUMNS) and per-spot pairs (PAIR_COLUMNS) of a dataset's
    scan lines [start, stop) = `lines` (default: all)."""
    stage, frames, lines, nx = quality_lines(
        store_dir, spots_path, patterns_path, registration, reconstruction, lines
    )
    tables = run(stage, frames, (lines[1] - lines[0]) * nx)
    quality, pairs = tables["quality"], tables["pairs"]
    if len(quality):
        logger.info(
            "median PSNR %.1f dB, SSIM %.3f; %d spots paired after the round trip",
            np.nanmedian(quality.psnr),
            np.nanmedian(quality.ssim),
            int(pairs.offset.notna().sum()),
        )
    return quality, pairs
