"""Dataset-level figures of merit and the metrics plots.

Compression factor: raw data bytes over the bytes of the registered table (spots.parquet +
patterns.parquet). Spots per pattern: over the whole scan and over crystalline patterns (spot
count >= the crystalline threshold; the paper: 10.0 and 28.3). Intensity conservation: the
integrated counts of each diffracted spot in the reconstruction against the table's (raw minus
background), a least-squares line through the origin, its slope and R^2. Frames that could not
be registered (not finite, or constant: the patterns table's flags) are counted apart and left
out of every other figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from .. import plots
from ..register.frame import PATTERN_CONSTANT, PATTERN_NON_FINITE


def intensity_fit(pairs: pd.DataFrame) -> dict:
    """Slope through the origin, R^2 and median relative difference of the paired diffracted
    spots' reconstructed vs table integrated intensities."""
    ok = pairs[
        ~pairs.is_direct_beam & pairs.integrated_reconstructed.notna() & (pairs.integrated > 0)
    ]
    if len(ok) < 2:
        return {
            "spots": len(ok),
            "slope": np.nan,
            "r2": np.nan,
            "median_relative_difference": np.nan,
        }
    x, y = ok.integrated.to_numpy(np.float64), ok.integrated_reconstructed.to_numpy(np.float64)
    slope = float(x @ y / (x @ x))
    r2 = 1.0 - float(((y - slope * x) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    return {
        "spots": len(ok),
        "slope": slope,
        "r2": r2,
        "median_relative_difference": float(np.median(np.abs(y / x - 1))),
    }


def summarise(
    quality: pd.DataFrame,
    pairs: pd.DataFrame,
    patterns: pd.DataFrame,
    raw_bytes: int,
    table_bytes: int,
    crystalline_min_spots: int,
) -> dict:
    """The dataset's figures of merit (see the module docstring)."""
    flags = patterns["flags"].to_numpy()
    usable = flags == 0
    keys = ["scan_y", "scan_x"]
    kept = patterns.loc[usable, keys]
    quality = quality.merge(kept, on=keys)
    pairs = pairs.merge(kept, on=keys)
    count = patterns.n_spots.to_numpy()[usable]
    crystalline = count >= crystalline_min_spots
    return {
        "patterns": len(patterns),
        "unusable_patterns": {
            "not_finite": int(np.count_nonzero(flags & PATTERN_NON_FINITE)),
            "constant": int(np.count_nonzero(flags & PATTERN_CONSTANT)),
        },
        "spots": int(count.sum()),
        "compression_factor": raw_bytes / table_bytes,
        "spots_per_pattern": float(count.mean()) if len(count) else np.nan,
        "crystalline_patterns": int(crystalline.sum()),
        "spots_per_crystalline_pattern": float(count[crystalline].mean())
        if crystalline.any()
        else np.nan,
        "psnr_median_db": float(np.nanmedian(quality.psnr)),
        "ssim_median": float(np.nanmedian(quality.ssim)),
        "rmse_median": float(np.nanmedian(quality.rmse)),
        "round_trip_offset_median_px": float(np.nanmedian(pairs.offset))
        if pairs.offset.notna().any()
        else np.nan,
        "round_trip_offset_p90_px": float(np.nanpercentile(pairs.offset, 90))
        if pairs.offset.notna().any()
        else np.nan,
        "intensity": intensity_fit(pairs),
    }


def plot_quality_maps(
    quality: pd.DataFrame, scan_shape, scan_step_nm, path, provenance: dict | None = None
) -> None:
    """PSNR, SSIM and RMSE as scan maps."""
    figure, axes = plots.subplots(1, 3, (14, 4.2))
    for ax, (column, title, label) in zip(
        axes, (("psnr", "PSNR", "dB"), ("ssim", "SSIM", "SSIM"), ("rmse", "RMSE", "counts"))
    ):
        image = quality[column].to_numpy().reshape(scan_shape)
        plots.scan_image(
            figure,
            ax,
            np.where(np.isfinite(image), image, np.nan),
            title,
            label,
            scan_step_nm,
            cmap="viridis",
        )
    plots.save(figure, path, provenance=provenance)


def plot_intensity(pairs: pd.DataFrame, fit: dict, path, provenance: dict | None = None) -> None:
    """Reconstructed vs table integrated intensity of every paired diffracted spot, with the fit,
    and the relative difference against the table intensity."""
    ok = pairs[
        ~pairs.is_direct_beam & pairs.integrated_reconstructed.notna() & (pairs.integrated > 0)
    ]
    figure, (left, right) = plots.subplots(1, 2, (11, 4.4))
    left.loglog(ok.integrated, ok.integrated_reconstructed, ".", ms=2, alpha=0.4)
    if len(ok):
        span = np.array([ok.integrated.min(), ok.integrated.max()])
        left.plot(
            span, fit["slope"] * span, "r-", label=f"slope {fit['slope']:.4f}, R² {fit['r2']:.4f}"
        )
        left.legend()
    left.set(
        xlabel="table: raw minus background (counts)",
        ylabel="reconstruction (counts)",
        title="integrated intensity per spot",
    )
    right.semilogx(
        ok.integrated, 100 * (ok.integrated_reconstructed / ok.integrated - 1), ".", ms=2, alpha=0.4
    )
    right.axhline(0, color="k", lw=0.8)
    right.set(
        xlabel="table: raw minus background (counts)",
        ylabel="reconstruction - table (%)",
        title="relative difference",
    )
    plots.save(figure, path, provenance=provenance)


# Independent disc positions in a pattern: a frame's area over the matched disc's, the same at
# any frame size when the disc's radius (2.5 px at 256 px) follows the frame's.
DISC_POSITIONS = 256**2 / (np.pi * 2.5**2)


def matched_filter_limit(snr, false_spots: float = 1.0, positions: float = DISC_POSITIONS):
    """Recall at integrated SNR `snr` of an ideal matched filter that knew the background and
    each spot's disc: its statistic is normal about the SNR with unit spread, and its threshold
    gives `false_spots` expected false spots per pattern among `positions` independent
    positions: Phi(SNR - t), t = Phi^-1(1 - false_spots / positions) (3.4 sigma for one)."""
    # scipy.special, not scipy.stats: every workflow job importing this module would pay for
    # the import of scipy.stats
    return ndtr(np.asarray(snr, np.float64) + ndtri(false_spots / positions))


def snr_bin_centres(bins) -> np.ndarray:
    """Geometric centres of SNR bins labelled "[low, high)" (an open bin: 1.4 x its low edge)."""
    centres = []
    for label in bins:
        low, high = (float(v) for v in label.strip("[)").split(","))
        centres.append(np.sqrt(low * high) if np.isfinite(high) else 1.4 * low)
    return np.array(centres)


def plot_recall_against_limit(axis, recalls: dict) -> None:
    """On `axis`: each named recall table's recall by SNR bin (`recall_all["snr"]`) against the
    bin's SNR, beside the matched-filter limit at one false spot per pattern."""
    snr = np.geomspace(3, 80, 200)
    axis.plot(
        snr, matched_filter_limit(snr), "k--", lw=1, label="matched-filter limit, 1 false/pattern"
    )
    for name, table in recalls.items():
        bins = table["snr"]
        axis.plot(snr_bin_centres(bins), [bins[b]["recall"] for b in bins], "o-", ms=4, label=name)
    axis.set(
        xscale="log",
        xlabel="integrated SNR",
        ylabel="recall",
        ylim=(0, 1.05),
        title="every spot of SNR >= 5 (overlapping discs as one)",
    )
    ticks = [3, 5, 7, 10, 15, 20, 50]
    axis.set_xticks(ticks, labels=[str(t) for t in ticks])
    axis.minorticks_off()
    axis.legend(fontsize=8)


def plot_accuracy(
    by_snr: pd.DataFrame, recall_all: dict, path, provenance: dict | None = None
) -> None:
    """Recall and position error against the truth by integrated SNR bin: of the isolated
    spots, and the recall over every spot beside the matched-filter limit."""
    figure, (left, middle, right) = plots.subplots(1, 3, (16, 4.2))
    left.bar(by_snr.snr, by_snr.recall)
    left.axhline(0.95, color="r", ls="--", lw=0.8, label="0.95")
    left.set(xlabel="integrated SNR", ylabel="recall", ylim=(0, 1.05), title="isolated spots found")
    left.legend()
    plot_recall_against_limit(middle, {"registration": recall_all})
    right.plot(by_snr.snr, by_snr.error_median, "o-", label="median")
    right.plot(by_snr.snr, by_snr.error_p90, "s--", label="90th percentile")
    right.set(
        xlabel="integrated SNR", ylabel="position error (px)", yscale="log", title="position error"
    )
    right.legend()
    plots.save(figure, path, provenance=provenance)
