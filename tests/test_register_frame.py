"""Per-frame registration against the synthetic truth.

Integrated SNR of a spot: its signal electrons S over sqrt(S + B), B the diffuse electrons plus
read-noise variance inside its disc (simulate/pattern.py). Levels asserted are issue 3's targets
unless a comment gives the measured level of one not met yet.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from acomflow.metrics.accuracy import discs_apart, match
from acomflow.peaks.refine import FLAG_NOT_CONVERGED
from acomflow.register.frame import register_frame
from acomflow.register.settings import RegistrationSettings
from acomflow.simulate.pattern import detector_gain, record_frame, render_pattern
from acomflow.simulate.render import add_discs
from acomflow.simulate.sample import build_sample
from acomflow.simulate.settings import SyntheticSettings

PAPER = RegistrationSettings(
    detection="prominence", fit_edge=0.0
)  # the paper's, method.md §3.3-3.5


def frames(settings, positions):
    """(region, truth spots, recorded frame) for scan positions of a synthetic sample."""
    sample, gain = build_sample(settings), detector_gain(settings)
    for y, x in positions:
        pattern = render_pattern(sample, settings, y, x)
        frame = record_frame(
            pattern.expected, settings, gain, np.random.default_rng([settings.seed, y, x])
        )
        yield int(sample.region[y, x]), pd.DataFrame(pattern.spots), frame


@pytest.fixture(scope="module")
def noisy():
    settings = SyntheticSettings(scan_shape=(8, 8), frame_size=256, seed=1)
    positions = [(y, x) for y in range(0, 8, 2) for x in range(8)]
    return settings, list(frames(settings, positions))


@pytest.mark.parametrize(
    "size,seed,dtype",
    [
        (256, 1, "uint16"),
        (256, 3, "float32"),
        (256, 2, "uint8"),
        (512, 1, "uint16"),
        (512, 1, "uint8"),
        (512, 6, "float32"),
    ],
)
def test_detection_on_noisy_frames(size, seed, dtype):
    """Issue 3's targets with the defaults on whole synthetic scans (vacuum, amorphous, crystal):
    recall of spots with SNR >= 10 whose discs overlap no other spot's, precision in crystalline
    patterns,
    false spots in amorphous and vacuum patterns, the direct beam flagged."""
    settings = SyntheticSettings(scan_shape=(8, 8), frame_size=size, seed=seed, dtype=dtype)
    recall, false, matched, registered, beam = [], {0: [], 1: []}, 0, 0, []
    unsettled = []
    for region, truth, frame in frames(settings, [(y, x) for y in range(8) for x in range(8)]):
        spots, pattern = register_frame(frame, PAPER, settings.saturation_level)
        assert pattern["n_spots"] == len(spots["x"]) and pattern["noise_sigma"] > 0
        unsettled += list(spots["flags"] & FLAG_NOT_CONVERGED > 0)
        distance, index, inside = match(spots, truth)
        beam.append(
            spots["is_direct_beam"][0]
            and spots["is_direct_beam"].sum() == 1
            and inside[0]
            and truth.is_direct_beam.to_numpy()[index[0]]
        )
        if region != 2:
            false[region].append(int((~inside).sum()))
            continue
        matched, registered = matched + inside.sum(), registered + len(inside)
        strong = (
            (truth.snr >= 10)
            & truth.x.between(15, size - 16)
            & truth.y.between(15, size - 16)
            & ~truth.is_direct_beam
        )
        found = np.zeros(len(truth), bool)
        found[index[inside]] = True
        recall += list(found[strong.to_numpy() & discs_apart(truth)])
    assert np.mean(recall) >= 0.95
    assert matched / registered >= 0.98
    assert np.mean(false[1]) <= 1.0 and max(false[0]) == 0
    assert np.mean(beam) >= 0.99
    assert np.mean(unsettled) <= 0.02  # no limit cycle: measured 0.0005-0.0045


def test_poisson_noise_beats_the_paper_threshold_on_amorphous_rings(noisy):
    settings, data = noisy
    counts = {"poisson": 0, "corners": 0}
    for region, truth, frame in data:
        if region != 1:
            continue
        for noise in counts:
            spots, _ = register_frame(
                frame,
                RegistrationSettings(detection="prominence", noise=noise),
                settings.saturation_level,
            )
            counts[noise] += int((~match(spots, truth)[2]).sum())
    assert counts["corners"] >= 10 * max(counts["poisson"], 1)


def isolated_matches(spots, truth, size):
    """Registered spots matched inside an isolated true spot away from the border (not the
    direct beam): their position error (px) and the true spots' rows."""
    distance, index, inside = match(spots, truth)
    neighbour = cKDTree(np.c_[truth.y, truth.x]).query(np.c_[truth.y, truth.x], k=2)[0][:, 1]
    t = truth.iloc[index]
    isolated = neighbour[index] > 3 * t.radius.to_numpy() + 4
    away = np.minimum.reduce([t.x, t.y, size - 1 - t.x, size - 1 - t.y]) >= 15
    ok = inside & isolated & away & ~spots["is_direct_beam"] & ~t.is_direct_beam.to_numpy()
    return distance[ok], t[ok]


