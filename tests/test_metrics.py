"""Quality metrics and figures (issue 6): truth accuracy on a hand-made case, the round trip and
intensity conservation on a synthetic scan, and the figures' measurements."""

import numpy as np
import pandas as pd
import pytest

from acomflow.figures.compression import compression_by_spot_count
from acomflow.figures.registration import BLUR_SIGMAS, accuracy_by_blur
from acomflow.metrics.accuracy import oracle_centroids, truth_accuracy
from acomflow.metrics.dataset import metrics_dataset, metrics_shard
from acomflow.metrics.quality import frame_quality, in_detector_geometry, quality_dataset
from acomflow.metrics.summary import (
    DISC_POSITIONS,
    intensity_fit,
    matched_filter_limit,
    snr_bin_centres,
)
from acomflow.metrics.synthetic import bound_errors
from acomflow.reconstruct.settings import ReconstructionSettings
from acomflow.register.dataset import merge_shards, register_shard
from acomflow.register.settings import RegistrationSettings
from acomflow.simulate.dataset import simulate
from acomflow.simulate.render import disc_image
from acomflow.simulate.settings import SyntheticSettings
from acomflow.store import open_store


def test_truth_accuracy_counts_a_hand_made_case():
    truth_patterns = pd.DataFrame(
        {"scan_y": [0, 0], "scan_x": [0, 1], "region": ["crystal", "amorphous"]}
    )
    truth = pd.DataFrame(
        {
            "scan_y": 0,
            "scan_x": [0, 0, 0, 1],
            "x": [50.0, 80.0, 20.0, 50.0],
            "y": [50.0, 50.0, 70.0, 50.0],
            "radius": 4.0,
            "snr": [100.0, 30.0, 12.0, 100.0],
            "is_direct_beam": [True, False, False, True],
        }
    )
    spots = pd.DataFrame(
        {
            "scan_y": 0,
            "scan_x": [0, 0, 0, 1, 1],
            "x": [50.1, 80.3, 90.0, 50.0, 30.0],
            "y": [50.0, 50.4, 90.0, 50.0, 30.0],
            "is_direct_beam": [True, False, False, True, False],
        }
    )
    summary, by_snr = truth_accuracy(spots, truth, truth_patterns, frame_size=100)
    assert summary["precision_crystal"] == pytest.approx(2 / 3)
    assert summary["recall_snr_10"] == pytest.approx(0.5)  # (80, 50) found, (20, 70) missed
    assert (
        summary["false_spots_per_amorphous_pattern"] == 1.0
        and summary["direct_beam_flagged"] == 1.0
    )
    assert summary["position_error_median_px"] == pytest.approx(0.5)
    row = by_snr.set_index("snr").loc["[20.0, 50.0)"]
    assert row.spots == 1 and row.recall == 1.0


def test_the_oracle_centroid_ignores_the_neighbours_and_the_background():
    """Two Gaussian spots 6 px apart on a flat background of 20: the oracle centroid of each
    (its disc grown by 1 px, above the median of its ring clear of the other) is within 0.05 px
    of its true centre, although each one's ring crosses the other spot."""
    yy, xx = np.mgrid[:64, :64].astype(float)
    frame = np.full((64, 64), 20.0)
    truth = pd.DataFrame({"y": [30.3, 30.3], "x": [28.6, 34.6], "radius": [2.5, 2.5]})
    for y, x in zip(truth.y, truth.x, strict=True):
        frame += 100.0 * np.exp(-0.5 * ((yy - y) ** 2 + (xx - x) ** 2) / 1.0**2)
    errors = oracle_centroids(frame, truth, np.array([0, 1]))
    assert np.all(errors < 0.05)


def test_the_matched_filter_limit():
    """One false spot per pattern among ~3,300 disc positions sets the ideal filter's threshold
    at 3.43 sigma: half the spots found at that SNR, 94 % at SNR 5 (the issue's "about 93 %"),
    all at 10; bins are drawn at their geometric centres."""
    assert abs(DISC_POSITIONS - 3338) < 1
    recall = matched_filter_limit([3.43, 5.0, 10.0])
    np.testing.assert_allclose(recall, [0.5, 0.94, 1.0], atol=0.01)
    np.testing.assert_allclose(snr_bin_centres(["[5.0, 7.0)", "[50.0, inf)"]), [35**0.5, 70])


