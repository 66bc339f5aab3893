"""Rendering of diffraction features into a frame of expected electron counts per pixel.

Spots are discs with a soft edge (a hard disc blurred by a Gaussian detector PSF of standard
deviation `edge` px): value(rho) = A * 0.5 * erfc((rho - radius) / (sqrt(2) * edge)).
Pixel values are integrals over the pixel area, by s x s supersampling (pixel (r, c) covers
[r - 0.5, r + 0.5) x [c - 0.5, c + 0.5)), so each spot's intensity centroid is its true centre.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def disc_area(radius: float, edge: float) -> float:
    """Integral over the plane of 0.5 * erfc((rho - radius) / (sqrt(2) * edge)), in px^2.

    Equals pi * E[max(X, 0)^2] for X ~ N(radius, edge^2), so a spot of integrated intensity I
    has amplitude I / disc_area(radius, edge).
    """
    z = radius / edge
    cdf = 0.5 * math.erfc(-z / math.sqrt(2.0))
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return math.pi * ((radius**2 + edge**2) * cdf + radius * edge * pdf)


@njit(cache=True, nogil=True)
def add_discs(image, xs, ys, radii, intensities, edge, supersample):
    """Add soft-edged discs of integrated `intensities` centred at (ys, xs) px to `image` in place.

    Pixels entirely inside (outside) the disc's transition band take the exact plateau (zero)
    value; the others are integrated with supersample x supersample sub-pixel samples.
    """
    n_rows, n_cols = image.shape
    inv = 1.0 / (math.sqrt(2.0) * edge)
    band = 6.0 * edge
    s = supersample
    for i in range(xs.shape[0]):
        radius, cx, cy = radii[i], xs[i], ys[i]
        amplitude = intensities[i] / disc_area(radius, edge)
        reach = radius + band + 1.0
        r0, r1 = max(0, int(math.floor(cy - reach))), min(n_rows - 1, int(math.ceil(cy + reach)))
        c0, c1 = max(0, int(math.floor(cx - reach))), min(n_cols - 1, int(math.ceil(cx + reach)))
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                dy, dx = r - cy, c - cx
                near = math.sqrt(max(abs(dy) - 0.5, 0.0) ** 2 + max(abs(dx) - 0.5, 0.0) ** 2)
                far = math.sqrt((abs(dy) + 0.5) ** 2 + (abs(dx) + 0.5) ** 2)
                if near > radius + band:
                    continue
                if far < radius - band:
                    image[r, c] += amplitude
                    continue
                acc = 0.0
                for a in range(s):
                    sy = dy + (a + 0.5) / s - 0.5
                    for b in range(s):
                        sx = dx + (b + 0.5) / s - 0.5
                        acc += math.erfc((math.sqrt(sx * sx + sy * sy) - radius) * inv)
                image[r, c] += amplitude * 0.5 * acc / (s * s)


def disc_image(shape, cy: float, cx: float, radius: float, intensity: float, edge, supersample):
    """A new float64 image of `shape` holding one `add_discs` disc of integrated `intensity`
    centred at (cy, cx) px."""
    image = np.zeros(shape)
    one = np.ones(1)
    add_discs(image, one * cx, one * cy, one * radius, one * intensity, edge, supersample)
    return image


def radial_distance(shape, centre_y: float, centre_x: float) -> np.ndarray:
    """Distance in px of every pixel centre from (centre_y, centre_x)."""
    yy = np.arange(shape[0], dtype=np.float64)[:, None] - centre_y
    xx = np.arange(shape[1], dtype=np.float64)[None, :] - centre_x
    return np.sqrt(yy * yy + xx * xx)


def halo(rho: np.ndarray, width: float) -> np.ndarray:
    """Diffuse halo around the direct beam, 1 / (1 + (rho/width)^2)^1.5, normalised to unit
    integral."""
    return (1.0 + (rho / width) ** 2) ** -1.5 / (2.0 * math.pi * width**2)


def ring(rho: np.ndarray, radius: float, width: float) -> np.ndarray:
    """Amorphous diffraction ring, a Gaussian in rho of standard deviation `width`, unit
    integral."""
    return np.exp(-0.5 * ((rho - radius) / width) ** 2) / (
        2.0 * math.pi * radius * width * math.sqrt(2 * math.pi)
    )
