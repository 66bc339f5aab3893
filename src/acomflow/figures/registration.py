"""Fig. 4: registration and reconstruction of one pattern (raw; detection maxima and refined
spots; reconstruction), position accuracy against the Gaussian filter of detection, and the
conservation of the pattern's spot intensities in the reconstruction."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from matplotlib.patches import Circle

from .. import plots
from ..metrics.accuracy import match
from ..metrics.quality import in_detector_geometry, round_trip
from ..reconstruct.frame import render_frame
from ..reconstruct.settings import ReconstructionSettings
from ..register.frame import detect_spots, register_frame
from ..register.measured import measured_settings
from ..register.settings import RegistrationSettings
from ..store import store_saturation
from .common import crystalline_patterns, evenly, frame_spots, read_frame

BLUR_SIGMAS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)


def position_errors(
    frames: list,
    settings: RegistrationSettings,
    reconstruction: ReconstructionSettings,
    saturation: float,
    truths: list | None = None,
) -> tuple[float, float]:
    """The median round-trip offset (px) of the diffracted spots of `frames` registered with
    `settings`, and with `truths` (one truth spots table per frame) the median distance of the
    matched diffracted spots to the truth (NaN without)."""
    offsets, errors = [], []
    for i, frame in enumerate(frames):
        spots, pattern = register_frame(frame, settings, saturation)
        diffracted = ~spots["is_direct_beam"]
        image = render_frame(
            spots, (pattern["centre_y"], pattern["centre_x"]), frame.shape, reconstruction
        )
        offsets.append(round_trip(spots, image, settings)[0][diffracted])
        if truths is not None:
            distance, index, inside = match(spots, truths[i])
            errors.append(
                distance[inside & diffracted & ~truths[i].is_direct_beam.to_numpy()[index]]
            )
    truth = np.median(np.concatenate(errors)) if errors else np.nan
    return float(np.nanmedian(np.concatenate(offsets))), float(truth)


def accuracy_by_blur(
    frames: list,
    settings: RegistrationSettings,
    reconstruction: ReconstructionSettings,
    saturation: float,
    truths: list | None = None,
) -> pd.DataFrame:
    """`position_errors` (columns round_trip_px, truth_px) of `frames` registered with the
    paper's detection (`detection: prominence`, whose detection image the blur is) and the rest
    of `settings`, for every sigma of BLUR_SIGMAS."""
    rows = []
    for sigma in BLUR_SIGMAS:
        paper = dataclasses.replace(settings, detection="prominence", blur_sigma=sigma)
        errors = position_errors(frames, paper, reconstruction, saturation, truths)
        rows.append(dict(zip(("blur_sigma", "round_trip_px", "truth_px"), (sigma, *errors))))
    return pd.DataFrame(rows)


def figure_4(
    store_dir,
    spots: pd.DataFrame,
    patterns: pd.DataFrame,
    pairs: pd.DataFrame,
    scan_shape,
    settings: RegistrationSettings,
    reconstruction: ReconstructionSettings,
    min_spots: int,
    path,
    truth_spots: pd.DataFrame | None = None,
    sample: int = 12,
    provenance: dict | None = None,
) -> pd.DataFrame:
    """Draw Fig. 4 to `path`; returns the accuracy-by-blur table."""
    settings = measured_settings(store_dir, settings)
    saturation = store_saturation(store_dir)
    crystalline = crystalline_patterns(patterns, min_spots)
    shown = crystalline.sort_values("n_spots", kind="stable").iloc[len(crystalline) // 2]
    y, x = int(shown.scan_y), int(shown.scan_x)
    frame = read_frame(store_dir, scan_shape, y, x)
    table = frame_spots(spots, y, x)
    found = detect_spots(frame, settings, saturation)
    draw = in_detector_geometry(reconstruction)
    image = render_frame(table, (shown.centre_y, shown.centre_x), frame.shape, draw)

    figure, axes = plots.subplots(2, 3, (15, 9.5))
    (raw_ax, detect_ax, rec_ax), (blur_ax, rel_ax, diff_ax) = axes
    raw_ax.imshow(np.log1p(np.maximum(frame, 0)), cmap="gray", interpolation="nearest")
    raw_ax.set(
        title=f"(a) raw pattern, scan ({y}, {x}) (log scale)", xlabel="x (px)", ylabel="y (px)"
    )
    detect_ax.imshow(
        np.sqrt(np.maximum(found.detection_on(frame.shape), 0)),
        cmap="gray",
        interpolation="nearest",
    )
    detect_ax.plot(found.cols, found.rows, "+", color="tab:blue", ms=6, label="pixel maxima")
    for cx, cy, r in zip(table["x"], table["y"], table["radius"]):
        detect_ax.add_patch(Circle((cx, cy), r, fill=False, color="tab:red", lw=0.8))
    detect_ax.set(
        title=f"(b) detection image: maxima (+), refined spots (o); {len(table['x'])} spots",
        xlabel="x (px)",
        ylabel="y (px)",
    )
    rec_ax.imshow(np.sqrt(image), cmap="gray", interpolation="nearest")
    rec_ax.set(title="(c) reconstruction (square-root scale)", xlabel="x (px)", ylabel="y (px)")

    sampled = evenly(crystalline, sample)
    frames = [
        read_frame(store_dir, scan_shape, int(p.scan_y), int(p.scan_x))
        for p in sampled.itertuples()
    ]
    truths = None
    if truth_spots is not None:
        truths = [
            truth_spots[
                (truth_spots.scan_y == p.scan_y) & (truth_spots.scan_x == p.scan_x)
            ].reset_index(drop=True)
            for p in sampled.itertuples()
        ]
    by_blur = accuracy_by_blur(frames, settings, draw, saturation, truths)
    blur_ax.plot(
        by_blur.blur_sigma,
        by_blur.round_trip_px,
        "o-",
        label="round trip (reconstruction re-registered)",
    )
    if truths is not None:
        blur_ax.plot(by_blur.blur_sigma, by_blur.truth_px, "s-", label="against the truth")
    if settings.detection == "prominence":
        blur_ax.axvline(
            settings.blur_sigma,
            color="k",
            ls=":",
            lw=0.8,
            label=f"setting ({settings.blur_sigma:g} px)",
        )
    else:  # the matched filter has no blur: its errors are levels beside the paper's curves
        levels = position_errors(frames, settings, draw, saturation, truths)
        for level, style, name in zip(levels, ("--", ":"), ("round trip", "against the truth")):
            if np.isfinite(level):
                blur_ax.axhline(level, color="k", ls=style, lw=0.8, label=f"matched: {name}")
    errors = by_blur[["round_trip_px", "truth_px"]].to_numpy()
    blur_ax.set(
        xlabel="Gaussian blur sigma of the paper's detection (px)",
        ylabel="median position error (px)",
        yscale="log" if (errors > 0).any() else "linear",  # no positive error: nothing to log
        title=f"(d) position accuracy vs filtering ({len(frames)} patterns)",
    )
    blur_ax.legend(fontsize=8)

    mine = pairs[
        (pairs.scan_y == y)
        & (pairs.scan_x == x)
        & ~pairs.is_direct_beam
        & pairs.integrated_reconstructed.notna()
    ]
    brightest = mine.integrated.max() if len(mine) else 1.0
    rel_ax.plot(mine.integrated / brightest, mine.integrated_reconstructed / brightest, "o", ms=4)
    rel_ax.plot([0, 1], [0, 1], "k-", lw=0.8)
    rel_ax.set(
        xlabel="raw minus background (relative to the brightest spot)",
        ylabel="reconstruction (relative)",
        title="(e) relative intensities of the pattern's spots",
    )
    disc = np.pi * np.asarray(table["radius"], np.float64)[mine.spot.to_numpy()] ** 2
    difference = (mine.integrated_reconstructed - mine.integrated).to_numpy() / disc
    diff_ax.bar(mine.spot, difference, color="tab:purple")
    diff_ax.set(
        xlabel="spot (prominence order)",
        ylabel="reconstruction - raw (counts / px)",
        title="(f) intensity difference per spot",
    )
    grey = 255.0 / max(float(np.max(table["mean"][~table["is_direct_beam"]], initial=0.0)), 1e-12)
    diff_ax.secondary_yaxis("right", functions=(lambda v: v * grey, lambda g: g / grey)).set_ylabel(
        "grey levels (of 256)"
    )
    plots.save(figure, path, provenance=provenance)
    return by_blur
