"""The matched-filter detection (`detection: matched`): its sums against a direct convolution,
its significance against Poisson noise of known gain, and its recall on the hard test bed
against the paper's prominence detection."""

import numpy as np
import pytest
from conftest import REAL
from scipy import ndimage

from acomflow.metrics.accuracy import registration_accuracy
from acomflow.register.matched import (
    disc_count,
    disc_sums,
    noise_scale,
    significance,
    significant_maxima,
)
from acomflow.register.settings import RegistrationSettings
from acomflow.simulate.dataset import simulate
from acomflow.simulate.settings import HARD_TEST_BED, SyntheticSettings


def footprint(radius):
    reach = int(np.floor(radius))
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    return (np.hypot(dy, dx) <= radius).astype(float)


@pytest.mark.parametrize("radius", [1.0, 2.5, 4.0, 7.5])
def test_disc_sums_are_a_convolution_with_the_disc(radius):
    image = np.random.default_rng(0).random((23, 31))
    expected = ndimage.convolve(image, footprint(radius), mode="nearest")
    np.testing.assert_allclose(disc_sums(image, radius), expected, rtol=1e-12, atol=1e-12)
    assert disc_count(radius) == footprint(radius).sum()


@pytest.mark.parametrize("gain,level", [(1.0, 3.0), (16.0, 0.5), (16.0, 40.0)])
def test_significance_of_poisson_background_is_standard_normal(gain, level):
    """On Poisson electrons of a uniform level, recorded at `gain` counts per electron, z has
    mean 0 and standard deviation 1 (within 0.1), and its maxima above 6 sigma are rare."""
    rng = np.random.default_rng(1)
    frame = gain * rng.poisson(level, (256, 256)).astype(np.float64)
    z = significance(frame, 2.5, gain, 0.0)[10:-10, 10:-10]
    assert abs(z.mean()) < 0.05 and z.std() == pytest.approx(1.0, abs=0.1)
    rows, _, _ = significant_maxima(z, 6.0)
    assert len(rows) <= 1


def test_a_saturated_plateau_is_one_maximum():
    frame = np.zeros((40, 40))
    frame[15:22, 15:22] = 100.0
    rows, cols, values = significant_maxima(significance(frame + 1.0, 2.5, 1.0, 0.0), 6.0)
    assert len(rows) == 1 and 15 <= rows[0] <= 21 and 15 <= cols[0] <= 21


@pytest.fixture(scope="module")
def test_bed(tmp_path_factory):
    """The hard test bed at 256 px, uint16, seed 0 (8 x 10 patterns)."""
    root = tmp_path_factory.mktemp("testbed")
    settings = SyntheticSettings(**HARD_TEST_BED, frame_size=256, dtype="uint16", seed=0)
    simulate(settings, root)
    return root


def test_matched_detection_finds_faint_and_crowded_spots(test_bed):
    """On crowded patterns of mostly SNR 5-15 spots, the matched filter finds >= 0.89 of every
    spot of SNR >= 5 (>= 0.97 at SNR >= 10, >= 0.75 at SNR 5-7, >= 0.88 of neighbours 2.3-3.4
    radii apart), at precision >= 0.99, <= 0.5 false spots per amorphous or vacuum pattern and
    the direct beam in every frame; the paper's prominence finds <= 0.60 of them."""
    matched = registration_accuracy(
        test_bed, RegistrationSettings(detection="matched", n_spots_max=500), 256
    )
    paper = registration_accuracy(test_bed, RegistrationSettings(n_spots_max=500), 256)
    found = matched["recall_all"]
    assert found["recall"] >= 0.89 and found["recall_snr_10"] >= 0.97
    assert found["snr"]["[5.0, 7.0)"]["recall"] >= 0.75
    assert found["neighbour_radii"]["[2.3, 3.4)"]["recall"] >= 0.88
    assert matched["precision_crystal"] >= 0.99 and matched["direct_beam_flagged"] == 1.0
    assert matched["false_spots_per_amorphous_pattern"] <= 0.5
    assert matched["false_spots_per_vacuum_pattern"] <= 0.5
    assert paper["recall_all"]["recall"] <= 0.60


def test_the_noise_scale_is_read_off_the_quiet_frame():
    """z's spread away from the candidates: 1 for standard normal z, 3 for z three times too
    large (as correlated noise makes it), whatever a few candidates add."""
    z = np.random.default_rng(2).standard_normal((128, 128)).astype(np.float32)
    z[60:64, 60:64] = 50.0
    rows, cols = np.array([61]), np.array([61])
    assert noise_scale(z, rows, cols, 7.5) == pytest.approx(1.0, abs=0.05)
    assert noise_scale(3 * z, rows, cols, 7.5) == pytest.approx(3.0, abs=0.15)


@pytest.mark.skipif(not REAL.is_dir(), reason=f"real test data not found at {REAL}")
def test_the_reflections_the_paper_misses_in_a_real_block_file():
    """In the real ASTAR block file test1.blo, the reflections at (row 53, column 77) and (112,
    64) are registered in all six patterns, and every spot the matched filter adds to the
    paper's detection stands on a white top-hat (size 9, 1 px blur) of at least 5 counts."""
    from skimage.morphology import white_tophat

    from acomflow.blockfile import BlockfileFrames
    from acomflow.register.frame import register_frame

    frames = np.asarray(BlockfileFrames(REAL / "blockfile/test1.blo")[:]).astype(np.float32)
    for frame in frames.reshape(-1, *frames.shape[-2:]):
        paper, _ = register_frame(frame, RegistrationSettings(), 255.0)
        matched, _ = register_frame(frame, RegistrationSettings(detection="matched"), 255.0)
        for row, col in ((53, 77), (112, 64)):
            assert np.hypot(matched["y"] - row, matched["x"] - col).min() < 2.0
        tophat = white_tophat(ndimage.gaussian_filter(frame, 1), np.ones((9, 9)))
        for y, x in zip(matched["y"], matched["x"], strict=True):
            if np.hypot(paper["y"] - y, paper["x"] - x).min() > 3:
                assert tophat[int(round(y)), int(round(x))] >= 5.0
