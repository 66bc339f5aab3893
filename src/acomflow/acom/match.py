"""Orientation and phase of one pattern from its registered spots (method.md §10).

Per phase: the coarse search over the bank (`search`) ranks every direction and mirror at its
best in-plane angle; the best candidates more than `distinct_deg` apart (symmetry-reduced) are
refined (`refine`), and so are the best one's zone twins (`zone_twins`). The solution is the best
refined score S over all phases (`index`); `reliability` R = 100 (1 - S2 / S1) against the best
solution of the same phase more than `distinct_deg` from it, `phase_reliability` the same against
the best solution of any other phase (NaN with one phase).

A zero-order pattern is the same for an orientation and that orientation turned 180 deg about a
zone axis near the beam (its zero layer lands on the same lab points; Friedel's law): only
higher-order Laue zones, mostly beyond the detector, tell them apart. Where such a twin scores
within 10 % of the solution (flag `PSEUDO_180`), it is left out of S2: the flag names the
ambiguity and R measures the solution against every other alternative, so that a map of
near-zone-axis grains keeps a reliability that tells right from wrong up to the flagged twin."""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from ..crystal.excitation import excited
from .library import PhaseLibrary
from .refine import (
    EXPLAINED,
    MOVE,
    N_PARAMETERS,
    WIDTH_RANGE,
    fit,
    links,
    nearest,
    placed,
    refine,
    score,
)
from .rotations import distance, from_vector, matrix, multiply, positive
from .search import coarse_search, distinct_candidates
from .settings import MatchSettings

PSEUDO_180 = 1  # flag: the solution turned 180 deg about a zone axis scores within 10 % of it
TOO_FEW_SPOTS = 2  # flag: fewer than min_spots spots in the window, no orientation
# flag: the solution's reflections explain fewer than min_spots spots, too few to fix an
# orientation (one leaves a turn about its g free), whatever its score: reliability 0
UNDERDETERMINED = 4
ZONE_DEG = 8.0  # deg: zone axes this close to the beam give zero-order patterns their twins
STEP = 0.006  # rad: the refinement's first step in each rotation (about a third of a bank step)
WIDTH_STEP = 0.3  # the refinement's first step in ln(relrod width)
EVALUATIONS = 400  # the most scores one refinement computes
BOUND_STEPS = 4.0  # a refinement stays within this many bank steps of its candidate
WIDTH_STARTS = (0.0, math.log(0.25))  # ln b: the library's relrod width, and a quarter of it
WIDTH_MIN_SPOTS = 8  # a per-pattern relrod width needs at least this many spots
# A reflection counts in the score when its weight, relative to the strongest reflection's, is at
# least this fraction of the weakest registered spot's relative to the strongest spot's: fainter
# ones would not have been registered, so their absence says nothing.
DETECTION_MARGIN = 0.5


@dataclasses.dataclass(frozen=True)
class Solution:
    """A refined orientation: unit quaternion (4,), score S, calibration scale, relrod width
    as a factor of the library's."""

    quaternion: np.ndarray
    score: float
    scale: float
    width: float


def pattern_spots(
    x_c, y_c, integrated, significance, d, settings: MatchSettings, window, undistort=None
):
    """The diffracted spots of a pattern as detector-plane vectors (n, 2) 1/Å (x right, y up,
    from the beam centre) and their weights, those inside the radial `window` only: centred
    coordinates `x_c`, `y_c` px (x right, y down), made round by the 2 x 2 map `undistort`
    (`calibration.undistortion`; none: as they are), integrated intensity, significance
    (prominence / noise), `d` 1/Å per px."""
    p = np.column_stack([np.asarray(x_c, np.float64), np.asarray(y_c, np.float64)])
    if undistort is not None:
        p = p @ np.asarray(undistort, np.float64).T
    p = p * np.array([d, -d])
    r = np.hypot(p[:, 0], p[:, 1])
    keep = (r >= window[0]) & (r <= window[1])
    weight = np.clip(np.asarray(integrated, np.float64), 0.0, None) ** settings.intensity_exponent
    if settings.full_weight_significance > 0:
        weight *= np.clip(
            np.asarray(significance, np.float64) / settings.full_weight_significance, 0, 1
        )
    keep &= weight > 0
    return p[keep], weight[keep]


