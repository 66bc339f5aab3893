"""What the figures share: reading single frames and their table rows, and choosing patterns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..provenance import record
from ..store import store_frames


def read_frame(store_dir, scan_shape, y: int, x: int) -> np.ndarray:
    """Frame (y, x) of a store as float32 (reads one frame)."""
    frames = store_frames(store_dir, flat=True)
    k = int(y) * scan_shape[1] + int(x)
    return frames[k : k + 1][0].astype(np.float32)


def frame_spots(spots: pd.DataFrame, y: int, x: int) -> dict:
    """The table rows of pattern (y, x) as {column: array}."""
    chosen = spots[(spots.scan_y == y) & (spots.scan_x == x)]
    return {c: chosen[c].to_numpy() for c in chosen.columns}


def crystalline_patterns(patterns: pd.DataFrame, min_spots: int) -> pd.DataFrame:
    """The registered patterns (frames neither non-finite nor constant: `flags` 0) with at least
    `min_spots` spots (every registered pattern if none has); the datasets' loop stops before
    this where no frame was registered."""
    registered = patterns[patterns["flags"] == 0]
    chosen = registered[registered.n_spots >= min_spots]
    return chosen if len(chosen) else registered


def evenly(table: pd.DataFrame, count: int) -> pd.DataFrame:
    """Up to `count` rows spread evenly over `table`."""
    return table.iloc[
        np.unique(np.linspace(0, len(table) - 1, min(count, len(table))).round().astype(int))
    ]


def figure_provenance(parameters: dict, inputs) -> dict:
    """The provenance of a figure: its parameters (the rule's code hash aside: `record` adds
    it) and the sha256 of its inputs (the data store through its sidecar, which holds the data's
    sha256)."""
    return record(
        {k: v for k, v in parameters.items() if k != "code"},
        inputs=[path for path in inputs if not str(path).endswith(".npy")],
    )
