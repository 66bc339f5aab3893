"""The dataset loop: frames zipped with their table rows, per-frame results typed into tables,
and shards that concatenate to the whole."""

import numpy as np
import pandas as pd
import pytest

from acomflow.scan import Stage, run, run_shard, scan_lines, store_lines
from acomflow.store import StoreWriter
from acomflow.tables import concat_shards, write_table

NY, NX, K = 3, 4, 5
DTYPES = {"scan_y": "int32", "scan_x": "int32", "total": "float64", "spots": "int32"}
SPOT_DTYPES = {"scan_y": "int32", "scan_x": "int32", "value": "float32", "twice": "float32"}


@pytest.fixture
def dataset(tmp_path):
    """A 3 x 4 store of 5 x 5 frames valued y * 10 + x, and a spots table with (x % 3) spots per
    frame valued 100 y + 10 x + k."""
    frames = (np.arange(NY * NX, dtype=np.float32) // NX * 10 + np.arange(NY * NX) % NX).reshape(
        NY * NX, 1, 1
    )
    with StoreWriter(tmp_path / "store", (NY, NX, K, K), "float32", {}) as store:
        store.write(0, np.broadcast_to(frames, (NY * NX, K, K)))
    rows = [
        (y, x, 100 * y + 10 * x + k) for y in range(NY) for x in range(NX) for k in range(x % 3)
    ]
    spots = pd.DataFrame(rows, columns=["scan_y", "scan_x", "value"]).astype(
        {"scan_y": "int32", "scan_x": "int32"}
    )
    write_table(spots, tmp_path / "spots.parquet", {})
    return tmp_path / "store", tmp_path / "spots.parquet"


def stage():
    def per_frame(frame):
        total = float(frame.data.sum())
        return {
            "patterns": {"total": total, "spots": len(frame.rows["value"])},
            "spots": {"value": frame.rows["value"], "twice": 2 * frame.rows["value"]},
        }

    return Stage("test", per_frame, {"patterns": DTYPES, "spots": SPOT_DTYPES})


def lines(dataset, block):
    store, spots = dataset
    return scan_lines(
        (NY, NX), block, store_lines(store, block), spots, ["scan_y", "scan_x", "value"]
    )


def test_frames_meet_their_rows_and_results_are_typed(dataset):
    tables = run(stage(), lines(dataset, (0, NY)), NY * NX)
    patterns, spots = tables["patterns"], tables["spots"]
    assert (
        patterns.dtypes.astype(str).to_dict() == DTYPES
        and spots.dtypes.astype(str).to_dict() == SPOT_DTYPES
    )
    assert patterns.scan_y.tolist() == [y for y in range(NY) for _ in range(NX)]
    np.testing.assert_array_equal(patterns.total, (patterns.scan_y * 10 + patterns.scan_x) * K * K)
    np.testing.assert_array_equal(patterns.spots, patterns.scan_x % 3)
    np.testing.assert_array_equal(
        spots.value // 10, spots.scan_y * 10 + spots.scan_x
    )  # each row on its frame
    np.testing.assert_array_equal(spots.twice, 2 * spots.value)


def test_shards_concatenate_to_the_whole(dataset, tmp_path):
    whole = run(stage(), lines(dataset, (0, NY)), NY * NX)
    paths = []
    for block in ((2, 3), (0, 0), (0, 2)):  # in any order, an empty block included
        path = tmp_path / f"{block[0]}-{block[1]}.parquet"
        run_shard(stage(), lines(dataset, block), block, NX, {"spots": path})
        paths.append(path)
    pd.testing.assert_frame_equal(concat_shards(paths, SPOT_DTYPES), whole["spots"])


def test_a_frame_without_rows_of_a_table_adds_none(dataset):
    only_even = Stage(
        "even", lambda f: {"t": {"total": 1.0, "spots": 0}} if f.x % 2 == 0 else {}, {"t": DTYPES}
    )
    table = run(only_even, lines(dataset, (0, NY)), NY * NX)["t"]
    assert table.scan_x.tolist() == [0, 2] * NY


def test_unequal_columns_are_an_error(dataset):
    bad = Stage(
        "bad", lambda f: {"s": {"value": np.zeros(2), "twice": np.zeros(3)}}, {"s": SPOT_DTYPES}
    )
    with pytest.raises(ValueError, match=r"unequal lengths \[2, 3\] at scan position \(0, 0\)"):
        run(bad, lines(dataset, (0, 1)), NX)
