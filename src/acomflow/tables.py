"""Parquet tables with the pipeline's provenance in the file's key-value metadata."""

from __future__ import annotations

import json
import os

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
