"""Direct-beam centres and the descan plane (issue 4) against the synthetic truth."""

import numpy as np
import pandas as pd
import pytest

from acomflow.prepare.centre import CENTRE_NOT_FOUND, beam_centre, fit_descan
from acomflow.prepare.centring import centre_dataset
from acomflow.simulate.dataset import simulate
from acomflow.simulate.settings import SyntheticSettings
from acomflow.store import StoreWriter
from acomflow.tables import read_metadata


@pytest.mark.parametrize("noise", [False, True])
def test_centres_and_descan_plane_against_the_truth(tmp_path, noise):
    extra = {} if noise else {"noise": False, "dtype": "float32", "saturation": 1e9}
    settings = SyntheticSettings(scan_shape=(6, 8), frame_size=256, seed=2, **extra)
    simulate(settings, tmp_path / "sim")
    table = centre_dataset(
        tmp_path / "sim/raw", tmp_path / "centres.parquet", tmp_path / "centres.png"
    )
    truth = pd.read_parquet(tmp_path / "sim/truth/patterns.parquet")
    assert {"vacuum", "amorphous", "crystal"} <= set(truth.region)
    error = np.hypot(table.centre_y - truth.centre_y, table.centre_x - truth.centre_x)
    plane_error = np.hypot(table.plane_y - truth.centre_y, table.plane_x - truth.centre_x)
    if noise:  # measured: median 0.012 px, plane within 0.007 px
        assert error.median() <= 0.03 and plane_error.max() <= 0.02
    else:  # issue 4: median <= 0.01 px noise-free; measured 0.0003 px, plane within 0.001 px
        assert error.median() <= 0.002 and plane_error.max() <= 0.003
    assert (table["flags"] == 0).all()
    truth_plane = read_metadata(tmp_path / "sim/truth/patterns.parquet")["descan"]
    fitted = read_metadata(tmp_path / "centres.parquet")["descan"]
    np.testing.assert_allclose(
        fitted["y"][1:], [truth_plane["dy_dscan_y"], truth_plane["dy_dscan_x"]], atol=2e-3
    )
    np.testing.assert_allclose(
        fitted["x"][1:], [truth_plane["dx_dscan_y"], truth_plane["dx_dscan_x"]], atol=2e-3
    )
    assert (tmp_path / "centres.png").read_bytes()[:4] == b"\x89PNG"


def test_descan_fit_flags_outliers_and_keeps_the_plane():
    rng = np.random.default_rng(4)
    yy, xx = (a.ravel() for a in np.indices((12, 15)))
    cy = 120.3 + 0.05 * yy - 0.02 * xx + rng.normal(0, 0.01, yy.size)
    cx = 131.7 - 0.03 * yy + 0.04 * xx + rng.normal(0, 0.01, yy.size)
    bad = rng.choice(yy.size, 9, replace=False)
    cy[bad] += rng.choice([-1, 1], 9) * rng.uniform(1, 5, 9)  # a grain edge pulls the beam
    cx[bad[:3]] = np.nan  # not measured
    coefficients, plane_y, plane_x, outlier = fit_descan(yy, xx, cy, cx)
    assert np.array_equal(np.flatnonzero(outlier), np.sort(bad[3:]))
    np.testing.assert_allclose(coefficients["y"], [120.3, 0.05, -0.02], atol=0.01)
    np.testing.assert_allclose(coefficients["x"], [131.7, -0.03, 0.04], atol=0.01)


def test_descan_of_too_few_centres_is_flat():
    """Two measured centres give their mean, none the fallback; a single line has no slope
    across it."""
    coefficients, plane_y, plane_x, outlier = fit_descan(
        np.zeros(3), np.arange(3), np.array([10.0, 12.0, np.nan]), np.array([5.0, 7.0, np.nan])
    )
    assert coefficients == {"y": [11.0, 0.0, 0.0], "x": [6.0, 0.0, 0.0]}
    assert plane_y.tolist() == [11.0] * 3 and plane_x.tolist() == [6.0] * 3 and not outlier.any()
    _, plane_y, plane_x, _ = fit_descan(
        np.zeros(2), np.arange(2), np.full(2, np.nan), np.full(2, np.nan), fallback=(31.5, 40.5)
    )
    assert plane_y.tolist() == [31.5] * 2 and plane_x.tolist() == [40.5] * 2
    x = np.arange(6.0)
    coefficients, plane_y, plane_x, _ = fit_descan(np.zeros(6), x, 20 + 0.5 * x, 30 - 0.25 * x)
    np.testing.assert_allclose(plane_y, 20 + 0.5 * x) and np.testing.assert_allclose(
        plane_x, 30 - 0.25 * x
    )


@pytest.mark.parametrize("frame", [np.full((64, 64), np.nan), np.zeros((64, 64))])
def test_a_frame_without_a_beam_is_flagged(frame):
    cy, cx, flags = beam_centre(frame)
    assert np.isnan(cy) and np.isnan(cx) and flags == CENTRE_NOT_FOUND


@pytest.mark.parametrize("value", [0, 65535])
def test_a_dataset_without_one_usable_frame_stops_saying_so(tmp_path, value):
    """Frames all zero, or saturated throughout: the centring stops with what is wrong with the
    data, and writes nothing."""
    with StoreWriter(tmp_path / "raw", (2, 3, 32, 32), np.uint16, {}) as store:
        store.write(0, np.full((6, 32, 32), value, np.uint16))
    with pytest.raises(ValueError, match="none of the 6 frames can be used: every one is constant"):
        centre_dataset(tmp_path / "raw", tmp_path / "centres.parquet")
    assert not (tmp_path / "centres.parquet").exists()
