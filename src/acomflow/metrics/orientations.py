"""Orientation accuracy against a synthetic truth (truth/orientations.parquet, method.md §8).

The error of a pattern is the symmetry-reduced disorientation between the found and the true
orientation (deg), split into its in-plane part (the rotation about the beam) and its tilt
(about an axis in the detector plane), measured on the lab rotation from the truth to the
nearest equivalent of the solution. Patterns count when crystalline in the truth with at least
`min_spots` registered diffracted spots of their own grain: where a grain boundary mixes two
grains, the other grain's spots say nothing about this one's orientation.

A zero-order pattern is the same for an orientation and that orientation turned 180 deg about
the beam, but for the excitation errors; for such pseudo-symmetric patterns (flag 1) the error
to the truth's twin is reported beside the error, and "within 1 deg up to the flag" counts a
flagged pattern right when either is within 1 deg.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..acom.match import PSEUDO_180
from ..acom.rotations import about_z, multiply, nearest_equivalent, positive
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


def grain_spots(
    spots: pd.DataFrame, truth_spots: pd.DataFrame, truth: pd.DataFrame
) -> pd.DataFrame:
    """Per scan position of the truth's orientations table: the number of true diffracted spots
    of the position's grain that a registered diffracted spot lies on (`match`)."""
    grain = truth.set_index(["scan_y", "scan_x"])["grain"]
    registered = {
        key: rows for key, rows in spots[~spots["is_direct_beam"]].groupby(["scan_y", "scan_x"])
    }
    counts = dict.fromkeys(grain.index, 0)
    for key, true in truth_spots[~truth_spots["is_direct_beam"]].groupby(["scan_y", "scan_x"]):
        if key not in registered or key not in counts:
            continue
        _, index, inside = match(registered[key], true)
        own = inside & (true["grain"].to_numpy()[index] == grain[key])
        counts[key] = len(np.unique(index[own]))
    keys = np.array(list(counts), dtype=np.int64).reshape(-1, 2)
    return pd.DataFrame(
        {"scan_y": keys[:, 0], "scan_x": keys[:, 1], "grain_spots": list(counts.values())}
    )


def pattern_errors(
    table: pd.DataFrame, truth: pd.DataFrame, symmetries: dict, counts: pd.DataFrame
) -> pd.DataFrame:
    """Per scan position: the truth's region and phase, the solution's phase, its errors and
    its error to the truth turned 180 deg about the beam (NaN where either has no orientation
    or the phases differ), with the own-grain spot `counts` of `grain_spots`."""
    merged = table.merge(truth, on=["scan_y", "scan_x"], suffixes=("", "_true"))
    merged = merged.merge(counts, on=["scan_y", "scan_x"], how="left")
    errors = np.full((len(merged), 4), np.nan)
    found = merged[list(QUATERNION)].to_numpy()
    true = merged[[f"{c}_true" for c in QUATERNION]].to_numpy()
    same = (merged["phase"] == merged["phase_true"]).fillna(False).to_numpy()
    turn = about_z(math.pi)
    for k in np.flatnonzero(same & np.isfinite(found[:, 0]) & np.isfinite(true[:, 0])):
        symmetry = symmetries[merged["phase"].iloc[k]]
        errors[k, :3] = error_parts(true[k], found[k], symmetry)
        errors[k, 3] = error_parts(positive(multiply(true[k], turn)), found[k], symmetry)[0]
    return pd.DataFrame(
        {
            "scan_y": merged["scan_y"],
            "scan_x": merged["scan_x"],
            "region": merged["region"],
            "phase_true": merged["phase_true"],
            "phase": merged["phase"],
            "n_spots": merged["n_spots"],
            "grain_spots": merged["grain_spots"].fillna(0).astype(np.int64),
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


def summarise(errors: pd.DataFrame, min_spots: int = 8) -> dict:
    """Accuracy by true phase over crystalline patterns with at least `min_spots` own-grain
    spots, the reliability's ROC AUC for right (within 2 deg, right phase) against wrong, over
    all of them and over those without the 180 deg flag, and the reliability of amorphous and
    vacuum patterns."""
    crystal = errors[(errors["region"] == "crystal") & (errors["grain_spots"] >= min_spots)]
    flagged = crystal["flags"].to_numpy() & PSEUDO_180 > 0
    by_phase = {}
    for name, rows in crystal.groupby("phase_true"):
        error = rows["error"].to_numpy()
        twin = (rows["flags"].to_numpy() & PSEUDO_180 > 0) & (rows["twin_error"].to_numpy() < 1.0)
        by_phase[name] = {
            "patterns": len(rows),
            "within_1_deg": float(np.mean(error < 1.0)),
            "within_2_deg": float(np.mean(error < 2.0)),
            "within_1_deg_up_to_flag": float(np.mean((error < 1.0) | twin)),
            "phase_right": float(np.mean(rows["phase"] == name)),
            **{f"median_{part}_deg": _median(rows[part]) for part in ("error", "in_plane", "tilt")},
            "flagged_180": float(np.mean(rows["flags"].to_numpy() & PSEUDO_180 > 0)),
        }
    right = (crystal["error"] < 2.0).to_numpy()
    reliability = crystal["reliability"].to_numpy()
    other = errors[errors["region"] != "crystal"]
    return {
        "min_spots": min_spots,
        "phases": by_phase,
        "reliability_auc": roc_auc(reliability, right),
        "reliability_auc_unflagged": roc_auc(reliability[~flagged], right[~flagged]),
        "crystal_median_reliability": _median(crystal["reliability"]),
        "non_crystal_patterns": len(other),
        "non_crystal_matched": int((other["phase"].fillna("") != "").sum()),
        "non_crystal_max_reliability": float(other["reliability"].max()) if len(other) else None,
    }