@pytest.mark.parametrize("size,seed", [(256, 1), (256, 5), (512, 2), (512, 8)])
def test_noise_free_positions(size, seed):
    """Issue 3: the paper's refinement's median <= 0.01 px (measured 0.0001-0.0003), max <= 0.05
    px for spots of integrated SNR >= 10 (measured 0.003-0.034). Centred on the
    background-subtracted frame instead (`refine_on: subtracted`), spots on the direct beam's
    halo slope, bridged asymmetrically by the rolling ball, are off by up to 0.065 px (seed 8).
    The disc fit's model is not the generator's disc, which costs it 0.0008-0.002 px of median
    error with no noise (<= 0.003 asserted), a tenth of the brightest spots' noise error; its
    largest error is below the refinement's (0.004-0.011 px)."""
    settings = SyntheticSettings(
        scan_shape=(8, 8), frame_size=size, noise=False, seed=seed, dtype="float32", saturation=1e9
    )
    sample = build_sample(settings)
    positions = [(y, x) for y in range(8) for x in range(0, 8, 2) if sample.region[y, x] == 2]
    chosen = {
        "frame": RegistrationSettings(detection="prominence", fit_edge=0.0),
        "subtracted": RegistrationSettings(
            detection="prominence", refine_on="subtracted", fit_edge=0.0
        ),
        "fitted": RegistrationSettings(detection="prominence"),
    }
    errors = {name: ([], []) for name in chosen}  # (position errors px, true SNRs)
    for _, truth, frame in frames(settings, positions):
        for name, (error, snr) in errors.items():
            spots, _ = register_frame(frame, chosen[name], 1e9)
            e, t = isolated_matches(spots, truth, size)
            error += list(e)
            snr += list(t.snr)
    (error, snr), (subtracted, subtracted_snr), (fitted, fitted_snr) = (
        map(np.array, errors[name]) for name in errors
    )
    assert (snr >= 3).sum() > 300
    assert np.median(error[snr >= 3]) <= 0.001 and error[snr >= 10].max() <= 0.05
    assert (
        np.median(subtracted[subtracted_snr >= 3]) <= 0.005
        and subtracted[subtracted_snr >= 10].max() <= 0.07
    )
    assert np.median(fitted[fitted_snr >= 3]) <= 0.003 and fitted[fitted_snr >= 10].max() <= 0.05


def oracle_centroid(image, cy, cx, radius, iterations=30):
    """Centroid in the coverage-weighted disc of the true radius, iterated from the true centre."""
    yy, xx = np.indices(image.shape)
    for _ in range(iterations):
        w = np.clip(radius + 0.5 - np.hypot(yy - cy, xx - cx), 0.0, 1.0)
        total = (w * image).sum()
        if total <= 0:
            break
        cy, cx = (w * image * yy).sum() / total, (w * image * xx).sum() / total
    return cy, cx


@pytest.mark.parametrize(
    "size,seed,dtype",
    [(256, 1, "uint16"), (256, 2, "uint8"), (256, 4, "float32"), (512, 3, "uint16")],
)
def test_noisy_positions_against_an_oracle_centroid(size, seed, dtype):
    """Median position error per integrated-SNR bin within 1.3x (measured 0.44-0.61x) of an oracle
    that knows the true diffuse background, the true radius and the true centre."""
    settings = SyntheticSettings(scan_shape=(8, 8), frame_size=size, seed=seed, dtype=dtype)
    sample, gain = build_sample(settings), detector_gain(settings)
    positions = [(y, x) for y in range(8) for x in range(8) if sample.region[y, x] == 2][:6]
    ours, oracle, snr = [], [], []
    for y, x in positions:
        pattern = render_pattern(sample, settings, y, x)
        frame = record_frame(pattern.expected, settings, gain, np.random.default_rng([seed, y, x]))
        truth = pd.DataFrame(pattern.spots)
        discs = np.zeros_like(pattern.expected)
        add_discs(
            discs,
            truth.x.to_numpy(),
            truth.y.to_numpy(),
            truth.radius.to_numpy(),
            truth.electrons.to_numpy(),
            settings.edge_sigma,
            settings.supersample,
        )
        clean = frame.astype(np.float64) - gain * (pattern.expected - discs)
        spots, _ = register_frame(frame, PAPER, settings.saturation_level)
        error, t = isolated_matches(spots, truth, size)
        for e, (_, spot) in zip(error, t.iterrows()):
            window = (
                slice(int(spot.y) - 15, int(spot.y) + 16),
                slice(int(spot.x) - 15, int(spot.x) + 16),
            )
            oy, ox = oracle_centroid(
                clean[window], spot.y - window[0].start, spot.x - window[1].start, spot.radius
            )
            ours.append(e)
            oracle.append(
                np.hypot(oy - (spot.y - window[0].start), ox - (spot.x - window[1].start))
            )
            snr.append(spot.snr)
    ours, oracle, snr = map(np.array, (ours, oracle, snr))
    tested = 0
    for low, high in ((5, 10), (10, 20), (20, 50), (50, np.inf)):
        chosen = (snr >= low) & (snr < high)
        if chosen.sum() >= 20:
            assert np.median(ours[chosen]) <= 1.3 * np.median(oracle[chosen]), (low, high)
            tested += 1
    assert tested >= 2


def test_epattern_v4_mode(noisy):
    settings, data = noisy
    region, truth, frame = next(item for item in data if item[0] == 2)
    spots, _ = register_frame(
        frame,
        RegistrationSettings(detection="prominence", refine="epattern-v4"),
        settings.saturation_level,
    )
    assert (spots["radius"] == 3.0).all()
    distance, _, inside = match(spots, truth)
    assert np.median(distance[inside]) < 0.5


@pytest.mark.parametrize(
    "frame,flag",
    [
        (np.full((64, 64), np.nan, np.float32), 1),
        (np.zeros((64, 64), np.uint16), 2),
        (np.full((64, 64), 65535, np.uint16), 2),
    ],
)
def test_bad_frames_are_flagged_not_crashed(frame, flag):
    spots, pattern = register_frame(frame, PAPER, 65535)
    assert pattern["flags"] == flag and pattern["n_spots"] == 0 and len(spots["x"]) == 0


def test_settings_are_checked():
    with pytest.raises(ValueError, match="registration refine 'fast' is not one of"):
        RegistrationSettings(refine="fast")
