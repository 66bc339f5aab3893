"""Orientation accuracy against a synthetic truth (truth/orientations.parquet, method.md §8).

The error of a pattern is the symmetry-reduced disorientation between the found and the true
orientation (deg), split into its in-plane part (the rotation about the beam) and its tilt
(about an axis in the detector plane), measured on the lab rotation from the truth to the
nearest equivalent of the solution. A pattern shows the grains with at least `min_spots`
registered diffracted spots on their true discs inside the matcher's radial window; it counts
when crystalline in the truth and showing a grain, and the solution is measured against the
shown grain of its phase nearest to it: at a grain boundary either grain's orientation is a
right answer, and the spots of a grain the pattern barely shows say nothing about its
orientation.

A zero-order pattern is the same for an orientation and that orientation turned 180 deg about a
zone axis near the beam (`acom.match.zone_twins`); for such pseudo-symmetric patterns (flag 1)
the error to the truth's nearest zone twin is reported beside the error, and "within 1 deg up to
the flag" counts a flagged pattern right when either is within 1 deg.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..acom.match import PSEUDO_180, zone_twins
from ..acom.rotations import multiply, nearest_equivalent, positive
from ..crystal.orientations import QUATERNION
from .accuracy import match


def error_parts(truth: np.ndarray, found: np.ndarray, symmetry: np.ndarray) -> tuple:
    """(disorientation, in-plane, tilt) in deg between unit quaternions `truth` and `found`."""
    inverse = truth * np.array([1.0, -1.0, -1.0, -1.0])
    step = positive(multiply(inverse, nearest_equivalent(truth, found, symmetry)))
    angle = 2.0 * math.acos(min(1.0, step[0]))
    norm = np.linalg.norm(step[1:])
    vector = step[1:] / norm * angle if norm > 0 else np.zeros(3)
    return (
        math.degrees(angle),
        math.degrees(abs(vector[2])),
        math.degrees(math.hypot(vector[0], vector[1])),
    )


def window_px(metadata: dict) -> list[float]:
    """The radial window (r_min, r_max) px the matcher took spots from, from the orientation
    table's metadata."""
    return [r / metadata["inv_angstrom_per_px"] for r in metadata["window"]]


def grain_spots(spots: pd.DataFrame, truth_spots: pd.DataFrame, window_px=None) -> pd.DataFrame:
    """Per scan position and grain: the number of the grain's true diffracted spots that a
    registered diffracted spot lies on (`match`), for every grain with at least one; only the
    registered spots `window_px` (r_min, r_max) px from the beam centre (x_c, y_c) count, if
    given."""
    diffracted = spots[~spots["is_direct_beam"]]
    if window_px is not None:
        r = np.hypot(diffracted["x_c"], diffracted["y_c"])
        diffracted = diffracted[(r >= window_px[0]) & (r <= window_px[1])]
    registered = {key: rows for key, rows in diffracted.groupby(["scan_y", "scan_x"])}
    rows = []
    for key, true in truth_spots[~truth_spots["is_direct_beam"]].groupby(["scan_y", "scan_x"]):
        if key not in registered:
            continue
        _, index, inside = match(registered[key], true)
        hit = np.unique(index[inside])
        grains, counts = np.unique(true["grain"].to_numpy()[hit], return_counts=True)
        rows += [(*key, grain, count) for grain, count in zip(grains, counts) if grain >= 0]
    return pd.DataFrame(rows, columns=["scan_y", "scan_x", "grain", "spots"], dtype=np.int64)


