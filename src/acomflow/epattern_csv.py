"""The registered table as ePattern's `Results_All.csv`, and back, for users of the macros.

One row per spot, patterns in scan order and spots in table order (direct beam first):
X_scan, Y_scan: 1-based scan column and row; X_acc, Y_acc: spot centre in ImageJ coordinates
(px, numpy x + 0.5: ImageJ puts pixel centres at half-integers); Radius (px); Mean and StdDev of
the background-subtracted counts in the spot disc; Prominence_min: the pattern's threshold;
Prominence_pseudo: the spot's prominence. Patterns without a spot have no row. Conversion between
the two coordinate conventions happens here only (method.md §1).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .provenance import atomic_path

COLUMNS = [
    "X_scan",
    "Y_scan",
    "X_acc",
    "Y_acc",
    "Radius",
    "Mean",
    "StdDev",
    "Prominence_min",
    "Prominence_pseudo",
]


def to_results_all(spots: pd.DataFrame, patterns: pd.DataFrame) -> pd.DataFrame:
    """The Results_All table of a registered spots table and its patterns table."""
    threshold = patterns.set_index(["scan_y", "scan_x"])["prominence_min"]
    keys = pd.MultiIndex.from_arrays([spots.scan_y, spots.scan_x])
    return pd.DataFrame(
        {
            "X_scan": spots.scan_x.to_numpy() + 1,
            "Y_scan": spots.scan_y.to_numpy() + 1,
            "X_acc": spots.x.to_numpy(np.float64) + 0.5,
            "Y_acc": spots.y.to_numpy(np.float64) + 0.5,
            "Radius": spots.radius.to_numpy(),
            "Mean": spots["mean"].to_numpy(),
            "StdDev": spots["std"].to_numpy(),
            "Prominence_min": threshold.reindex(keys).to_numpy(),
            "Prominence_pseudo": spots.prominence.to_numpy(),
        }
    )


def write_results_all(spots: pd.DataFrame, patterns: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the Results_All.csv of a registered table (atomically; 9 significant digits)."""
    with atomic_path(path) as tmp:
        to_results_all(spots, patterns).to_csv(
            tmp, index=False, float_format="%.9g", lineterminator="\n"
        )


def read_results_all(path: str | os.PathLike) -> pd.DataFrame:
    """A Results_All.csv as a spots table: scan_y, scan_x (0-based), spot (rank in its pattern),
    x, y (numpy px), radius, mean, std, prominence, prominence_min."""
    table = pd.read_csv(path)
    missing = [name for name in COLUMNS if name not in table.columns]
    if missing:
        raise ValueError(f"{path}: not an ePattern Results_All table, missing columns {missing}")
    if len(table) and (table.X_scan.min() < 1 or table.Y_scan.min() < 1):
        raise ValueError(f"{path}: X_scan and Y_scan must be 1-based scan indices")
    spots = pd.DataFrame(
        {
            "scan_y": table.Y_scan.astype("int32") - 1,
            "scan_x": table.X_scan.astype("int32") - 1,
            "x": table.X_acc - 0.5,
            "y": table.Y_acc - 0.5,
            "radius": table.Radius,
            "mean": table.Mean,
            "std": table.StdDev,
            "prominence": table.Prominence_pseudo,
            "prominence_min": table.Prominence_min,
        }
    )
    spots.insert(
        2, "spot", spots.groupby(["scan_y", "scan_x"], sort=False).cumcount().astype("int32")
    )
    return spots