def _candidates(spots, weight, library: PhaseLibrary, settings: MatchSettings):
    """The distinct starting orientations of `library` for these spots, best first."""
    r = np.hypot(spots[:, 0], spots[:, 1])
    order = np.argsort(r, kind="stable")
    n_bins = 2 * max(
        1, round(180.0 / settings.in_plane_step_deg)
    )  # even: the mirror is a half turn
    scores, bins = coarse_search(
        r[order],
        np.arctan2(spots[order, 1], spots[order, 0]),
        weight[order],
        library.offsets,
        library.rho,
        library.alpha,
        library.strength,
        library.norms,
        settings.tolerance,
        n_bins,
    )
    distinct = math.radians(settings.distinct_deg)
    chosen = list(
        distinct_candidates(
            scores,
            bins,
            n_bins,
            library.directions,
            library.symmetry,
            2.0 * distinct,
            settings.candidates,
        )[0]
    )
    return chosen


def zone_twins(q, turns: np.ndarray) -> list:
    """Orientation q turned by each of a phase's zone-axis half turns `turns` (`zone_turns` of
    its library) whose axis lies within ZONE_DEG of the beam: the orientations whose zero-order
    Laue zone falls on the same lab points as q's."""
    beam = matrix(q)[:, 2]  # the crystal direction along the lab's z
    near = np.abs(turns[:, 1:] @ beam) >= math.cos(math.radians(ZONE_DEG))
    return [positive(multiply(turn, q)) for turn in turns[near]]


def _near(q, library: PhaseLibrary, free_width: bool):
    """The lab vectors (m, 3) and |F|^2 of the reflections that a refinement from q can bring
    into the window and onto the sphere (with the relrod width, and so the cutoff, free or
    not)."""
    g0 = library.g @ matrix(q)
    rho = np.hypot(g0[:, 0], g0[:, 1])
    near = (rho >= library.window[0] - MOVE) & (rho <= library.window[1] + MOVE)
    cutoff = library.physics[6] * (WIDTH_RANGE if free_width else 1.0)
    near &= excited(g0, 1.0 / library.physics[0], library.physics[1], cutoff + MOVE)
    return g0[near], library.structure[near]


@functools.cache
def _starts(resolution: float, free_width: bool) -> np.ndarray:
    """The refinement's trial starts (k, 5), read-only and built once per bank: tilts of 0, 1
    and 2 bank steps `resolution` (rad) about the lab's x and y, at the library's relrod width
    and, if free, at WIDTH_STARTS."""
    tilts = resolution * np.arange(-2, 3)
    widths = WIDTH_STARTS if free_width else (0.0,)
    starts = np.array([(vx, vy, 0.0, 0.0, b) for vx in tilts for vy in tilts for b in widths])
    starts.flags.writeable = False
    return starts


def _refined(q, spots, weight, library: PhaseLibrary, settings: MatchSettings) -> Solution:
    """The candidate q refined from the best of its trial starts (`_starts`), or only scored
    without `settings.refine`."""
    floor = DETECTION_MARGIN * weight.min() / weight.max()
    args = (library.physics, settings.intensity_exponent, settings.tolerance, library.window, floor)
    free_width = settings.relrod_width == "per_pattern" and len(spots) >= WIDTH_MIN_SPOTS
    if not settings.refine:
        x = np.zeros(N_PARAMETERS)
        g0, structure = _near(q, library, False)
        found = links(spots, weight, g0, settings.tolerance, 0.0)
        return Solution(q, score(x, spots, weight, g0, structure, found, *args), 1.0, 1.0)
    step = np.array([STEP, STEP, STEP, 0.01, WIDTH_STEP])
    free = np.array([0, 1, 2] + [3] * settings.refine_scale + [4] * free_width, dtype=np.int64)
    bound = BOUND_STEPS * max(library.resolution, math.radians(settings.in_plane_step_deg))
    g0, structure = _near(q, library, free_width)
    starts = _starts(library.resolution, free_width)
    x, s = refine(spots, weight, g0, structure, *args, starts, free, step, bound, EVALUATIONS)
    q = positive(multiply(q, from_vector(x[:3])))
    return Solution(q, s, math.exp(x[3]), math.exp(x[4]))


