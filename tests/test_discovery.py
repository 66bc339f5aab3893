"""A pattern's threshold from the false discovery rate of its spots (`register.discovery`), and
the detector's gain measured once per dataset (`register.measured`): vacuum frames of Poisson
and read noise give no spot, and a crystal's faint spots stay."""

import numpy as np
import pytest

from acomflow.register.discovery import (
    discovery_threshold,
    expected_maxima,
    roughness,
    significance_for,
)
from acomflow.register.frame import register_frame
from acomflow.register.measured import dataset_gain, settings_measured_on
from acomflow.register.noise import pixel_samples, poisson_gain, transfer_gain
from acomflow.register.settings import RegistrationSettings

GAIN = 66.0  # counts per electron


def test_roughness_is_the_one_pixel_overlap_of_the_disc():
    """The 2.5 px disc has rows of 3, 5, 5, 5, 3 pixels (21); shifted by one column, 16 of them
    overlap: 2 (1 - 16/21). A 1 px disc is a cross of 5, overlapping 2 of them."""
    assert roughness(2.5) == pytest.approx(2 * (1 - 16 / 21))
    assert roughness(1.0) == pytest.approx(2 * (1 - 2 / 5))


@pytest.mark.parametrize("expected", [0.01, 0.05, 0.3, 2.0])
def test_significance_for_inverts_the_expected_maxima(expected):
    u = significance_for(expected, 256 * 256, 2.5)
    assert u > 3.0
    assert expected_maxima(u, 256 * 256, 2.5) == pytest.approx(expected, rel=1e-9)


def test_the_threshold_follows_benjamini_hochberg():
    """Ranked values S_k are kept up to the largest k with E(S_k) <= q k: a pattern of ten
    spots at 4.6 sigmas keeps them at the floor; one spot at 4.6 goes, one at 6 stays."""
    area, radius, rate, least = 256 * 256, 2.5, 0.05, 4.5
    alone = significance_for(rate, area, radius)
    assert 4.8 < alone < 5.1
    assert discovery_threshold([], area, radius, rate, least) == pytest.approx(alone)
    assert discovery_threshold([4.6], area, radius, rate, least) == pytest.approx(alone)
    assert discovery_threshold([6.0], area, radius, rate, least) == pytest.approx(alone)
    assert discovery_threshold([4.6] * 10, area, radius, rate, least) == least
    # Two strong spots let a third at the level where E = 3 q pass, not one lower.
    three = significance_for(3 * rate, area, radius)
    kept = discovery_threshold([9.0, 8.0, three + 1e-6], area, radius, rate, least)
    assert kept == pytest.approx(three)
    kept = discovery_threshold([9.0, 8.0, three - 1e-3], area, radius, rate, least)
    assert kept == pytest.approx(significance_for(2 * rate, area, radius))
    assert discovery_threshold([4.6], area, radius, 0.0, least) == least


