"""The dataset loop: every stage is a per-frame function run over a block of scan lines.

A stage reads scan lines [start, stop) of a dataset: the frames of each line from a store
(`store_lines`, plain file reads: memory holds one line) or from another line source (neighbour
averaging), each frame's rows of the registered spots table (`table_lines`: it is sorted by
scan_y, scan_x and read in record batches), or both. `scan_lines` zips them into `Frame`s;
`run` applies the stage's per-frame function to each and collects its results into typed
tables; `run_shard` writes them, with the block's lines in their metadata, for
`tables.concat_shards` to merge in line order. The per-frame work does not depend on the block,
so merged tables are byte-identical whatever the shard count.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from .heap import reuse_freed_blocks
from .logs import Progress
from .store import store_frames
from .tables import line_frames, table_lines, write_table

SCAN_COLUMNS = ("scan_y", "scan_x")


class Frame(NamedTuple):
    """One scan position: its indices, its frame (ky, kx) in the store's dtype (None when the
    stage reads no frames) and its rows of the spots table, {column: array} (None when the stage
    reads no table)."""

    y: int
    x: int
    data: np.ndarray | None
    rows: dict | None


def store_lines(store_dir, lines: tuple[int, int]) -> Iterator[tuple[int, np.ndarray]]:
    """(y, the (nx, ky, kx) frames of scan line y) for y in [start, stop) of a store."""
    frames = store_frames(store_dir)
    for y in range(*lines):
        yield y, frames[y : y + 1][0]


def scan_lines(
    scan_shape, lines: tuple[int, int], frames: Iterable | None = None, spots=None, columns=()
) -> Iterator[tuple[int, list[Frame]]]:
    """(y, [Frame per scan x]) for y in [start, stop): the frames from `frames`, an iterable of
    (y, line frames) over the same lines (e.g. `store_lines`), the rows from the spots table at
    `spots` (its `columns`, scan_y and scan_x included)."""
    start, stop = lines
    nx = scan_shape[1]
    frame_lines = iter(frames) if frames is not None else None
    row_lines = table_lines(spots, stop, list(columns)) if spots is not None else None
    for y in range(start, stop):
        data = [None] * nx
        if frame_lines is not None:
            line, data = next(frame_lines)
            if line != y:
                raise ValueError(f"frame source gave scan line {line} where line {y} was due")
        rows = [None] * nx
        if row_lines is not None:
            line, table = next(row_lines)
            while line < y:
                line, table = next(row_lines)
            rows = line_frames(table, nx)
        yield y, [Frame(y, x, data[x], rows[x]) for x in range(nx)]


@dataclasses.dataclass(frozen=True)
class Stage:
    """A per-frame function and the typed tables its results fill.

    `per_frame(frame)` returns a dict. Under each name of `tables` it gives that table's values
    for the frame: a scalar per column (one row) or equal-length arrays (one row per element,
    scalars repeated); `scan_y` and `scan_x` are filled in. A table the result leaves out gets
    no row from that frame. Other keys (a rendered frame, say) reach `run`'s `on_line` only.
    """

    label: str
    per_frame: Callable[[Frame], dict]
    tables: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)


def _rows(values: dict, dtypes: Mapping[str, str], y: int, x: int) -> dict[str, np.ndarray]:
    """One frame's rows of a table as {column: 1D array}."""
    lengths = {np.size(v) for v in values.values() if np.ndim(v)}
    if len(lengths) > 1:
        raise ValueError(
            f"columns of unequal lengths {sorted(lengths)} at scan position ({y}, {x})"
        )
    n = lengths.pop() if lengths else 1
    rows = {"scan_y": np.full(n, y), "scan_x": np.full(n, x)}
    for name in dtypes:
        if name not in SCAN_COLUMNS:
            value = values[name]
            rows[name] = np.asarray(value) if np.ndim(value) else np.full(n, value)
    return rows


def _table(parts: list[dict], dtypes: Mapping[str, str]) -> pd.DataFrame:
    """The rows of every frame as one table of `dtypes`."""
    return pd.DataFrame(
        {
            name: np.concatenate([part[name] for part in parts]) if parts else np.empty(0)
            for name in dtypes
        }
    ).astype(dict(dtypes))


def run(
    stage: Stage,
    lines: Iterable[tuple[int, list[Frame]]],
    n_frames: int,
    on_line: Callable[[int, list[dict]], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Apply `stage` to every frame of `lines` (from `scan_lines`; `n_frames` of them, for the
    progress log); returns {table: DataFrame}. `on_line(y, results)` receives each line's
    per-frame results, in scan x order, as they come."""
    reuse_freed_blocks()
    parts = {name: [] for name in stage.tables}
    progress = Progress(stage.label, n_frames)
    for y, frames in lines:
        results = [stage.per_frame(frame) for frame in frames]
        for frame, result in zip(frames, results):
            for name, dtypes in stage.tables.items():
                if name in result:
                    parts[name].append(_rows(result[name], dtypes, frame.y, frame.x))
        if on_line is not None:
            on_line(y, results)
        progress.update(len(frames))
    return {name: _table(parts[name], dtypes) for name, dtypes in stage.tables.items()}


def run_shard(
    stage: Stage,
    lines: Iterable[tuple[int, list[Frame]]],
    block: tuple[int, int],
    nx: int,
    paths: Mapping[str, str | os.PathLike],
    metadata: dict | None = None,
) -> dict[str, pd.DataFrame]:
    """`run` over the scan lines `block` [start, stop) of width `nx`, each table written to its
    path in `paths` with the block's lines (and `metadata`) in its metadata, for
    `tables.concat_shards`; returns the tables."""
    tables = run(stage, lines, (block[1] - block[0]) * nx)
    for name, path in paths.items():
        write_table(tables[name], path, {"lines": list(block), **(metadata or {})})
    return tables
