"""The matched filter's disc read off the data (`matched_radius: auto`): the fixed point over
noisy frames of known spot radius, from a first disc far smaller than the spots, and the
fallback where no faint spot is found."""

import numpy as np
import pytest

from acomflow.register.frame import register_frame
from acomflow.register.radius import PROVISIONAL, spot_radius
from acomflow.register.settings import RegistrationSettings


@pytest.mark.parametrize("radius", [3.0, 6.0])
def test_the_spot_radius_of_noisy_frames_is_their_discs(radius):
    """Twelve spots per frame of 100 to 400 electrons on 4 per pixel, 8 frames of Poisson
    noise: the fixed point lies within 0.5 px of the discs' radius, also from a first disc of
    2.5 px far smaller than they are."""
    rng = np.random.default_rng(int(radius))
    yy, xx = np.mgrid[:128, :128]
    electrons = np.geomspace(100.0, 400.0, 12)
    frames = []
    for _ in range(8):
        expected = np.full((128, 128), 4.0)
        for k, total in enumerate(electrons):
            y, x = 24 + 26 * (k // 3), 22 + 28 * (k % 3)
            disc = np.hypot(yy - y, xx - x) <= radius
            expected += total / disc.sum() * disc
        frames.append(rng.poisson(expected).astype(np.float64))
    measured, spots = spot_radius(frames)
    assert abs(measured - radius) <= 0.5 and spots >= 20


def test_without_faint_spots_the_first_disc_stays():
    """Frames of background alone, with no spot, give the first disc and no spot."""
    rng = np.random.default_rng(0)
    frames = [rng.poisson(np.full((96, 96), 3.0)).astype(np.float64) for _ in range(4)]
    assert spot_radius(frames) == (PROVISIONAL, 0)


def test_auto_is_for_datasets_and_a_radius_is_checked():
    with pytest.raises(ValueError, match="auto"):
        register_frame(np.ones((32, 32)) + np.eye(32), RegistrationSettings(detection="matched"))
    for bad in ("big", -1.0, 0.0):
        with pytest.raises(ValueError, match="matched_radius"):
            RegistrationSettings(detection="matched", matched_radius=bad)
