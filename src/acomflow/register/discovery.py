"""A pattern's significance threshold from the false discovery rate of its spots.

A frame of pure noise still has maxima of the matched filter's significance S above any fixed
threshold, as many as its area holds independent discs: ~1 per 256 px frame above 4 sigma.
A fixed threshold low enough for the faint spots of a crystal therefore gives a vacuum
pattern its false spots. Controlling the false discovery rate instead (Benjamini & Hochberg
1995, J. R. Stat. Soc. B 57, 289; for sources in astronomical images, Miller et al. 2001,
AJ 122, 3492) keeps the k most significant candidates for the largest k whose expected number
of noise maxima above the k-th, E(S_k), is at most q k: a pattern with many spots keeps its
faint ones, one with none needs the significance at which E = q.

E(u) is the expected Euler characteristic of the excursion set of a smooth Gaussian field of
unit variance over an area A (Adler 1981; Worsley et al. 1996, Hum. Brain Mapp. 4, 58), which
counts its maxima above a high u: E(u) = A lambda / (2 pi)^(3/2) u exp(-u^2 / 2), lambda the
variance of the field's one-pixel difference, 2 (1 - rho) for a disc of pixels whose overlap
with itself shifted by one pixel is a fraction rho of it. Measured on noise frames, S has 0.1-0.6
times as many maxima as E: the threshold errs on the side of fewer false spots.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import lambertw

from .matched import half_widths


def roughness(radius: float) -> float:
    """px^-2: the variance of a one-pixel difference of the unit-variance mean over the disc of
    pixel centres within `radius` px, 2 (1 - rho), rho its overlap with its shift by 1 px."""
    widths = half_widths(radius)
    pixels = (2 * widths + 1).sum()
    return 2.0 * (1.0 - (2 * widths).sum() / pixels)


def _density(area: float, radius: float) -> float:
    return area * roughness(radius) / (2.0 * math.pi) ** 1.5


def expected_maxima(u, area: float, radius: float):
    """The expected number of noise maxima of S above `u` sigmas over `area` px^2, for the disc
    of `radius` px."""
    u = np.asarray(u, np.float64)
    return _density(area, radius) * u * np.exp(-0.5 * u * u)


def significance_for(expected: float, area: float, radius: float) -> float:
    """The significance u (sigmas, >= 1) above which `expected` noise maxima are expected:
    u = sqrt(-W_-1(-c^2)), c = expected / (A lambda / (2 pi)^(3/2)), W_-1 Lambert's lower
    branch (1 where even u = 1 expects fewer)."""
    c = expected / _density(area, radius)
    if c * c >= math.exp(-1.0):
        return 1.0
    return max(math.sqrt(-lambertw(-c * c, -1).real), 1.0)


def discovery_threshold(values, area: float, radius: float, rate: float, least: float) -> float:
    """The significance a candidate of a pattern must exceed (sigmas): Benjamini-Hochberg's at
    a false discovery rate `rate` over the candidates' significances `values`, never below
    `least` (`rate` 0: `least`)."""
    if rate <= 0.0:
        return least
    ranked = np.sort(np.asarray(values, np.float64))[::-1]
    ranked = ranked[ranked > least]
    passing = np.flatnonzero(
        expected_maxima(ranked, area, radius) <= rate * np.arange(1, ranked.size + 1)
    )
    kept = passing[-1] + 1 if passing.size else 1
    return max(least, significance_for(rate * kept, area, radius))
