"""The metrics of one dataset, written to results/{dataset}/metrics/: quality.parquet (per
pattern), spot_pairs.parquet (per spot, the round trip), summary.json and their plots. The
per-frame work runs in shards of scan lines (`metrics_shard`; one shard for the whole), merged
by `metrics_dataset`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..logs import logger
from ..provenance import record, write_json
from ..reconstruct.settings import ReconstructionSettings
from ..register.settings import RegistrationSettings
from ..scan import run_shard
from ..store import SIDECAR_NAME, read_sidecar
from ..tables import concat_shards, shard_lines, write_table
from .quality import PAIR_COLUMNS, PATTERN_COLUMNS, quality_lines
from .summary import plot_intensity, plot_quality_maps, summarise


def metrics_shard(
    store_dir,
    shard: int,
    n_shards: int,
    spots_path,
    patterns_path,
    registration: RegistrationSettings,
    reconstruction: ReconstructionSettings,
    quality_path,
    pairs_path,
) -> None:
    """Quality and round trip of shard `shard` (0-based) of `n_shards` blocks of scan lines,
    written as two Parquet tables for `metrics_dataset` to merge."""
    block = shard_lines(read_sidecar(store_dir)["scan_shape"][0], n_shards, shard)
    stage, frames, block, nx = quality_lines(
        store_dir, spots_path, patterns_path, registration, reconstruction, block
    )
    run_shard(stage, frames, block, nx, {"quality": quality_path, "pairs": pairs_path})


def metrics_dataset(
    store_dir,
    spots_path,
    patterns_path,
    shards,
    out_dir,
    registration: RegistrationSettings,
    reconstruction: ReconstructionSettings,
    crystalline_min_spots: int,
) -> dict:
    """The metrics of one dataset from the (quality, pairs) Parquet paths of its `metrics_shard`
    jobs, in any order: merged tables, summary and plots; returns the summary."""
    out_dir = Path(out_dir)
    sidecar = read_sidecar(store_dir)
    quality = concat_shards([quality_path for quality_path, _ in shards], PATTERN_COLUMNS)
    pairs = concat_shards([pairs_path for _, pairs_path in shards], PAIR_COLUMNS)
    provenance = record(
        {
            "registration": registration.as_dict(),
            "reconstruction": reconstruction.as_dict(),
            "crystalline_min_spots": crystalline_min_spots,
        },
        inputs=[Path(store_dir) / SIDECAR_NAME, spots_path, patterns_path],
    )
    table_bytes = Path(spots_path).stat().st_size + Path(patterns_path).stat().st_size
    summary = summarise(
        quality,
        pairs,
        pd.read_parquet(patterns_path),
        sidecar["data"]["bytes"],
        table_bytes,
        crystalline_min_spots,
    )
    write_table(quality, out_dir / "quality.parquet", provenance)
    write_table(pairs, out_dir / "spot_pairs.parquet", provenance)
    write_json(out_dir / "summary.json", {**summary, "provenance": provenance})
    plot_quality_maps(
        quality,
        sidecar["scan_shape"],
        sidecar["calibration"].get("scan_step_nm"),
        out_dir / "quality_maps.png",
        provenance,
    )
    plot_intensity(pairs, summary["intensity"], out_dir / "intensity.png", provenance)
    logger.info(
        "compression factor %.0f; %.1f spots per pattern, %.1f per crystalline pattern; "
        "frames not registered: %d not finite, %d constant",
        summary["compression_factor"],
        summary["spots_per_pattern"],
        summary["spots_per_crystalline_pattern"],
        summary["unusable_patterns"]["not_finite"],
        summary["unusable_patterns"]["constant"],
    )
    return summary
