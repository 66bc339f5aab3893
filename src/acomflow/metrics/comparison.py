"""The comparison of preparations for orientation mapping (the paper's Fig. 5 and 7; method.md
§12): per preparation, the mean reliability in the grain ROI (patterns of at least `roi_spots`
registered spots, the direct beam included: the paper's 5) and over the whole map, and the
index's distribution; the masks of non-crystalline points (index, reliability, both, spot
count); against a synthetic truth also the accuracy (`orientations.summarise`, and pooled over
phases), the false orientations (non-crystalline patterns given one with R >= RELIABLE, per
100) and what each mask keeps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .orientations import pattern_errors, summarise

RELIABLE = 15.0  # ASTAR's reliable solutions: R above 15
ROI_SPOTS = 5  # the paper's grain ROI: spot count >= 5, the central spot included


def preparation_summary(
    table: pd.DataFrame, registered_spots: np.ndarray, roi_spots: int = ROI_SPOTS
) -> dict:
    """Mean reliability in the grain ROI and over the map, and the index's quartiles, of one
    preparation's orientation table; `registered_spots` the patterns' registered spot counts
    (scan order)."""
    reliability = table["reliability"].to_numpy(np.float64)
    roi = np.asarray(registered_spots) >= roi_spots
    index = table["index"].to_numpy(np.float64)
    return {
        "patterns": len(table),
        "roi_patterns": int(roi.sum()),
        "mean_reliability_roi": float(reliability[roi].mean()) if roi.any() else np.nan,
        "mean_reliability_map": float(reliability.mean()),
        "index_quartiles": [float(v) for v in np.percentile(index, [25, 50, 75])],
    }


def index_threshold(index: np.ndarray) -> float:
    """The index below which a pattern is taken as non-crystalline: Otsu's threshold of the
    map's index distribution (the paper's user sets it by eye; Q's scale differs with each
    preparation's grey levels)."""
    from skimage.filters import threshold_otsu

    finite = index[np.isfinite(index)]
    return float(threshold_otsu(finite)) if np.ptp(finite) > 0 else float(finite.max())


def masks(
    table: pd.DataFrame, registered_spots: np.ndarray, threshold: float, roi_spots: int = ROI_SPOTS
) -> dict[str, np.ndarray]:
    """The paper's Fig. 7 masks of crystalline points (True: kept), in scan order: index above
    `threshold` (`index_threshold`), reliability >= RELIABLE, both, and at least `roi_spots`
    registered spots."""
    by_index = table["index"].to_numpy(np.float64) > threshold
    by_reliability = table["reliability"].to_numpy(np.float64) >= RELIABLE
    return {
        "index": by_index,
        "reliability": by_reliability,
        "index_and_reliability": by_index & by_reliability,
        "spot_count": np.asarray(registered_spots) >= roi_spots,
    }


def _right(errors: pd.DataFrame, limit_deg: float) -> np.ndarray:
    """Within `limit_deg` of the truth or of its nearest zone twin (either is a right answer
    of a pattern whose two solutions look alike), right phase."""
    error = np.fmin(errors["error"].to_numpy(), errors["twin_error"].to_numpy())
    return (error < limit_deg) & (errors["phase"] == errors["phase_true"]).to_numpy()


def against_truth(
    table, truth, symmetries, zone_turns, counts, kept: dict, min_spots: int = 8
) -> dict:
    """The accuracy of one preparation's table against the truth: `orientations.summarise`;
    pooled over the crystalline patterns of at least `min_spots` own-grain spots, the fractions
    within 1 and 2 deg (up to the zone twin, right phase); the false orientations per 100
    non-crystalline patterns (R >= RELIABLE); and per mask of `kept` (`masks`) the fraction of those
    crystalline patterns it keeps, the non-crystalline ones it keeps per 100 and the fraction of
    the crystalline ones it keeps that are right within 2 deg."""
    errors = pattern_errors(table, truth, symmetries, zone_turns, counts, min_spots)
    errors = errors.set_index(["scan_y", "scan_x"]).loc[
        list(zip(table["scan_y"], table["scan_x"], strict=True))
    ]
    other = (errors["region"] != "crystal").to_numpy()
    crystal = ~other & (errors["grain_spots"] >= min_spots).to_numpy()
    false = other & (errors["phase"].fillna("") != "").to_numpy()
    false &= errors["reliability"].to_numpy() >= RELIABLE
    right = _right(errors, 2.0)
    by_mask = {
        name: {
            "crystal_kept": _fraction(mask[crystal]),
            "non_crystal_kept_per_100": 100.0 * _fraction(mask[other]),
            "right_of_kept": _fraction(right[crystal & mask]),
        }
        for name, mask in kept.items()
    }
    return {
        **summarise(errors.reset_index(), min_spots),
        "patterns": int(crystal.sum()),
        "within_1_deg": _fraction(_right(errors, 1.0)[crystal]),
        "within_2_deg": _fraction(right[crystal]),
        "false_orientations_per_100": 100.0 * _fraction(false[other]),
        "masks": by_mask,
    }


def _fraction(selected: np.ndarray) -> float:
    """The mean of a boolean array (NaN when empty)."""
    return float(np.mean(selected)) if len(selected) else np.nan


def compare_preparations(
    tables: dict, matched_path, patterns_path, phases: dict, truth_paths, out_path
) -> dict:
    """The comparison of a dataset's preparations ({name: image-index table path}) and the spot
    matcher's table (`matched_path`, named "matcher"), per `preparation_summary` and, with
    `truth_paths` (truth orientations, registered spots, truth spots), `against_truth`;
    `phases` {name: Phase}; written to `out_path` as JSON with provenance."""
    from ..acom.library import proper_symmetry, zone_half_turns
    from ..provenance import record, write_json
    from ..tables import read_metadata
    from .orientations import grain_spots, window_px

    registered = pd.read_parquet(patterns_path, columns=["n_spots"])["n_spots"].to_numpy()
    paths = {**tables, "matcher": matched_path}
    truth = None
    if truth_paths:
        truth_path, spots_path, truth_spots_path = truth_paths
        symmetries = {name: proper_symmetry(phase) for name, phase in phases.items()}
        turns = {name: zone_half_turns(phases[name], s) for name, s in symmetries.items()}
        counts = grain_spots(
            pd.read_parquet(spots_path),
            pd.read_parquet(truth_spots_path),
            window_px(read_metadata(matched_path)),
        )
        truth = (pd.read_parquet(truth_path), symmetries, turns, counts)
    summary = {}
    for name, path in paths.items():
        table = pd.read_parquet(path)
        threshold = index_threshold(table["index"].to_numpy(np.float64))
        kept = masks(table, registered, threshold)
        summary[name] = {
            **preparation_summary(table, registered),
            "index_threshold": threshold,
            "masks_kept": {mask: float(rows.mean()) for mask, rows in kept.items()},
        }
        if truth is not None:
            summary[name]["truth"] = against_truth(table, *truth, kept)
    inputs = [patterns_path, *paths.values(), *(truth_paths or [])]
    write_json(out_path, {"preparations": summary, **record({}, inputs=inputs)})
    return summary
