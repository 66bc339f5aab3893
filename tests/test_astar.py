"""ASTAR's filters against direct implementations of their definitions (pixel by pixel)."""

import numpy as np
import pytest
from conftest import REPO

from acomflow.config import load_schema
from acomflow.prepare.astar import astar_filters, to_grey


def _neighbours(image, r, c):
    """The 3 x 3 neighbourhood of (r, c), edge pixels repeated."""
    rows, cols = image.shape
    return [
        [image[min(max(r + dr, 0), rows - 1), min(max(c + dc, 0), cols - 1)] for dc in (-1, 0, 1)]
        for dr in (-1, 0, 1)
    ]


def reference(grey, softening, spot_enhance, threshold):
    image = np.asarray(grey, np.float64)
    for _ in range(softening):
        image = np.array(
            [
                [max(image[r, c] - np.mean(_neighbours(image, r, c)), 0.0) for c in range(12)]
                for r in range(10)
            ]
        )
    weights = [[1, 1, 1], [1, 8, 1], [1, 1, 1]]
    for _ in range(spot_enhance):
        image = np.array(
            [
                [np.sum(np.multiply(_neighbours(image, r, c), weights)) / 16 for c in range(12)]
                for r in range(10)
            ]
        )
    out = np.clip(np.rint(image), 0, 255)
    out[out < threshold] = 0
    return out


@pytest.mark.parametrize("parameters", [(0, 0, 0), (1, 0, 0), (0, 1, 0), (2, 3, 5), (1, 4, 10)])
def test_filters_are_their_definitions(parameters):
    rng = np.random.default_rng(sum(parameters))
    grey = to_grey(rng.gamma(1.5, 20.0, (10, 12)), 1.0)
    grey[4:7, 5:8] += 120  # a spot
    got = astar_filters(grey, *parameters)
    expected = reference(grey, *parameters)
    assert got.dtype == np.uint8
    # float32 against float64: a level may differ where the value sits on a half
    assert np.abs(got.astype(int) - expected).max() <= 1
    assert np.mean(got != expected) < 0.02


def test_the_paper_parameter_sets_and_the_grey_levels():
    schema = load_schema(REPO / "config/schema/config.schema.yaml")
    sets = schema["properties"]["comparison"]["properties"]["astar"]["default"]
    assert sets == {"default": [1, 2, 0], "optimised": [1, 4, 10]}
    np.testing.assert_array_equal(
        to_grey(np.array([-3.0, 1.2, 99.6, 400.0]), 1.0), [0, 1, 100, 255]
    )
    flat = np.full((10, 12), 40.0)
    assert not astar_filters(flat, 1, 0, 0).any()  # softening removes a flat background