def test_frame_quality_of_a_perfect_and_an_offset_reconstruction():
    frame = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    assert frame_quality(frame, frame) == (np.inf, pytest.approx(1.0), 0.0)
    psnr, ssim, rmse = frame_quality(frame, frame + 0.1)
    assert rmse == pytest.approx(0.1, rel=1e-5) and psnr == pytest.approx(
        20 * np.log10((frame.max() - frame.min()) / 0.1), rel=1e-4
    )


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    root = tmp_path_factory.mktemp("metrics")
    simulate(SyntheticSettings(scan_shape=(6, 6), frame_size=128, seed=2), root)
    settings = RegistrationSettings(detection="prominence", fit_edge=0.0)  # the paper's (SPEC §6)
    register_shard(root / "raw", 0, 1, settings, root / "s.parquet", root / "p.parquet")
    merge_shards(
        root / "raw",
        [root / "s.parquet"],
        [root / "p.parquet"],
        root / "spots.parquet",
        root / "patterns.parquet",
    )
    return root, settings


def test_round_trip_and_intensity_conservation(registered):
    """SPEC §6: the reconstruction registered again lands on the table's positions (the paper:
    1e-2..1e-3 px) and gives back the spots' integrated intensities."""
    root, settings = registered
    quality, pairs = quality_dataset(
        root / "raw",
        root / "spots.parquet",
        root / "patterns.parquet",
        settings,
        ReconstructionSettings(),
    )
    assert len(quality) == 36 and len(pairs) == len(pd.read_parquet(root / "spots.parquet"))
    assert np.nanmedian(pairs.offset) <= 0.005
    fit = intensity_fit(pairs)
    assert abs(fit["slope"] - 1) <= 0.02 and fit["r2"] >= 0.99
    assert np.nanmedian(quality.ssim) >= 0.8


def test_round_trip_of_the_matched_detection(tmp_path):
    """A table of the default (matched) detection comes back from its reconstruction at 256 px:
    the reconstruction is found again by the paper's detection, as a noise-free image gives the
    matched filter no noise to weigh spots by (it found 1-2 of a pattern's ~30 spots, 80 px
    off)."""
    simulate(SyntheticSettings(scan_shape=(3, 3), frame_size=256, seed=5), tmp_path)
    settings = RegistrationSettings()
    register_shard(tmp_path / "raw", 0, 1, settings, tmp_path / "s.parquet", tmp_path / "p.parquet")
    tables = tmp_path / "spots.parquet", tmp_path / "patterns.parquet"
    merge_shards(tmp_path / "raw", [tmp_path / "s.parquet"], [tmp_path / "p.parquet"], *tables)
    quality, pairs = quality_dataset(tmp_path / "raw", *tables, settings, ReconstructionSettings())
    assert len(pairs) == len(pd.read_parquet(tables[0])) > 100
    assert pairs.offset.notna().all() and (pairs.offset <= 0.05).mean() >= 0.9
    assert np.nanmedian(pairs.offset) <= 0.005
    assert np.nanmedian(quality.ssim) >= 0.8


def test_metrics_in_shards_equal_the_whole(registered):
    """Shards of scan lines (8 for 6 lines: two are empty) merge into the very same tables."""
    root, settings = registered
    args = (root / "raw", root / "spots.parquet", root / "patterns.parquet")
    whole = [(root / "whole.quality.parquet", root / "whole.pairs.parquet")]
    metrics_shard(root / "raw", 0, 1, *args[1:], settings, ReconstructionSettings(), *whole[0])
    metrics_dataset(*args, whole, root / "whole", settings, ReconstructionSettings(), 5)
    shards = [(root / f"{i}.quality.parquet", root / f"{i}.pairs.parquet") for i in range(8)]
    for i, (quality, pairs) in reversed(
        list(enumerate(shards))
    ):  # the order of shards must not matter
        metrics_shard(
            root / "raw", i, 8, *args[1:], settings, ReconstructionSettings(), quality, pairs
        )
    assert len(pd.read_parquet(shards[0][0])) == 0 and len(pd.read_parquet(shards[1][0])) == 6
    metrics_dataset(*args, shards, root / "sharded", settings, ReconstructionSettings(), 5)
    for name in ("quality.parquet", "spot_pairs.parquet", "summary.json"):
        assert (root / "sharded" / name).read_bytes() == (root / "whole" / name).read_bytes()


def test_position_accuracy_against_the_blur(registered):
    """Fig. 4d: against the truth, the default blur (2 px) places spots within 0.15 px (median)."""
    root, settings = registered
    data = open_store(root / "raw")[0]
    truth = pd.read_parquet(root / "truth/spots.parquet")
    positions = [(2, 1), (4, 4), (5, 2)]
    frames = [np.asarray(data[y, x], np.float32) for y, x in positions]
    truths = [
        truth[(truth.scan_y == y) & (truth.scan_x == x)].reset_index(drop=True)
        for y, x in positions
    ]
    table = accuracy_by_blur(
        frames, settings, in_detector_geometry(ReconstructionSettings()), 65535.0, truths
    )
    assert list(table.blur_sigma) == list(BLUR_SIGMAS)
    assert table.set_index("blur_sigma").truth_px[2.0] <= 0.15
    assert (table.round_trip_px <= 0.05).all()


