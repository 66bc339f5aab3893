"""Fig. S11: compression factor against spots per pattern.

Patterns are grouped by their spot count; each group's spots and patterns are written as the
pipeline writes its table (Parquet, zstd) and the group's raw bytes are divided by those bytes,
less the fixed bytes of an empty table (schema and metadata, about 12 kB, which a large scan
amortises). A line bytes(n) = a + b n per pattern is fitted to the groups, giving the model
curve raw_bytes_per_frame / bytes(n).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import plots


def parquet_bytes(table: pd.DataFrame) -> int:
    """Bytes of `table` written as the pipeline writes Parquet (zstd)."""
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), sink, compression="zstd")
    return sink.getvalue().size


def compression_by_spot_count(
    spots: pd.DataFrame, patterns: pd.DataFrame, frame_bytes: int, groups: int = 8
) -> pd.DataFrame:
    """Per group of patterns with similar spot counts (quantile groups of at least 1 pattern):
    patterns, mean spots per pattern, table bytes and compression factor."""
    order = np.argsort(patterns.n_spots.to_numpy(), kind="stable")
    fixed = parquet_bytes(spots.iloc[:0]) + parquet_bytes(patterns.iloc[:0])
    rows = []
    for chunk in np.array_split(order, min(groups, len(order))):
        chosen = patterns.iloc[chunk]
        keys = pd.MultiIndex.from_frame(chosen[["scan_y", "scan_x"]])
        group_spots = spots[pd.MultiIndex.from_frame(spots[["scan_y", "scan_x"]]).isin(keys)]
        size = parquet_bytes(group_spots) + parquet_bytes(chosen) - fixed
        rows.append(
            {
                "patterns": len(chosen),
                "spots_per_pattern": chosen.n_spots.mean(),
                "table_bytes": size,
                "compression_factor": len(chosen) * frame_bytes / size,
            }
        )
    return pd.DataFrame(rows)


def figure_s11(
    spots: pd.DataFrame,
    patterns: pd.DataFrame,
    frame_bytes: int,
    dataset_factor: float,
    path,
    provenance: dict | None = None,
) -> pd.DataFrame:
    """Draw Fig. S11 to `path`; returns the groups' table."""
    groups = compression_by_spot_count(spots, patterns, frame_bytes)
    per_pattern = groups.table_bytes / groups.patterns
    if groups.spots_per_pattern.nunique() > 1:
        b, a = np.polyfit(groups.spots_per_pattern, per_pattern, 1)
    else:
        b, a = 0.0, per_pattern.mean()
    n = np.linspace(0, max(groups.spots_per_pattern.max() * 1.2, 10), 200)
    figure, ax = plots.subplots(1, 1, (6.5, 4.5))
    ax.plot(
        n,
        frame_bytes / (a + b * n),
        "-",
        color="0.5",
        label=f"model: {a:.0f} + {b:.1f} n bytes per pattern",
    )
    ax.plot(
        groups.spots_per_pattern,
        groups.compression_factor,
        "o",
        label="groups of patterns by spot count (table overhead left out)",
    )
    ax.plot(
        [patterns.n_spots.mean()],
        [dataset_factor],
        "*",
        ms=14,
        color="tab:red",
        label="whole dataset (files on disk)",
    )
    ax.set(
        xlabel="spots per pattern",
        ylabel="compression factor (raw bytes / table bytes)",
        yscale="log",
        title=f"compression vs spots per pattern ({frame_bytes / 1024:.0f} KiB frames)",
    )
    ax.legend(fontsize=8)
    plots.save(figure, path, provenance=provenance)
    return groups
