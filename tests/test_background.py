"""Background estimation with ImageJ semantics, validated against exact references.

Measured here on a noise-free 128 px crystal frame (range 4966 counts; quoted in the README): the
rolling ball equals a grey opening by the same ball exactly; ImageJ's shrink step changes the
background by at most 4.1 counts (0.08 % of the range), 0.17 counts on average; scikit-image's
rolling_ball (the ball's apex, an erosion, rather than ImageJ's hull) is never above ours and at
most 0.08 % of the range below it.
"""

import numpy as np
import pytest
from scipy import ndimage
from skimage.restoration import rolling_ball as skimage_rolling_ball

from acomflow.kernels import mean3x3
from acomflow.register.background import (
    ball_parameters,
    ball_patch,
    rolling_ball,
    sliding_paraboloid,
    subtract_background,
)
from acomflow.simulate.pattern import render_pattern
from acomflow.simulate.sample import build_sample
from acomflow.simulate.settings import SyntheticSettings


def opening_reference(image, patch):
    """Grey opening by a non-flat patch, ball centres allowed outside the image (scipy)."""
    half = patch.shape[0] // 2
    padded = np.pad(image, 2 * half, constant_values=np.inf)
    eroded = ndimage.grey_erosion(padded, structure=patch, mode="constant", cval=np.inf)
    eroded[np.isinf(eroded)] = -np.inf
    opened = ndimage.grey_dilation(eroded, structure=patch, mode="constant", cval=-np.inf)
    return opened[2 * half : -2 * half, 2 * half : -2 * half]


@pytest.fixture(scope="module")
def diffraction_frame():
    """A noise-free synthetic crystal pattern (expected counts) at 128 px."""
    settings = SyntheticSettings(
        scan_shape=(8, 8), frame_size=128, seed=2, vacuum_fraction=0.0, amorphous_fraction=0.0
    )
    sample = build_sample(settings)
    return render_pattern(sample, settings, 4, 4).expected.astype(np.float32)


@pytest.mark.parametrize("radius", [3, 7.5, 20, 45])
def test_rolling_ball_is_the_grey_opening_by_imagej_ball(radius):
    image = (np.random.default_rng(int(radius)).random((50, 61)) * 100).astype(np.float32)
    factor, trim = ball_parameters(radius)
    expected = opening_reference(image, ball_patch(radius, 1, trim))
    np.testing.assert_array_equal(
        rolling_ball(image, radius, presmooth=False, shrink=False), expected
    )


def test_rolling_ball_background_is_below_the_image_and_removes_spots(diffraction_frame):
    background = rolling_ball(diffraction_frame, 20, presmooth=False, shrink=False)
    assert (background <= diffraction_frame + 1e-3).all()
    residual = diffraction_frame - background
    peak = np.unravel_index(np.argmax(residual), residual.shape)
    assert residual[peak] > 0.5 * diffraction_frame[peak]  # spots stay in the residual


def test_shrink_error_is_small(diffraction_frame):
    exact = rolling_ball(diffraction_frame, 20, presmooth=False, shrink=False)
    shrunk = rolling_ball(diffraction_frame, 20, presmooth=False, shrink=True)
    span = np.ptp(diffraction_frame)
    assert np.abs(shrunk - exact).max() < 0.002 * span
    assert np.abs(shrunk - exact).mean() < 0.0001 * span


def test_against_skimage_rolling_ball(diffraction_frame):
    ours = rolling_ball(diffraction_frame, 20, presmooth=False, shrink=False)
    theirs = skimage_rolling_ball(diffraction_frame, radius=20)
    difference = ours - theirs
    span = np.ptp(diffraction_frame)
    # scikit-image's background is the ball's apex (an erosion): never above the hull
    assert (difference >= -1e-3 * span).all()
    assert difference.mean() < 0.0002 * span and difference.max() < 0.002 * span


def test_sliding_paraboloid_reproduces_a_gentle_paraboloid_and_removes_spots():
    yy, xx = np.indices((80, 90), dtype=np.float32)
    smooth = 500.0 - 0.1 * ((yy - 40) ** 2 + (xx - 45) ** 2) / 2  # curvature 0.1 < 1/R
    spots = np.zeros_like(smooth)
    spots[30:33, 20:23] = 200.0
    background = sliding_paraboloid(
        smooth + spots, radius=5.0, presmooth=False, correct_corners=False
    )
    away = np.ones_like(smooth, bool)
    away[27:36, 17:26] = False
    assert np.abs(background - smooth)[away].max() < 1e-2
    # under the spot the paraboloid (0.1 / px^2) sags below the flatter background (0.05 / px^2)
    # between its touching points 4 px apart: (0.1 - 0.05) * 2^2 = 0.2 at the middle
    assert np.abs(background - smooth)[~away].max() == pytest.approx(0.2, abs=1e-3)
    assert (background <= smooth + spots + 1e-3).all()


def test_paraboloid_close_to_the_exact_paraboloid_opening(diffraction_frame):
    radius = 12.8
    half = 40
    offsets = np.arange(-half, half + 1, dtype=np.float32)
    patch = -(offsets[:, None] ** 2 + offsets[None, :] ** 2) * np.float32(0.5 / radius)
    exact = opening_reference(diffraction_frame, patch)
    approx = sliding_paraboloid(diffraction_frame, radius, presmooth=False, correct_corners=False)
    span = np.ptp(diffraction_frame)
    assert (approx <= diffraction_frame + 1e-3 * span).all()
    assert np.abs(approx - exact).mean() < 0.01 * span


def test_subtract_background_clamps_or_keeps_negatives(diffraction_frame):
    noisy = diffraction_frame + np.random.default_rng(0).normal(
        0, 5, diffraction_frame.shape
    ).astype(np.float32)
    clamped = subtract_background(noisy, "rolling_ball", 20)
    kept = subtract_background(noisy, "rolling_ball", 20, clamp=False)
    assert clamped.min() == 0.0 and kept.min() < 0.0
    np.testing.assert_array_equal(clamped, np.maximum(kept, 0))
    np.testing.assert_array_equal(subtract_background(noisy, "none"), noisy)
    with pytest.raises(ValueError, match="unknown background method 'disk'"):
        subtract_background(noisy, "disk")


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (6, 1), (2, 2), (37, 53)])
def test_mean3x3_is_the_3x3_mean_with_edge_pixels_repeated(shape):
    image = np.random.default_rng(3).gamma(2.0, 10.0, shape).astype(np.float32)
    expected = ndimage.uniform_filter(image.astype(np.float64), size=3, mode="nearest")
    assert mean3x3(image) == pytest.approx(expected, rel=1e-6)
