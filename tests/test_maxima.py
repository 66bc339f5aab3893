"""Prominence maxima against a slow reference written from the definition, on random images,
plateaus and ties."""

import numpy as np
import pytest
from scipy import ndimage

from acomflow.register.maxima import find_maxima

EIGHT = np.ones((3, 3), bool)


def reference_maxima(image, prominence, strict, exclude_edges):
    """For every equal-height plateau with no higher neighbour (highest first): label the
    8-connected region of pixels >= h - prominence around it; keep one point per region without
    a higher pixel, unless an edge rule drops it. Returns {point: set of acceptable points}."""
    low, high = image.min(), image.max()
    if not high > low or (strict and high - low <= prominence):
        return []
    rows, cols = image.shape
    edge = np.zeros_like(image, bool)
    edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
    higher_neighbour = (
        ndimage.maximum_filter(image, footprint=EIGHT, mode="constant", cval=-np.inf) > image
    )
    candidates = (~higher_neighbour) & (image != low)
    if exclude_edges:
        candidates &= ~edge
    claimed = np.zeros_like(image, bool)
    accepted = []
    for h in np.unique(image[candidates])[::-1]:
        regions, _ = ndimage.label(image >= h - prominence, structure=EIGHT)
        for label in np.unique(regions[candidates & (image == h)]):
            region = regions == label
            if claimed[region].any():
                continue
            claimed |= region
            if image[region].max() > h:
                continue
            equal = region & (image == h)
            if exclude_edges and ((strict and (region & edge).any()) or (equal & edge).any()):
                continue
            er, ec = np.nonzero(equal)
            distance = (er - er.mean()) ** 2 + (ec - ec.mean()) ** 2
            nearest = np.isclose(distance, distance.min(), rtol=0, atol=1e-9)
            accepted.append(set(zip(er[nearest].tolist(), ec[nearest].tolist())))
    return accepted


def check(image, prominence, strict, exclude_edges):
    rows, cols = find_maxima(image, prominence, strict, exclude_edges)
    expected = reference_maxima(image, prominence, strict, exclude_edges)
    assert len(rows) == len(expected)
    found = list(zip(rows.tolist(), cols.tolist()))
    for options in expected:
        assert len(options & set(found)) == 1, (options, found)
    values = image[rows, cols]
    assert (np.diff(values) <= 0).all()  # highest first


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("exclude_edges", [True, False])
def test_random_float_images(strict, exclude_edges):
    rng = np.random.default_rng(7)
    for _ in range(40):
        image = ndimage.gaussian_filter(rng.random((20, 23)), rng.uniform(0.5, 2.0)).astype(
            np.float32
        )
        check(image, rng.uniform(0.0, 0.05) * np.ptp(image), strict, exclude_edges)


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("exclude_edges", [True, False])
def test_integer_images_with_plateaus_and_ties(strict, exclude_edges):
    rng = np.random.default_rng(11)
    for _ in range(60):
        image = rng.integers(0, 6, (14, 17)).astype(np.float32)
        image = ndimage.median_filter(image, 3)  # creates plateaus
        check(image, float(rng.integers(0, 3)), strict, exclude_edges)


def test_known_cases():
    flat = np.full((9, 9), 3.0, np.float32)
    assert len(find_maxima(flat, 1.0)[0]) == 0
    spot = flat.copy()
    spot[4, 4] = 5.0
    assert find_maxima(spot, 1.0) == (4, 4)
    assert len(find_maxima(spot, 2.0, strict=True)[0]) == 0  # range 2 not > 2
    assert len(find_maxima(spot, 2.0, strict=False)[0]) == 1  # the global maximum survives
    plateau = flat.copy()
    plateau[2, 3:6] = 6.0  # a 3-px plateau gives its middle pixel
    assert tuple(map(int, np.concatenate(find_maxima(plateau, 1.0)))) == (2, 4)
    two = flat.copy()
    two[2, 2], two[6, 6], two[4, 4] = 9.0, 8.0, 8.5  # saddle 3 -> both kept at prominence 4
    assert len(find_maxima(two, 4.0)[0]) == 3
    ridge = two.copy()
    ridge[3, 3], ridge[5, 5] = (
        8.2,
        7.9,
    )  # prominences: 8.5 -> 0.3 (saddle 8.2), 8.0 -> 0.1 (saddle 7.9)
    assert [len(find_maxima(ridge, p)[0]) for p in (0.5, 0.2, 0.05)] == [1, 2, 3]
    edge = flat.copy()
    edge[0, 4] = 7.0
    assert len(find_maxima(edge, 1.0, exclude_edges=True)[0]) == 0
    assert len(find_maxima(edge, 1.0, exclude_edges=False)[0]) == 1


