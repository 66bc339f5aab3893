"""Orientation accuracy against a synthetic truth (truth/orientations.parquet, method.md §8).

The error of a pattern is the symmetry-reduced disorientation between the found and the true
orientation (deg), split into its in-plane part (the rotation about the beam) and its tilt
(about an axis in the detector plane), measured on the lab rotation from the truth to the
nearest equivalent of the solution. Patterns count when crystalline in the truth with at least
`min_spots` diffracted spots registered.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..crystal.orientations import QUATERNION
from .rotations import multiply, nearest_equivalent, positive


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


def pattern_errors(table: pd.DataFrame, truth: pd.DataFrame, symmetries: dict) -> pd.DataFrame:
    """Per scan position: the truth's region and phase, the solution's phase and its errors
    (NaN where either has no orientation or the phases differ)."""
    merged = table.merge(truth, on=["scan_y", "scan_x"], suffixes=("", "_true"))
    errors = np.full((len(merged), 3), np.nan)
    found = merged[list(QUATERNION)].to_numpy()
    true = merged[[f"{c}_true" for c in QUATERNION]].to_numpy()
    same = (merged["phase"] == merged["phase_true"]).fillna(False).to_numpy()
    for k in np.flatnonzero(same & np.isfinite(found[:, 0]) & np.isfinite(true[:, 0])):
        errors[k] = error_parts(true[k], found[k], symmetries[merged["phase"].iloc[k]])
    return pd.DataFrame(
        {
            "scan_y": merged["scan_y"],
            "scan_x": merged["scan_x"],
            "region": merged["region"],
            "phase_true": merged["phase_true"],
            "phase": merged["phase"],
            "n_spots": merged["n_spots"],
            "reliability": merged["reliability"],
            "flags": merged["flags"],
            "error": errors[:, 0],
            "in_plane": errors[:, 1],
            "tilt": errors[:, 2],
        }
    )


def roc_auc(score: np.ndarray, positive: np.ndarray) -> float:
    """The area under the ROC curve of `score` for telling `positive` from the rest (NaN when
    either class is empty)."""
    from sklearn.metrics import roc_auc_score

    if positive.all() or not positive.any():
        return float("nan")
    return float(roc_auc_score(positive, score))


def _median(values: pd.Series) -> float | None:
    """The median of the finite values (None with none)."""
    finite = values[np.isfinite(values)]
    return float(finite.median()) if len(finite) else None


def summarise(errors: pd.DataFrame, min_spots: int = 8) -> dict:
    """Accuracy by true phase over crystalline patterns with at least `min_spots` spots, the
    reliability's ROC AUC for right (within 2 deg, right phase) against wrong, and the
    reliability of amorphous and vacuum patterns."""
    crystal = errors[(errors["region"] == "crystal") & (errors["n_spots"] >= min_spots)]
    by_phase = {}
    for name, rows in crystal.groupby("phase_true"):
        error = rows["error"].to_numpy()
        by_phase[name] = {
            "patterns": len(rows),
            "within_1_deg": float(np.mean(error < 1.0)),
            "within_2_deg": float(np.mean(error < 2.0)),
            "phase_right": float(np.mean(rows["phase"] == name)),
            **{f"median_{part}_deg": _median(rows[part]) for part in ("error", "in_plane", "tilt")},
            "flagged_180": float(np.mean(rows["flags"].to_numpy() & 1 > 0)),
        }
    right = (crystal["error"] < 2.0).to_numpy()
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
