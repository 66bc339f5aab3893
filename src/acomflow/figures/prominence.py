"""Fig. 3: adaptive prominence. Three patterns of low, median and high noise: the raw frame with
the high-angle region where sigma is measured (outside the inscribed circle) and the spots
registered, and a profile of the detection image (background subtracted, blurred) through the
brightest diffracted spot with the prominence threshold. With `detection: matched` the profile
is of the matched filter's significance and the threshold is in sigmas (method.md §3.4b)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.patches import Circle

from .. import plots
from ..register.frame import detect_spots
from ..register.measured import measured_settings
from ..register.noise import radii
from ..register.settings import RegistrationSettings
from ..store import store_saturation
from .common import crystalline_patterns, frame_spots, read_frame


def noise_levels(patterns: pd.DataFrame, min_spots: int) -> pd.DataFrame:
    """The crystalline patterns at the 5th, 50th and 95th percentile of noise sigma."""
    chosen = crystalline_patterns(patterns, min_spots).sort_values("noise_sigma", kind="stable")
    return chosen.iloc[[int(round(q * (len(chosen) - 1))) for q in (0.05, 0.5, 0.95)]]


def figure_3(
    store_dir,
    spots: pd.DataFrame,
    patterns: pd.DataFrame,
    scan_shape,
    settings: RegistrationSettings,
    min_spots: int,
    path,
    provenance: dict | None = None,
) -> None:
    settings = measured_settings(store_dir, settings)
    figure, axes = plots.subplots(2, 3, (14, 8.5))
    matched = settings.detection == "matched"
    unit = "sigma" if matched else "counts"
    image = "significance" if matched else "detection image"
    saturation = store_saturation(store_dir)
    for column, pattern in enumerate(noise_levels(patterns, min_spots).itertuples()):
        frame = read_frame(store_dir, scan_shape, pattern.scan_y, pattern.scan_x)
        found = detect_spots(frame, settings, saturation)
        table = frame_spots(spots, pattern.scan_y, pattern.scan_x)
        top, bottom = axes[0, column], axes[1, column]
        top.imshow(np.log1p(np.maximum(frame, 0)), cmap="gray", interpolation="nearest")
        top.imshow(
            np.ma.masked_where(radii(frame.shape) <= min(frame.shape) / 2, np.ones(frame.shape)),
            cmap="summer",
            alpha=0.35,
            interpolation="nearest",
        )
        for x, y, r in zip(table["x"], table["y"], table["radius"]):
            top.add_patch(Circle((x, y), r, fill=False, color="tab:red", lw=0.8))
        top.set(
            title=f"scan ({pattern.scan_y}, {pattern.scan_x}): sigma {pattern.noise_sigma:.3g} "
            f"counts, "
            f"{pattern.n_spots} spots",
            xlabel="x (px)",
            ylabel="y (px)",
        )
        diffracted = np.flatnonzero(~table["is_direct_beam"])
        row = (
            int(round(table["y"][diffracted[np.argmax(table["mean"][diffracted])]]))
            if len(diffracted)
            else frame.shape[0] // 2
        )
        band = slice(max(row - 2, 0), row + 3)
        top.axhspan(band.start - 0.5, band.stop - 0.5, color="gold", alpha=0.35)
        profile = np.maximum(found.detection_on(frame.shape)[band].max(axis=0), 1e-6)  # log axis
        bottom.plot(profile, color="k", lw=0.9, label=f"{image} (max over the band)")
        on_band = np.abs(table["y"] - row) <= 2 + table["radius"]
        columns = np.clip(np.rint(table["x"][on_band]).astype(int), 0, frame.shape[1] - 1)
        bottom.plot(
            table["x"][on_band], profile[columns], "v", color="tab:red", label="registered spots"
        )
        bottom.axhline(
            pattern.prominence_min,
            color="tab:green",
            ls="--",
            label=f"threshold = {pattern.prominence_min:.3g} {unit}",
        )
        bottom.set(
            xlabel="x (px)",
            ylabel=f"{image} ({unit})",
            yscale="log",
            ylim=(max(pattern.prominence_min, 1e-3) / 10, None),
            title=f"profile at y = {row} px",
        )
        bottom.legend(fontsize=8)
    plots.save(figure, path, provenance=provenance)