def _noise_frames(electrons: float, count: int, seed: int):
    """uint16 frames of `electrons` per pixel: Poisson, 0.5 electron of read noise, clipped at
    0 and rounded, as the generator records them."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        noisy = rng.poisson(electrons, (256, 256)) + rng.normal(0.0, 0.5, (256, 256))
        yield np.rint(np.clip(noisy * GAIN, 0, 65535)).astype(np.uint16)


def _patterns_with_false_spots(frames, false_discovery: float) -> int:
    settings = RegistrationSettings(
        detection="matched", matched_radius=2.5, gain=GAIN, false_discovery=false_discovery
    )
    found = [register_frame(frame, settings, 65535.0)[0] for frame in frames]
    return sum(bool((~spots["is_direct_beam"]).any()) for spots in found)


def test_noise_frames_rarely_give_a_spot():
    """Under the null, the false discovery rate is the rate of patterns with a false spot: of
    144 frames of 10 electrons per pixel, at most 5 % have one (2 measured), against 60 with
    the 4.25 sigmas of `significance` alone (noise maxima, about 0.5 per 256 px frame)."""
    frames = [frame for seed in range(3, 9) for frame in _noise_frames(10.0, 24, seed)]
    alone = _patterns_with_false_spots(frames, 0.0)
    controlled = _patterns_with_false_spots(frames, 0.05)
    assert controlled <= 0.05 * len(frames) and controlled <= alone / 4


def test_a_crystals_threshold_lies_between_the_floor_and_an_empty_patterns():
    """Twenty spots of 100 electrons (S 3.6-6.7) on 10 per pixel. At 4.5 sigmas alone 16 are
    found; at 4 alone 18, with a noise maximum; with the false discovery rate over a floor of 4
    the pattern's threshold rises to 4.31 sigmas (an empty pattern's is 4.94): 16 spots, none
    false."""
    rng = np.random.default_rng(4)
    yy, xx = np.mgrid[:256, :256]
    expected = np.full((256, 256), 10.0)
    centres = np.array([(40 + 44 * (k // 5), 30 + 48 * (k % 5)) for k in range(20)])
    for y, x in centres:
        disc = np.hypot(yy - y, xx - x) <= 2.5
        expected += 100.0 / disc.sum() * disc
    noisy = rng.poisson(expected) + rng.normal(0.0, 0.5, expected.shape)
    frame = np.rint(np.clip(noisy * GAIN, 0, 65535)).astype(np.uint16)

    def found(significance, rate):
        settings = RegistrationSettings(
            detection="matched",
            matched_radius=2.5,
            gain=GAIN,
            significance=significance,
            false_discovery=rate,
        )
        spots, pattern = register_frame(frame, settings, 65535.0)
        apart = np.hypot(spots["y"][:, None] - centres[:, 0], spots["x"][:, None] - centres[:, 1])
        true = apart.min(axis=1) < 1.5
        return true.sum(), (~true).sum(), pattern["prominence_min"]

    assert found(4.5, 0.0) == (16, 0, 4.5)
    assert found(4.0, 0.0) == (18, 1, 4.0)
    true, false, threshold = found(4.0, 0.05)
    assert (true, false) == (16, 0) and threshold == pytest.approx(4.307, abs=1e-3)


def test_the_dataset_gain_is_the_crystals_not_the_vacuums():
    """A frame at 0.1 electron per pixel reads about half the gain (the read noise clipped at
    0); the median over a scan of mostly brighter frames reads within 15 % of it; frames whose
    gain cannot be read are left out, and None where none can."""
    sparse = next(_noise_frames(0.1, 1, seed=5))
    assert poisson_gain(sparse, 65535.0, quantised=True) < 0.7 * GAIN
    frames = [sparse, *_noise_frames(3.0, 4, seed=6), np.full((64, 64), 0.5)]
    readings = [poisson_gain(frame, 65535.0, quantised=True) for frame in frames[:5]]
    assert dataset_gain(frames, 65535.0) == np.median(readings)
    assert dataset_gain(frames, 65535.0) == pytest.approx(GAIN, rel=0.15)
    assert dataset_gain([np.full((64, 64), 0.5)]) is None


def _halo_frames(count: int, seed: int):
    """uint16 frames of a diffraction halo (12 electrons per pixel at the centre over 0.2)
    with 30 spots of 400 electrons in a 2.5 px disc, recorded as `_noise_frames`."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:256, :256]
    rho = np.hypot(yy - 127.5, xx - 127.5)
    for _ in range(count):
        expected = 0.2 + 12.0 * np.exp(-rho / 25.0)
        for y, x in rng.uniform(20, 236, (30, 2)):
            expected += 400.0 / 21 * (np.hypot(yy - y, xx - x) <= 2.5)
        noisy = rng.poisson(expected) + rng.normal(0.0, 0.5, expected.shape)
        yield np.rint(np.clip(noisy * GAIN, 0, 65535)).astype(np.uint16)


def test_the_photon_transfer_off_the_spots_reads_the_gain():
    """On a halo of 0.2-12 electrons per pixel the frames' medians read the gain 21 % high
    (a few discrete counts); the photon transfer over the pixels off the registered spots reads
    it within 6 % (measured 0.950), and the spots' own edges, not kept out, 2.5 times."""
    frames = list(_halo_frames(6, seed=1))
    start = dataset_gain(frames, 65535.0)
    assert start > 1.15 * GAIN
    measured = settings_measured_on(frames, RegistrationSettings(matched_radius=2.5), 65535.0)
    assert measured.gain == pytest.approx(GAIN, rel=0.06)
    samples = [pixel_samples(frame, 65535.0) for frame in frames]
    means, variances = (np.concatenate(part) for part in zip(*samples, strict=True))
    assert transfer_gain(means, variances, start) > 2 * GAIN
    # too few samples at 2 electrons or more: the start is kept
    assert transfer_gain(means[:100], variances[:100], start) == start