def pattern_errors(
    table: pd.DataFrame,
    truth: pd.DataFrame,
    symmetries: dict,
    zone_turns: dict,
    counts: pd.DataFrame,
    min_spots: int = 8,
) -> pd.DataFrame:
    """Per scan position: the truth's region, the grain the solution is measured against and
    its phase, the solution's phase, its errors and its error to that grain's nearest zone twin
    (`acom.match.zone_twins`, from the phase's `zone_turns`; NaN where the solution has no
    orientation, the phases differ or no zone axis is near the beam). Phases by name in
    `symmetries` and `zone_turns`.

    `grain_spots` is the count of the position's own grain in `counts` (`grain_spots`): the
    registered spots on its true discs. The solution is measured against the grain of its phase
    nearest to it (up to the zone twin) among the position's own grain and the others with at
    least `min_spots` such spots: at a grain boundary either grain's orientation is a right
    answer. With none of its phase, it is measured against the own grain (phase wrong)."""
    grains = truth[truth["grain"] >= 0].groupby("grain").first()
    known = counts["grain"].isin(grains.index) & (counts["spots"] >= min_spots)
    shown = {
        key: rows["grain"].tolist() for key, rows in counts[known].groupby(["scan_y", "scan_x"])
    }
    own = counts.set_index(["scan_y", "scan_x", "grain"])["spots"]
    merged = table.merge(truth, on=["scan_y", "scan_x"], suffixes=("", "_true"))
    n = len(merged)
    measured = merged["grain"].to_numpy().copy()
    errors = np.full((n, 4), np.nan)
    for k, row in enumerate(merged.itertuples(index=False)):
        candidates = [row.grain] if row.grain >= 0 else []
        candidates += [g for g in shown.get((row.scan_y, row.scan_x), []) if g != row.grain]
        found = np.array([getattr(row, c) for c in QUATERNION])
        if not np.isfinite(found[0]):
            continue
        best = np.inf
        for grain in candidates:
            if grains.at[grain, "phase"] != row.phase:
                continue
            true = grains.loc[grain, list(QUATERNION)].to_numpy(np.float64)
            symmetry = symmetries[row.phase]
            parts = error_parts(true, found, symmetry)
            twin = min(
                (
                    error_parts(q, found, symmetry)[0]
                    for q in zone_twins(true, zone_turns[row.phase])
                ),
                default=np.nan,
            )
            nearest = np.fmin(parts[0], twin)
            if nearest < best:
                best, measured[k], errors[k] = nearest, grain, (*parts, twin)
    spots = [own.get(key, 0) for key in zip(merged["scan_y"], merged["scan_x"], merged["grain"])]
    return pd.DataFrame(
        {
            "scan_y": merged["scan_y"],
            "scan_x": merged["scan_x"],
            "region": merged["region"],
            "grain": measured,
            "phase_true": [grains.at[g, "phase"] if g >= 0 else None for g in measured],
            "phase": merged["phase"],
            "n_spots": merged["n_spots"],
            "grain_spots": np.array(spots, dtype=np.int64),
            "reliability": merged["reliability"],
            "flags": merged["flags"],
            "error": errors[:, 0],
            "in_plane": errors[:, 1],
            "tilt": errors[:, 2],
            "twin_error": errors[:, 3],
        }
    )


def roc_auc(score: np.ndarray, is_positive: np.ndarray) -> float:
    """The area under the ROC curve of `score` for telling `is_positive` from the rest (NaN when
    either class is empty)."""
    from sklearn.metrics import roc_auc_score

    if is_positive.all() or not is_positive.any():
        return float("nan")
    return float(roc_auc_score(is_positive, score))


def _median(values: pd.Series) -> float | None:
    """The median of the finite values (None with none)."""
    finite = values[np.isfinite(values)]
    return float(finite.median()) if len(finite) else None


def _up_to_flag(rows: pd.DataFrame, limit_deg: float) -> np.ndarray:
    """Whether each pattern is within `limit_deg` of the truth, or, flagged, of the truth's
    nearest zone twin."""
    flagged = rows["flags"].to_numpy() & PSEUDO_180 > 0
    return (rows["error"].to_numpy() < limit_deg) | (
        flagged & (rows["twin_error"].to_numpy() < limit_deg)
    )


def summarise(errors: pd.DataFrame, min_spots: int = 8) -> dict:
    """Accuracy by true phase over crystalline patterns with at least `min_spots` own-grain
    spots, the reliability's ROC AUC for right (within 2 deg up to the flag, right phase)
    against wrong, over all of them and by phase, and the reliability of amorphous and vacuum
    patterns."""
    crystal = errors[(errors["region"] == "crystal") & (errors["grain_spots"] >= min_spots)]
    right = _up_to_flag(crystal, 2.0)
    by_phase = {}
    for name, rows in crystal.groupby("phase_true"):
        error = rows["error"].to_numpy()
        by_phase[name] = {
            "patterns": len(rows),
            "within_1_deg": float(np.mean(error < 1.0)),
            "within_2_deg": float(np.mean(error < 2.0)),
            "within_1_deg_up_to_flag": float(np.mean(_up_to_flag(rows, 1.0))),
            "phase_right": float(np.mean(rows["phase"] == name)),
            **{f"median_{part}_deg": _median(rows[part]) for part in ("error", "in_plane", "tilt")},
            "flagged_180": float(np.mean(rows["flags"].to_numpy() & PSEUDO_180 > 0)),
            "median_reliability": _median(rows["reliability"]),
            "reliability_auc": roc_auc(rows["reliability"].to_numpy(), _up_to_flag(rows, 2.0)),
        }
    other = errors[errors["region"] != "crystal"]
    return {
        "min_spots": min_spots,
        "phases": by_phase,
        "reliability_auc": roc_auc(crystal["reliability"].to_numpy(), right),
        "crystal_median_reliability": _median(crystal["reliability"]),
        "non_crystal_patterns": len(other),
        "non_crystal_matched": int((other["phase"].fillna("") != "").sum()),
        "non_crystal_max_reliability": float(other["reliability"].max()) if len(other) else None,
    }
