"""ePattern Results_All.csv export and import."""

import numpy as np
import pandas as pd
import pytest

from acomflow.epattern_csv import COLUMNS, read_results_all, to_results_all, write_results_all


@pytest.fixture
def table():
    spots = pd.DataFrame(
        {
            "scan_y": [0, 0, 0, 2],
            "scan_x": [0, 0, 0, 1],
            "spot": [0, 1, 2, 0],
            "x": np.array([127.25, 60.0, 190.125, 128.0], np.float32),
            "y": np.array([127.5, 64.75, 30.0, 126.0], np.float32),
            "radius": np.float32([4.5, 2.0, 2.5, 4.0]),
            "mean": np.float32([5000.0, 40.5, 33.25, 4800.0]),
            "std": np.float32([10.0, 3.5, 2.25, 11.0]),
            "prominence": np.float32([6000.0, 70.0, 51.5, 5900.0]),
        }
    )
    patterns = pd.DataFrame(
        {
            "scan_y": [0, 0, 1, 1, 2, 2],
            "scan_x": [0, 1, 0, 1, 0, 1],
            "prominence_min": np.float32([12.5, 13.0, 14.0, 15.0, 16.0, 17.0]),
        }
    )
    return spots, patterns


def test_export_uses_epattern_conventions(table):
    spots, patterns = table
    legacy = to_results_all(spots, patterns)
    assert list(legacy.columns) == COLUMNS
    assert legacy[["X_scan", "Y_scan"]].values.tolist() == [[1, 1], [1, 1], [1, 1], [2, 3]]
    assert legacy.X_acc.tolist() == [127.75, 60.5, 190.625, 128.5]  # ImageJ: numpy + 0.5
    assert legacy.Y_acc.tolist() == [128.0, 65.25, 30.5, 126.5]
    assert legacy.Prominence_min.tolist() == [12.5, 12.5, 12.5, 17.0]


def test_round_trip(table, tmp_path):
    spots, patterns = table
    path = tmp_path / "Results_All.csv"
    write_results_all(spots, patterns, path)
    back = read_results_all(path)
    for name in ("scan_y", "scan_x", "spot"):
        assert back[name].tolist() == spots[name].tolist()
    for name in ("x", "y", "radius", "mean", "std", "prominence"):
        np.testing.assert_array_equal(
            back[name].to_numpy(np.float32), spots[name].to_numpy(np.float32)
        )
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)


def test_import_rejects_other_tables(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(
        ValueError, match="other.csv: not an ePattern Results_All table, missing columns"
    ):
        read_results_all(path)
    path.write_text(",".join(COLUMNS) + "\n0,1,1,1,1,1,1,1,1\n")
    with pytest.raises(ValueError, match="1-based"):
        read_results_all(path)
