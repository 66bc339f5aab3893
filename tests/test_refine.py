"""Refinement kernels against direct numpy computations."""

import math

import numpy as np

from acomflow.register.refine import _centroid, _std_radius


def direct_std_radius(image, cy, cx, limit):
    """The radius (1, 1.5, ... <= limit) maximising the coverage-weighted std, one disc at a time."""
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
