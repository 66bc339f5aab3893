"""The relrod width of a dataset's crystals, measured from its patterns (method.md §10).

The tilt of a pattern is read from its intensities, through the excitation errors, and so
depends on the relrod width, which follows the thickness and which no bank can know. Refined per
pattern, the width trades against the tilt on patterns of a dozen spots; measured once on many
patterns, it is fixed and the tilt is left alone. Each sampled pattern of at least
`match.WIDTH_MIN_SPOTS` spots is matched with its width free; a phase's width is the median over
the patterns given that phase (robust to the few wrong ones), with its quartiles as the spread.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .library import PhaseLibrary
from .match import WIDTH_MIN_SPOTS, match_pattern
from .settings import MatchSettings

MIN_PATTERNS = 5  # a phase found in fewer sampled patterns keeps its bank's width


def sample_positions(n_spots: np.ndarray, most: int) -> np.ndarray:
    """Flat indices of at most `most` scan positions spread evenly, in scan order, over those
    whose count of registered spots `n_spots` (flat, direct beam included) can reach
    WIDTH_MIN_SPOTS diffracted spots."""
    eligible = np.flatnonzero(np.asarray(n_spots) > WIDTH_MIN_SPOTS)
    if len(eligible) <= most:
        return eligible
    return eligible[np.unique(np.linspace(0, len(eligible) - 1, most).round().astype(np.int64))]


def measure_widths(patterns, libraries: list[PhaseLibrary], settings: MatchSettings) -> dict:
    """{phase: {"width": 1/Å, "patterns": count, "quartiles": [1/Å, 1/Å]}} from `patterns`, an
    iterable of (spots, weight) as `match.pattern_spots` gives them; a phase given to fewer than
    MIN_PATTERNS of them keeps its library's width (its quartiles null)."""
    free = dataclasses.replace(settings, relrod_width="per_pattern")
    found = {library.name: [] for library in libraries}
    for spots, weight in patterns:
        if len(spots) < WIDTH_MIN_SPOTS:
            continue
        result = match_pattern(spots, weight, libraries, free)
        if result["phase"] >= 0:
            found[libraries[result["phase"]].name].append(result["relrod_width"])
    widths = {}
    for library in libraries:
        values = np.asarray(found[library.name])
        if len(values) < MIN_PATTERNS:
            widths[library.name] = {
                "width": float(library.physics[2]),
                "patterns": len(values),
                "quartiles": None,
            }
            continue
        widths[library.name] = {
            "width": float(np.median(values)),
            "patterns": len(values),
            "quartiles": [float(v) for v in np.percentile(values, [25, 75])],
        }
    return widths
