"""Parquet tables with the pipeline's provenance in the file's key-value metadata."""

from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .provenance import atomic_path, to_builtin

METADATA_KEY = b"acomflow"


def write_table(frame: pd.DataFrame, path: str | os.PathLike, metadata: dict) -> None:
    """Write `frame` (index dropped) to Parquet with `metadata` as JSON under key 'acomflow'.

    The write is atomic and deterministic: the same frame and metadata give the same bytes.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    merged = dict(table.schema.metadata or {})
    merged[METADATA_KEY] = json.dumps(to_builtin(metadata), sort_keys=True).encode()
    table = table.replace_schema_metadata(merged)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def read_metadata(path: str | os.PathLike) -> dict:
    """The acomflow metadata dictionary of a Parquet file written by `write_table`."""
    schema = pq.read_schema(path)
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise ValueError(f"{path}: no acomflow metadata in this Parquet file")
    return json.loads(raw)


def shard_lines(n_lines: int, n_shards: int, shard: int) -> tuple[int, int]:
    """Scan lines [start, stop) of shard `shard` (0-based) of `n_shards` near-equal blocks."""
    if not 0 <= shard < n_shards:
        raise ValueError(f"shard {shard} is not in 0..{n_shards - 1}")
    return n_lines * shard // n_shards, n_lines * (shard + 1) // n_shards


def concat_shards(paths, dtypes: dict) -> pd.DataFrame:
    """Shard tables, each with its scan lines [start, stop) as `lines` in its metadata (see
    `write_table`), concatenated in scan-line order whatever the order of `paths`."""
    tables = [
        pd.read_parquet(path)
        for path in sorted(paths, key=lambda path: read_metadata(path)["lines"])
    ]
    return pd.concat(
        [table for table in tables if len(table)] or [pd.DataFrame({c: [] for c in dtypes})],
        ignore_index=True,
    ).astype(dtypes)


def table_lines(spots_path, n_lines: int, columns, batch_rows: int = 65536):
    """Yield (y, {column: array}) for every scan line y < n_lines of a spots table sorted by scan_y
    (the table may go on beyond: its rest is not read)."""
    parquet = pq.ParquetFile(spots_path)
    schema = parquet.schema_arrow
    pending = {c: np.empty(0, schema.field(c).type.to_pandas_dtype()) for c in columns}
    y = 0
    for batch in itertools.chain(
        parquet.iter_batches(batch_size=batch_rows, columns=columns), [None]
    ):
        if batch is not None:
            pending = {
                c: np.concatenate([pending[c], batch.column(c).to_numpy(zero_copy_only=False)])
                for c in columns
            }
        lines = pending["scan_y"]
        if len(lines) and (lines[0] < y or np.any(np.diff(lines) < 0)):
            raise ValueError(f"{spots_path}: spots are not sorted by scan line")
        complete = (
            n_lines if batch is None else min(lines[-1] if len(lines) else y, n_lines)
        )  # the last line may go on
        while y < complete:
            stop = int(np.searchsorted(lines, y, side="right"))
            yield y, {c: v[:stop] for c, v in pending.items()}
            pending = {c: v[stop:] for c, v in pending.items()}
            lines = pending["scan_y"]
            y += 1
        if y == n_lines:
            return


def line_frames(line: dict, nx: int) -> list[dict]:
    """One scan line's spots (from `table_lines`, sorted by scan_x) split into its nx frames."""
    bounds = np.searchsorted(line["scan_x"], np.arange(nx + 1), side="left")
    return [{c: v[bounds[x] : bounds[x + 1]] for c, v in line.items()} for x in range(nx)]


def brightest_diffracted_mean(spots_path) -> float:
    """The largest mean (counts per px) of a registered spot that is not the direct beam (of any
    spot if there is none; 1 if none at all): the 8-bit reference of reconstructions and of the
    frames the ACOM comparison indexes."""
    best = best_any = 0.0
    for batch in pq.ParquetFile(spots_path).iter_batches(columns=["mean", "is_direct_beam"]):
        mean = batch.column("mean").to_numpy(zero_copy_only=False)
        direct = batch.column("is_direct_beam").to_numpy(zero_copy_only=False)
        best_any = max(best_any, float(mean.max(initial=0.0)))
        best = max(best, float(mean[~direct].max(initial=0.0)))
    return best or best_any or 1.0