def reference_prominence(image, r, c):
    """Highest level s such that (r, c) connects to a higher pixel within {v >= s}; brute force."""
    v = image[r, c]
    for s in np.unique(image[image <= v])[::-1]:
        regions, _ = ndimage.label(image >= s, structure=EIGHT)
        if (image[regions == regions[r, c]] > v).any():
            return v - s
    return v - image.min()


@pytest.mark.parametrize("flood_budget", [2.0, 0.0])  # floods from each maximum; one sweep
def test_prominences_against_brute_force(flood_budget):
    from acomflow.register.maxima import prominences

    rng = np.random.default_rng(5)
    smooth = [
        ndimage.gaussian_filter(rng.random((16, 18)), 1.0).astype(np.float32) for _ in range(25)
    ]
    plateaus = [
        rng.integers(0, 5, (14, 15)).astype(np.float32) for _ in range(25)
    ]  # ties everywhere
    for image in smooth + plateaus:
        rows, cols = find_maxima(image, 0.0, strict=False)
        got = prominences(image, rows, cols, flood_budget)
        expected = [reference_prominence(image, r, c) for r, c in zip(rows, cols)]
        np.testing.assert_allclose(got, expected, atol=2e-5 * np.ptp(image))


def test_a_maximum_is_kept_when_its_prominence_exceeds_the_threshold():
    rng = np.random.default_rng(5)
    for _ in range(25):
        image = ndimage.gaussian_filter(rng.random((16, 18)), 1.0).astype(np.float32)
        rows, cols = find_maxima(image, 0.0, strict=False)
        expected = [reference_prominence(image, r, c) for r, c in zip(rows, cols)]
        threshold = np.median(expected)
        kept = set(zip(*map(list, find_maxima(image, threshold, strict=False))))
        assert kept == {(r, c) for r, c, p in zip(rows, cols, expected) if p > threshold} | (
            {(rows[0], cols[0])}
        )


def test_prominences_of_nested_basins():
    """A staircase of peaks 1..n (left to right) whose valleys deepen to the right: the flood
    from peak i covers every peak left of it before it crosses valley -i to peak i + 1, so the
    floods together cover the image ~n/2 times; the sweep takes over with the same result."""
    from acomflow.register.maxima import _flooded_prominences, _padded, prominences

    n, width = 24, 6
    profile = np.concatenate([np.r_[np.full(width - 1, -float(i)), i + 1.0] for i in range(n)])
    image = np.tile(profile, (3, 1)).astype(np.float32)
    cols = np.arange(n) * width + width - 1
    rows = np.ones(n, dtype=int)
    expected = np.r_[2.0 * np.arange(1, n), n - image.min()]  # peak i + 1 sits over valley -(i + 1)
    np.testing.assert_allclose(prominences(image, rows, cols), expected, atol=2e-5 * np.ptp(image))
    points = (rows + 1) * (image.shape[1] + 2) + cols + 1
    _, complete = _flooded_prominences(
        _padded(image), points, 1 << 16, image.min(), image.max(), 2 * image.size
    )
    assert not complete


def test_prominences_of_every_maximum_of_white_noise():
    """Hundreds of maxima whose floods each pass thousands of sparse levels: the sweep takes
    over, with the floods' result."""
    from acomflow.register.maxima import _flooded_prominences, _padded, prominences

    image = np.random.default_rng(3).random((64, 64)).astype(np.float32)
    rows, cols = find_maxima(image, 0.0, strict=False)
    points = (rows + 1) * (image.shape[1] + 2) + cols + 1
    padded = _padded(image)
    assert not _flooded_prominences(
        padded, points, 1 << 16, image.min(), image.max(), 2 * image.size
    )[1]
    flooded, complete = _flooded_prominences(
        padded, points, 1 << 16, image.min(), image.max(), 10**12
    )
    assert complete
    np.testing.assert_allclose(prominences(image, rows, cols), flooded, atol=2e-5)