def test_compression_falls_with_spots_per_pattern(registered):
    root, _ = registered
    spots, patterns = (
        pd.read_parquet(root / "spots.parquet"),
        pd.read_parquet(root / "patterns.parquet"),
    )
    groups = compression_by_spot_count(spots, patterns, frame_bytes=128 * 128 * 2, groups=4)
    assert groups.patterns.sum() == 36
    assert np.all(np.diff(groups.spots_per_pattern) >= 0)
    assert np.all(np.diff(groups.compression_factor) < 0)


def test_recall_over_all_spots_counts_overlapping_discs_as_one():
    """Two overlapping discs make one group, found when either is; a group with the direct
    beam is left out; each group's neighbour distance is in its best member's radii."""
    truth_patterns = pd.DataFrame(
        {"scan_y": [0], "scan_x": [0], "region": ["crystal"], "dose": [1e4]}
    )
    truth = pd.DataFrame(
        {
            "scan_y": 0,
            "scan_x": 0,
            "x": [50.0, 70.0, 75.0, 50.0, 30.0],
            "y": [50.0, 50.0, 50.0, 80.0, 30.0],
            "radius": 4.0,
            "snr": [100.0, 6.0, 12.0, 8.0, 3.0],
            "is_direct_beam": [True, False, False, False, False],
        }
    )
    spots = pd.DataFrame(
        {
            "scan_y": 0,
            "scan_x": 0,
            "x": [50.0, 70.5],
            "y": [50.0, 50.0],
            "is_direct_beam": [True, False],
        }
    )
    summary, _ = truth_accuracy(spots, truth, truth_patterns, frame_size=100)
    recall = summary["recall_all"]
    # groups: {70, 75} (SNR 12, found through its fainter member), (50, 80) SNR 8 missed;
    # (30, 30) below SNR 5
    assert recall["groups"] == 2 and recall["recall"] == 0.5 and recall["recall_snr_10"] == 1.0
    assert recall["snr"] == {
        "[7.0, 10.0)": {"groups": 1, "recall": 0.0},
        "[10.0, 15.0)": {"groups": 1, "recall": 1.0},
    }
    # (75, 50) to (50, 80): 39.05 px = 9.8 radii; (50, 80) to the beam: 30 px = 7.5 radii
    assert set(recall["neighbour_radii"]) == {"[5.0, inf)"}


def test_the_position_bound_is_met_by_maximum_likelihood_and_undercut_by_the_oracle():
    """A disc as the generator draws it (radius 3.2 px, edge 0.5 px) on a flat background of
    10 electrons per px, 300 Poisson draws per dose: the maximum-likelihood centre, found by
    brute force over a 0.05 px grid with everything else known, has the median error
    `bound_errors` gives (0.94-0.99x of it at SNR 7 and 12); the oracle centroid, its window
    cut about the true centre, does better than any unbiased estimator can below SNR 12 (0.63x
    at SNR 7), so it is no level a detector can reach there."""
    size, radius, edge, background, cy, cx = 25, 3.2, 0.5, 10.0, 12.3, 12.6
    offsets = np.arange(-30, 31) * 0.05
    discs = np.array(
        [
            [disc_image((size, size), cy + a, cx + b, radius, 1.0, edge, 8) for b in offsets]
            for a in offsets
        ]
    )
    rng = np.random.default_rng(0)
    for electrons, oracle_below in ((150.0, 0.75), (300.0, 0.95)):
        truth = pd.DataFrame(
            {"y": [cy], "x": [cx], "radius": [radius], "electrons": [electrons]}
        ).assign(background=background * np.pi * radius**2)
        bound = bound_errors(truth, np.array([0]), edge, 8)[0]
        expected = electrons * discs + background
        log_expected, total = np.log(expected), expected.sum(axis=(2, 3))
        likelihood, oracle = [], []
        for _ in range(300):
            frame = rng.poisson(expected[30, 30]).astype(float)
            scores = np.tensordot(log_expected, frame, axes=([2, 3], [0, 1])) - total
            i, j = np.unravel_index(np.argmax(scores), scores.shape)
            likelihood.append(np.hypot(offsets[i], offsets[j]))
            oracle.append(oracle_centroids(frame, truth, np.array([0]))[0])
        assert 0.85 * bound < np.median(likelihood) < 1.15 * bound
        assert np.median(oracle) < oracle_below * bound
