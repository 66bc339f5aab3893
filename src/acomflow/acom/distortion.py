"""The projector lenses' elliptical distortion, measured on a dataset's own matched patterns
(method.md §10, `matching.distortion: measured`).

A ring of reciprocal space shows on the detector as an ellipse; matched as they are, the spots
of such patterns fall off their reflections in proportion to |g|, and a few per cent of
ellipticity leave most spots beyond the position tolerance (validation.md). Measured: the sample
patterns are matched, every spot a solution explains (`match.explained`) is paired with its
reflection, and the 2 x 2 map that takes the reflections onto the spots is fitted by least
squares over all pairs; its symmetric part, of unit determinant, is the distortion, whose
inverse undoes it; then again, matched through that correction, until it stops changing. The
rotation part is the patterns' own in-plane angle and the determinant the calibration's scale
(`refine_scale`), both left to the matcher; a phase's lattice strained the same way in every
sampled grain would read as distortion too.

Maps are in detector px (x right, y down, as an image shows): `calibration.undistortion`.
"""

from __future__ import annotations

import math

import numpy as np

from ..calibration import ellipse, undistortion
from ..logs import logger
from .match import explained, match_pattern, pattern_spots
from .settings import MatchSettings

# Match-and-fit rounds until the map moves less than CONVERGED: matched through too little
# correction, a solution's tilt takes up part of the distortion, so each round finds a little
# less than is there (6 % took 6 rounds from none on diffsims patterns).
MAX_ROUNDS = 12
CONVERGED = 1e-4
MIN_PAIRS = 16  # fewer explained spots (4 parameters) measure no distortion: the start is kept
# The reflections' directions must spread: the smaller eigenvalue of their second moment at
# least this fraction of the larger (spots along one line fix one axis only).
MIN_SPREAD = 0.01
FLIP = np.diag([1.0, -1.0])  # px (y down) <-> the matcher's detector plane (y up)


def fitted_undistortion(observed, predicted, undistort: np.ndarray) -> np.ndarray | None:
    """The symmetric map of unit determinant that, applied after `undistort` (through which the
    `observed` spots were placed, 1/Å, y up), brings them onto their `predicted` reflections;
    None where the pairs cannot fix it (`MIN_PAIRS`, `MIN_SPREAD`)."""
    if len(observed) < MIN_PAIRS:
        return None
    spread = np.linalg.eigvalsh(predicted.T @ predicted)
    if spread[0] < MIN_SPREAD * spread[1]:
        return None
    # observed ~ predicted @ A.T, A in the y-up plane; in px, the spots' map is FLIP A FLIP
    a, *_ = np.linalg.lstsq(predicted, observed, rcond=None)
    total = np.linalg.solve(FLIP @ a.T @ FLIP, undistort)
    values, vectors = np.linalg.eigh(total.T @ total)  # total = rotation @ stretch
    stretch = vectors @ np.diag(np.sqrt(values)) @ vectors.T
    return stretch / math.sqrt(np.linalg.det(stretch))


def _explained_through(undistort, sample, libraries, settings: MatchSettings, d: float):
    """The spots of `sample` that their solutions explain, matched through `undistort`, and
    their reflections (two (k, 2) arrays, 1/Å), and how many patterns were matched."""
    observed, predicted, patterns = [np.empty((0, 2))], [np.empty((0, 2))], 0
    for x_c, y_c, intensity, significance in sample:
        spots, weight = pattern_spots(
            x_c, y_c, intensity, significance, d, settings, libraries[0].window, undistort
        )
        result = match_pattern(spots, weight, libraries, settings)
        if result["phase"] < 0 or result["matched"] < settings.min_spots:
            continue
        seen, placed = explained(spots, result, libraries[result["phase"]], settings)
        observed.append(seen)
        predicted.append(placed)
        patterns += 1
    return np.concatenate(observed), np.concatenate(predicted), patterns


def measure_undistortion(
    sample, libraries, settings: MatchSettings, d: float, start: np.ndarray
) -> dict:
    """The map that undoes the detector's elliptical distortion, measured on `sample` (per
    pattern: x_c, y_c px, integrated intensity, significance) matched against `libraries` at
    `d` 1/Å per px, from the map `start` (the calibration's): of the maps the rounds matched
    through, the one that explained the most spots (on few patterns a round can lose a
    pattern's solution and the next regain it). {"undistortion": 2 x 2 list, "ratio",
    "angle_deg", "pairs" (spots explained), "patterns" (matched), "measured": False where the
    pairs could fix no map (`fitted_undistortion`) and `start` is kept}."""
    undistort, best, measured = start, None, False
    for _ in range(MAX_ROUNDS):
        observed, predicted, patterns = _explained_through(
            undistort, sample, libraries, settings, d
        )
        if best is None or len(observed) >= best[1]:
            best = undistort, len(observed), patterns
        fitted = fitted_undistortion(observed, predicted, undistort)
        if fitted is None:
            break
        measured, moved = True, np.abs(fitted - undistort).max()
        undistort = fitted
        if moved < CONVERGED:
            break
    undistort, pairs, patterns = best
    record = _record(undistort, pairs, patterns, measured)
    logger.info(
        "elliptical distortion: %.4f along %.1f deg (%s)",
        record["ratio"],
        record["angle_deg"],
        f"{pairs} spots of {patterns} patterns explained through it"
        if measured
        else f"only {pairs} spots of {patterns} patterns explained: the calibration's kept",
    )
    return record


def calibrated(ratio: float | None, angle_deg: float | None) -> dict:
    """The record of `measure_undistortion` for the calibration's distortion, as given."""
    return _record(undistortion(ratio, angle_deg), 0, 0, False)


def _record(undistort: np.ndarray, pairs: int, patterns: int, measured: bool) -> dict:
    ratio, angle = ellipse(undistort)
    return {
        "undistortion": undistort.tolist(),
        "ratio": ratio,
        "angle_deg": angle,
        "pairs": pairs,
        "patterns": patterns,
        "measured": measured,
    }
