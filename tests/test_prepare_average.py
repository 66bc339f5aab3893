"""Neighbour averaging (issue 4): exact means, the shift, and the noise it removes."""

import numpy as np
import pandas as pd
import pytest

from acomflow.prepare.average import averaged_lines, shift_frame
from acomflow.simulate.dataset import simulate
from acomflow.simulate.pattern import detector_gain, render_pattern
from acomflow.simulate.sample import build_sample
from acomflow.simulate.settings import SyntheticSettings
from acomflow.store import NpyFrames


def test_shift_moves_a_ramp_exactly():
    yy, xx = np.indices((20, 30)).astype(np.float32)
    ramp = 3.0 * yy + 2.0 * xx
    moved = shift_frame(ramp, 0.25, -0.6)
    np.testing.assert_allclose(
        moved[2:-2, 2:-2], (ramp - 3.0 * 0.25 + 2.0 * 0.6)[2:-2, 2:-2], atol=1e-4
    )
    assert np.array_equal(shift_frame(ramp, 0.0, 0.0), ramp)


@pytest.mark.parametrize("dy,dx", [(0.25, -0.6), (1.7, 0.0), (-2.3, 3.5), (0.0, -0.01)])
def test_shift_is_scipys_bilinear_shift(dy, dx):
    from scipy import ndimage

    frame = np.random.default_rng(1).random((40, 33)).astype(np.float32) * 1000
    reference = ndimage.shift(
        frame.astype(np.float64), (dy, dx), order=1, mode="nearest", prefilter=False
    )
    np.testing.assert_allclose(shift_frame(frame, dy, dx), reference, rtol=0, atol=1e-3)


def test_unshifted_average_is_the_mean_of_the_neighbours_that_exist():
    data = np.random.default_rng(0).random((4, 5, 6, 7)).astype(np.float32)
    centres = np.full((4, 5, 2), 3.0)
    got = np.stack([frames for _, frames in averaged_lines(data, 0, 4, centres, 3)])
    for y in range(4):
        for x in range(5):
            expected = data[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].mean(
                axis=(0, 1), dtype=np.float64
            )
            np.testing.assert_allclose(got[y, x], expected, rtol=1e-6)
    assert [y for y, _ in averaged_lines(data, 1, 3, centres, 5)] == [1, 2]


def test_three_by_three_divides_the_noise_by_three_on_a_uniform_grain(tmp_path):
    settings = SyntheticSettings(
        scan_shape=(5, 5),
        frame_size=128,
        n_grains=1,
        vacuum_fraction=0.0,
        amorphous_fraction=0.0,
        dose_variation=0.0,
        descan=0.2,
        dtype="float32",
        seed=3,
    )
    simulate(settings, tmp_path / "sim")
    sample, gain = build_sample(settings), detector_gain(settings)
    truth = pd.read_parquet(tmp_path / "sim/truth/patterns.parquet")
    centres = truth[["centre_y", "centre_x"]].to_numpy().reshape(5, 5, 2)
    lines = NpyFrames(tmp_path / "sim/raw/data.npy")
    clean = np.stack(
        [
            [gain * render_pattern(sample, settings, y, x).expected for x in range(5)]
            for y in range(5)
        ]
    )
    averaged = dict(averaged_lines(lines, 2, 3, centres, 3))[2][2]
    averaged_clean = dict(averaged_lines(clean, 2, 3, centres, 3))[2][2]
    single = lines[2:3][0][2].astype(np.float64)
    spots = pd.DataFrame(render_pattern(sample, settings, 2, 2).spots)
    yy, xx = np.indices(single.shape)
    discs = np.zeros(single.shape, bool)
    for spot in spots[~spots.is_direct_beam].itertuples():  # the beam's core is saturated
        discs |= np.hypot(yy - spot.y, xx - spot.x) <= spot.radius
    noise_single = np.std((single - clean[2, 2])[discs])
    noise_averaged = np.std((averaged - averaged_clean)[discs])
    assert 2.8 <= noise_single / noise_averaged <= 3.3, (
        noise_single / noise_averaged
    )  # measured 3.02: SNR x 3
    neighbours = (
        clean[1:4, 1:4][..., discs].sum(axis=-1).mean()
    )  # thickness varies: the neighbours' mean
    assert abs(averaged_clean[discs].sum() - neighbours) <= 0.01 * neighbours


def test_registration_of_averaged_frames_is_more_precise(tmp_path):
    from scipy.spatial import cKDTree

    from acomflow.prepare.centring import centre_dataset
    from acomflow.register.dataset import register_lines
    from acomflow.register.settings import RegistrationSettings

    settings = SyntheticSettings(
        scan_shape=(5, 6),
        frame_size=256,
        n_grains=1,
        vacuum_fraction=0.0,
        amorphous_fraction=0.0,
        dose_variation=0.0,
        descan=0.5,
        dose=2e4,
        seed=5,
    )
    simulate(settings, tmp_path / "sim")
    centre_dataset(tmp_path / "sim/raw", tmp_path / "centres.parquet")
    truth = pd.read_parquet(tmp_path / "sim/truth/spots.parquet")
    truth = truth[(truth.scan_y == 2) & (truth.scan_x.between(1, 4)) & ~truth.is_direct_beam]
    medians = {}
    for size in (1, 3):
        spots, _ = register_lines(
            tmp_path / "sim/raw", 2, 3, RegistrationSettings(), tmp_path / "centres.parquet", size
        )
        errors = []
        for x in range(1, 5):
            t, s = truth[truth.scan_x == x], spots[(spots.scan_x == x) & ~spots.is_direct_beam]
            distance, _ = cKDTree(np.c_[t.y, t.x]).query(np.c_[s.y, s.x])
            errors += list(distance[distance < 2.0])
        medians[size] = np.median(errors), len(errors)
    assert medians[3][0] <= 0.6 * medians[1][0]  # measured 0.094 -> 0.036 px
    assert medians[3][1] >= medians[1][1]  # no fewer spots found


def test_averaged_registration_does_not_depend_on_the_shard_lines(tmp_path):
    from acomflow.prepare.centring import centre_dataset
    from acomflow.register.dataset import register_lines
    from acomflow.register.settings import RegistrationSettings

    simulate(
        SyntheticSettings(scan_shape=(5, 3), frame_size=96, n_grains=2, seed=6), tmp_path / "sim"
    )
    centre_dataset(tmp_path / "sim/raw", tmp_path / "centres.parquet")
    run = lambda a, b: register_lines(
        tmp_path / "sim/raw", a, b, RegistrationSettings(), tmp_path / "centres.parquet", 3
    )
    whole, parts = run(0, 5), [run(0, 2), run(2, 3), run(3, 5)]
    pd.testing.assert_frame_equal(whole[0], pd.concat([p[0] for p in parts], ignore_index=True))
    pd.testing.assert_frame_equal(whole[1], pd.concat([p[1] for p in parts], ignore_index=True))
