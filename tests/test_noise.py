"""Noise estimators and the fast Gaussian blur, against known truth and scipy."""

import numpy as np
import pytest
from scipy import ndimage

from acomflow.kernels import gaussian_blur, gaussian_blur_at
from acomflow.register.noise import (
    WHOLE_COUNT_VARIANCE,
    _median,
    is_quantised,
    poisson_gain,
    sigma_corners,
    sigma_poisson,
)
from acomflow.simulate.pattern import detector_gain, record_frame, render_pattern
from acomflow.simulate.sample import build_sample
from acomflow.simulate.settings import SyntheticSettings


@pytest.mark.parametrize("sigma", [0.7, 2.0, 3.3])
@pytest.mark.parametrize("shape", [(64, 64), (37, 300), (9, 5)])
def test_gaussian_blur_equals_scipy(sigma, shape):
    image = np.random.default_rng(3).gamma(2.0, 50.0, shape).astype(np.float32)
    expected = ndimage.gaussian_filter(image, sigma, mode="nearest")
    np.testing.assert_allclose(
        gaussian_blur(image, sigma), expected, rtol=0, atol=1e-6 * np.ptp(image)
    )
    assert np.array_equal(gaussian_blur(image, 0.0), image)
    rows, cols = np.nonzero(np.ones(shape, bool))
    np.testing.assert_allclose(
        gaussian_blur_at(image, rows, cols, sigma),
        expected.ravel(),
        rtol=0,
        atol=1e-6 * np.ptp(image),
    )


@pytest.mark.parametrize("gain", [1.0, 4.0, 25.0])
def test_poisson_gain_recovers_the_gain_of_a_bright_counting_frame(gain):
    rng = np.random.default_rng(int(gain))
    yy, xx = np.mgrid[:256, :256]
    electrons = 200.0 + 100.0 * np.cos(xx / 40.0) * np.sin(yy / 30.0)  # slow, bright variation
    frame = (gain * rng.poisson(electrons)).astype(np.float32)
    estimate = poisson_gain(frame)
    assert estimate == pytest.approx(gain, rel=0.05)
    # sigma at a pixel is sqrt(gain * mean)
    local = sigma_poisson(frame, np.array([128]), np.array([100]))
    assert local[0] == pytest.approx(np.sqrt(gain * gain * electrons[128, 100]), rel=0.05)


def test_poisson_gain_ignores_saturated_pixels_and_undecidable_frames():
    rng = np.random.default_rng(0)
    frame = (3.0 * rng.poisson(300.0, (128, 128))).astype(np.float32)
    frame[40:80, 40:80] = 65535.0  # a saturated direct beam, left out with its edge
    assert poisson_gain(frame, saturation=65535.0) == pytest.approx(3.0, rel=0.05)
    zero = np.zeros((64, 64), np.float32)
    assert poisson_gain(zero) == 0.0
    # A ramp (the real-file test's EMPAD frames) has no counting noise: it read 2e-14 counts per
    # electron, which made every pixel of it a spot of the matched filter.
    ramp = np.arange(128 * 128, dtype=np.float32).reshape(128, 128)
    assert poisson_gain(ramp) == poisson_gain(ramp, quantised=True) == 0.0
    assert poisson_gain(frame / 1e4, saturation=6.5535) == pytest.approx(3e-4, rel=0.05)


def test_quantised_frames_are_told_by_their_values():
    assert is_quantised(np.array([[0.0, 3.0], [255.0, 1e6]], np.float32))
    assert not is_quantised(np.array([[0.0, 3.0], [255.5, 1e6]], np.float32))


def test_poisson_gain_of_coarsely_quantised_frames():
    """uint8 crystal patterns at 256 px: ~4 electrons per count and under 1 count per halo
    pixel. The plain median reads the rounding as Poisson noise (2.8-3.8x the true gain);
    dithered, with the rounding variance modelled, it reads as on continuous data (measured
    0.73-1.27x)."""
    settings = SyntheticSettings(scan_shape=(4, 4), frame_size=256, dtype="uint8", seed=2)
    sample, gain = build_sample(settings), detector_gain(settings)
    crystal = [(y, x) for y in range(4) for x in range(4) if sample.region[y, x] == 2]
    assert len(crystal) >= 8
    for y, x in crystal:
        frame = record_frame(
            render_pattern(sample, settings, y, x).expected,
            settings,
            gain,
            np.random.default_rng([2, y, x]),
        )
        assert is_quantised(frame.astype(np.float32))
        assert 0.6 * gain <= poisson_gain(frame, 255.0, quantised=True) <= 1.4 * gain
        assert poisson_gain(frame, 255.0) >= 2.5 * gain
    # the local sigma of a quantised frame is never below the least sigma of whole counts
    zero_gain = np.zeros((64, 64), np.float32)
    assert sigma_poisson(zero_gain, np.array([30]), np.array([30]), quantised=True)[
        0
    ] == pytest.approx(np.sqrt(WHOLE_COUNT_VARIANCE))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_median_equals_numpy(dtype):
    """The bucketed selection gives numpy's median exactly, in the array's dtype: odd and even
    sizes, one value, ties, negative values and zeros of both signs, a strided view."""
    rng = np.random.default_rng(2)
    cases = [
        np.array([3.0]),
        np.array([-1.0, 2.0]),
        np.array([0.0, -0.0, 0.0, -2.5, 7.0]),
        rng.poisson(2.0, 1001) - 1.0,
        rng.normal(0.0, 1e-3, 4000),
        rng.gamma(2.0, 3.0, 65000),
        rng.gamma(2.0, 3.0, (300, 301))[:, ::3].ravel(),
        rng.gamma(2.0, 3.0, 5000)[::2],
    ]
    for values in cases:
        values = values.astype(dtype)
        got = _median(values)
        assert got == np.median(values) and got.dtype == dtype


def test_sigma_corners_is_the_std_outside_the_inscribed_circle():
    frame = np.zeros((100, 100), np.float32)
    frame[:5, :5] = np.arange(25).reshape(5, 5)  # a corner well outside the circle
    yy, xx = np.mgrid[:100, :100] - 49.5
    outside = np.hypot(yy, xx) > 50
    assert sigma_corners(frame) == pytest.approx(np.std(frame[outside], ddof=1), rel=1e-6)
