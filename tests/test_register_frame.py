"""Per-frame registration against the synthetic truth.

Levels asserted here are the ones measured now; issue 3's targets that are not met yet (noise-
free median position error <= 0.01 px, max <= 0.05 px) are tracked there, not hidden here.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from acomflow.register import RegistrationSettings, register_frame
from acomflow.simulate import SyntheticSettings, build_sample, render_pattern
from acomflow.simulate.pattern import detector_gain, record_frame


def frames(settings, positions):
    """(region, truth spots, recorded frame) for scan positions of a synthetic sample."""
    sample, gain = build_sample(settings), detector_gain(settings)
    for y, x in positions:
        pattern = render_pattern(sample, settings, y, x)
        frame = record_frame(pattern.expected, settings, gain, np.random.default_rng([settings.seed, y, x]))
        yield int(sample.region[y, x]), pd.DataFrame(pattern.spots), frame


def match(spots, truth):
    """Index of the nearest true spot for each registered spot and whether it lies inside it."""
    distance, index = cKDTree(np.c_[truth.y, truth.x]).query(np.c_[spots["y"], spots["x"]])
    return distance, index, distance <= np.maximum(truth.radius.to_numpy()[index], 2.0)


@pytest.fixture(scope="module")
def noisy():
    settings = SyntheticSettings(scan_shape=(8, 8), frame_size=256, seed=1)
    positions = [(y, x) for y in range(0, 8, 2) for x in range(8)]
    return settings, list(frames(settings, positions))


def test_detection_on_noisy_frames(noisy):
    settings, data = noisy
    size = settings.frame_size
    recall, false = {0: [], 1: [], 2: []}, {0: [], 1: [], 2: []}
    for region, truth, frame in data:
        spots, pattern = register_frame(frame, RegistrationSettings(), settings.saturation_level)
        assert spots["is_direct_beam"][0] and spots["is_direct_beam"].sum() == 1
        assert pattern["n_spots"] == len(spots["x"]) and pattern["noise_sigma"] > 0
        distance, index, inside = match(spots, truth)
        assert truth.is_direct_beam.to_numpy()[index[0]]
        false[region].append(int((~inside).sum()))
        strong = (truth.snr >= 10) & truth.x.between(15, size - 16) & truth.y.between(15, size - 16) & ~truth.is_direct_beam
        found = np.zeros(len(truth), bool)
        found[index[inside]] = True
        if strong.any():
            recall[region].append(found[strong].mean())
    assert np.mean(recall[2]) >= 0.93  # measured 0.95
    assert np.mean(false[2]) <= 0.2 and np.mean(false[1]) <= 1.0 and max(false[0]) == 0


def test_poisson_noise_beats_the_paper_threshold_on_amorphous_rings(noisy):
    settings, data = noisy
    counts = {"poisson": 0, "corners": 0}
    for region, truth, frame in data:
        if region != 1:
            continue
        for noise in counts:
            spots, _ = register_frame(frame, RegistrationSettings(noise=noise), settings.saturation_level)
            counts[noise] += int((~match(spots, truth)[2]).sum())
    assert counts["corners"] >= 10 * max(counts["poisson"], 1)


def test_noise_free_positions():
    settings = SyntheticSettings(scan_shape=(8, 8), frame_size=256, noise=False, seed=1, dtype="float32", saturation=1e9)
    sample = build_sample(settings)
    positions = [(y, x) for y in range(8) for x in range(0, 8, 2) if sample.region[y, x] == 2]
    errors, electrons = [], []
    for _, truth, frame in frames(settings, positions):
        spots, _ = register_frame(frame, RegistrationSettings(), 1e9)
        distance, index, inside = match(spots, truth)
        neighbour = cKDTree(np.c_[truth.y, truth.x]).query(np.c_[truth.y, truth.x], k=2)[0][:, 1]
        t = truth.iloc[index]
        isolated = neighbour[index] > 3 * t.radius.to_numpy() + 4
        away = np.minimum.reduce([t.x, t.y, 255 - t.x, 255 - t.y]) >= 15
        ok = inside & isolated & away & ~spots["is_direct_beam"]
        errors += list(distance[ok])
        electrons += list(t.electrons.to_numpy()[ok])
    errors, electrons = np.array(errors), np.array(electrons)
    assert len(errors) > 500
    assert np.median(errors) <= 0.015  # measured 0.013 (issue 3 target: 0.01)
    bright = electrons > np.median(electrons)
    assert np.median(errors[bright]) <= 0.012 and errors[bright].max() <= 0.06  # measured 0.0108, 0.051


def test_epattern_v4_mode(noisy):
    settings, data = noisy
    region, truth, frame = next(item for item in data if item[0] == 2)
    spots, _ = register_frame(frame, RegistrationSettings(refine="epattern-v4"), settings.saturation_level)
    assert (spots["radius"] == 3.0).all()
    distance, _, inside = match(spots, truth)
    assert np.median(distance[inside]) < 0.5


@pytest.mark.parametrize("frame,flag", [
    (np.full((64, 64), np.nan, np.float32), 1),
    (np.zeros((64, 64), np.uint16), 2),
    (np.full((64, 64), 65535, np.uint16), 2),
])
def test_bad_frames_are_flagged_not_crashed(frame, flag):
    spots, pattern = register_frame(frame, RegistrationSettings(), 65535)
    assert pattern["flags"] == flag and pattern["n_spots"] == 0 and len(spots["x"]) == 0


def test_settings_are_checked():
    with pytest.raises(ValueError, match="registration refine 'fast' is not one of"):
        RegistrationSettings(refine="fast")
