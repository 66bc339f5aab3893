"""Refinement kernels against direct numpy computations."""

import math

import numpy as np
import pytest

from acomflow.peaks.refine import _centroid, _std_radius, centroids


def direct_std_radius(image, cy, cx, limit):
    """The radius (1, 1.5, ... <= limit) maximising the coverage-weighted std, one disc at a
    time."""
    yy, xx = np.indices(image.shape)
    distance = np.hypot(yy - cy, xx - cx)
    best, best_std, radius = 1.0, -1.0, 1.0
    while radius <= limit + 1e-9:
        w = np.clip(radius + 0.5 - distance, 0, 1)
        mean = (w * image).sum() / w.sum()
        std = math.sqrt(max((w * image**2).sum() / w.sum() - mean * mean, 0.0))
        if std > best_std + 1e-12:
            best, best_std = radius, std
        radius += 0.5
    return best


def test_single_pass_std_radius_equals_disc_by_disc():
    rng = np.random.default_rng(0)
    for _ in range(300):
        image = rng.random((40, 40))
        yy, xx = np.indices(image.shape)
        cy, cx = rng.uniform(8, 32, 2)
        image += 5 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(1, 4) ** 2))
        limit = float(rng.choice([1.0, 3.0, 5.5, 10.0]))
        assert _std_radius(image, cy, cx, limit) == direct_std_radius(image, cy, cx, limit)


def test_centroid_of_a_symmetric_spot_on_a_pedestal():
    yy, xx = np.indices((31, 31))
    image = 7.0 + 100 * np.exp(-((yy - 15.3) ** 2 + (xx - 14.6) ** 2) / 4.0)
    cy, cx = 15.0, 15.0
    for _ in range(30):
        cy, cx = _centroid(image, cy, cx, 5.0)
    assert abs(cy - 15.3) < 1e-3 and abs(cx - 14.6) < 1e-3


def test_measure_against_direct_coverage_weighted_moments():
    from acomflow.peaks.refine import measure

    rng = np.random.default_rng(2)
    image = rng.gamma(2.0, 10.0, (30, 30))
    ys, xs, radii = np.array([14.3, 9.8]), np.array([15.6, 20.1]), np.array([3.5, 2.0])
    mean, std, integrated, _, _ = measure(image, image, ys, xs, radii, np.inf)
    yy, xx = np.indices(image.shape)
    for k in range(2):
        w = np.clip(radii[k] + 0.5 - np.hypot(yy - ys[k], xx - xs[k]), 0, 1)
        m = (w * image).sum() / w.sum()
        assert mean[k] == pytest.approx(m, rel=1e-12) and integrated[k] == pytest.approx(
            (w * image).sum(), rel=1e-12
        )
        assert std[k] == pytest.approx(math.sqrt((w * (image - m) ** 2).sum() / w.sum()), rel=1e-9)


def test_centroids_are_one_centroid_step_per_spot():
    """`centroids` gives each start point's one `_centroid` step, here on a sloped background,
    and one step from 1 px off a spot moves most of the way to its centre."""
    yy, xx = np.indices((48, 48))
    image = 5.0 + 2.0 * xx + 200.0 * np.exp(-((yy - 20.4) ** 2 + (xx - 23.7) ** 2) / 2.9)
    ys, xs = np.array([21.0, 30.0, 20.0]), np.array([23.0, 10.0, 24.5])
    got_y, got_x = centroids(image, ys, xs, 4.0)
    for k in range(3):
        assert (got_y[k], got_x[k]) == _centroid(image, ys[k], xs[k], 4.0)
    assert np.hypot(got_y[0] - 20.4, got_x[0] - 23.7) < 0.5 * np.hypot(21.0 - 20.4, 23.0 - 23.7)
