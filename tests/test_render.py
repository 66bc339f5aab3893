"""The synthetic renderer: pixel values are area integrals, so centres and intensities are exact."""

import math

import numpy as np
import pytest
from scipy import integrate, special

from acomflow.simulate.render import add_discs, disc_area, halo, radial_distance, ring


def render_one(cy, cx, radius, intensity=1000.0, edge=0.5, supersample=8, size=64):
    image = np.zeros((size, size))
    add_discs(
        image,
        np.array([cx]),
        np.array([cy]),
        np.array([radius]),
        np.array([intensity]),
        edge,
        supersample,
    )
    return image


def centroid(image):
    yy, xx = np.indices(image.shape)
    total = image.sum()
    return (image * yy).sum() / total, (image * xx).sum() / total


@pytest.mark.parametrize("seed", range(3))
def test_rendered_spot_centroid_is_true_centre_to_1e3_px(seed):
    rng = np.random.default_rng(seed)
    for _ in range(60):
        radius = rng.uniform(2.0, 8.0)
        cy, cx = 31.5 + rng.uniform(-0.5, 0.5, 2)
        my, mx = centroid(render_one(cy, cx, radius))
        assert math.hypot(my - cy, mx - cx) < 1e-3


def test_rendered_spot_integrates_to_its_intensity():
    for radius in (2.0, 3.3, 5.0, 8.0):
        assert render_one(31.2, 30.7, radius, intensity=1234.5).sum() == pytest.approx(
            1234.5, rel=1e-6
        )


def test_disc_area_matches_numerical_integral():
    for radius, edge in ((2.0, 0.5), (5.0, 0.5), (3.0, 1.5), (0.5, 1.0)):

        def profile(rho, radius=radius, edge=edge):
            return 2 * math.pi * rho * 0.5 * special.erfc((rho - radius) / (math.sqrt(2) * edge))

        numeric, _ = integrate.quad(profile, 0, radius + 20 * edge, limit=200)
        assert disc_area(radius, edge) == pytest.approx(numeric, rel=1e-9)


def test_pixel_values_are_area_integrals():
    """A pixel straddling the edge: supersampling converges to the 2D integral of the profile."""
    radius, edge, cy, cx = 4.0, 0.5, 10.3, 10.6
    image = render_one(cy, cx, radius, intensity=disc_area(radius, edge), size=21, supersample=32)
    r, c = 10, 14  # on the disc edge
    value, _ = integrate.dblquad(
        lambda y, x: (
            0.5 * special.erfc((math.hypot(y - cy, x - cx) - radius) / (math.sqrt(2) * edge))
        ),
        c - 0.5,
        c + 0.5,
        r - 0.5,
        r + 0.5,
        epsabs=1e-10,
    )
    assert 0.05 < value < 0.95
    assert image[r, c] == pytest.approx(value, abs=2e-4)


def test_halo_and_ring_have_unit_integral():
    rho = radial_distance((801, 801), 400.0, 400.0)
    assert ring(rho, 100.0, 8.0).sum() == pytest.approx(1.0, rel=1e-3)
    inside = rho < 400.0  # analytic fraction within rho < R: 1 - a / sqrt(a^2 + R^2)
    assert halo(rho, 10.0)[inside].sum() == pytest.approx(
        1.0 - 10.0 / np.hypot(10.0, 400.0), rel=1e-3
    )