def _reflections(q, scale: float, width: float, library: PhaseLibrary, settings: MatchSettings):
    """Detector positions (m, 2) 1/Å and weights of the reflections of `library` near the
    window at orientation q, calibration scale `scale` and relrod width `width` times the
    library's (`refine.placed`)."""
    g0, structure = _near(q, library, settings.relrod_width == "per_pattern")
    x = np.array([0.0, 0.0, 0.0, math.log(scale), math.log(width)])
    return placed(x, g0, structure, library.physics, settings.intensity_exponent)


def explained(spots, result: dict, library: PhaseLibrary, settings: MatchSettings):
    """The spots (1/Å) a solution of `match_pattern` (its `library`) explains, as its `matched`
    counts them (`refine.fit`), and the reflections that explain them: two (k, 2) arrays,
    observed and predicted."""
    width = result["relrod_width"] / library.physics[2]
    position, t = _reflections(result["quaternion"], result["scale"], width, library, settings)
    index, closest = nearest(position, t, spots, library.window)
    near = closest <= (EXPLAINED * settings.tolerance) ** 2
    return spots[near], position[index[near]]


def match_pattern(spots, weight, libraries: list[PhaseLibrary], settings: MatchSettings) -> dict:
    """The solution of one pattern (spots (n, 2) 1/Å and weights from `pattern_spots`): phase
    index into `libraries` (-1: none), quaternion, index S, reliability, phase reliability,
    matched spots, residual (1/Å), scale, relrod width (1/Å) and flags."""
    none = {
        "phase": -1,
        "quaternion": np.full(4, np.nan),
        "index": 0.0,
        "reliability": 0.0,
        "phase_reliability": 0.0,
        "matched": 0,
        "residual": np.nan,
        "scale": np.nan,
        "relrod_width": np.nan,
        "flags": TOO_FEW_SPOTS,
    }
    if len(spots) < settings.min_spots:
        return none
    distinct = math.radians(settings.distinct_deg)
    best_of_phase = [
        sorted(
            (
                _refined(q, spots, weight, library, settings)
                for q in _candidates(spots, weight, library, settings)
            ),
            key=lambda s: -s.score,
        )
        for library in libraries
    ]
    tops = [sol[0].score if sol else 0.0 for sol in best_of_phase]
    phase = int(np.argmax(tops))
    library = libraries[phase]
    solutions = best_of_phase[phase]
    if not solutions or solutions[0].score <= 0:
        return none
    twins = [
        _refined(q, spots, weight, library, settings)
        for q in zone_twins(solutions[0].quaternion, library.zone_turns)
    ]
    solutions = sorted(solutions + twins, key=lambda s: -s.score)
    best, symmetry = solutions[0], library.symmetry
    tops[phase] = best.score
    twins_of_best = zone_twins(best.quaternion, library.zone_turns)
    alternatives = [
        (s, any(distance(t, s.quaternion, symmetry) <= distinct for t in twins_of_best))
        for s in solutions[1:]
        if distance(best.quaternion, s.quaternion, symmetry) > distinct
    ]
    pseudo = any(twin and s.score >= 0.9 * best.score for s, twin in alternatives)
    second = max(
        (s.score for s, twin in alternatives if not (pseudo and twin)),
        default=0.0,
    )
    others = [t for k, t in enumerate(tops) if k != phase]
    position, t = _reflections(best.quaternion, best.scale, best.width, library, settings)
    matched, residual = fit(position, t, spots, weight, settings.tolerance, library.window)
    flags = (PSEUDO_180 if pseudo else 0) | (UNDERDETERMINED if matched < settings.min_spots else 0)
    return {
        "phase": phase,
        "quaternion": best.quaternion,
        "index": best.score,
        "reliability": 0.0 if flags & UNDERDETERMINED else 100.0 * (1.0 - second / best.score),
        "phase_reliability": 100.0 * (1.0 - max(others) / best.score) if others else np.nan,
        "matched": matched,
        "residual": residual,
        "scale": best.scale,
        "relrod_width": library.physics[2] * best.width,
        "flags": flags,
    }
