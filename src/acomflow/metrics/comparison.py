"""The comparison of preparations for orientation mapping (the paper's Fig. 5; method.md §12):
per preparation, the mean reliability in the grain ROI (patterns of at least `roi_spots`
registered spots, the direct beam included: the paper's 5) and over the whole map, and the
index's distribution; against a synthetic truth also the accuracy (`orientations.summarise`)
and the false orientations: non-crystalline patterns given one with R >= RELIABLE, per 100.
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


def against_truth(table, truth, symmetries, zone_turns, counts, min_spots: int = 8) -> dict:
    """The accuracy of one preparation's table against the truth (`orientations.summarise`)
    and its false orientations per 100 non-crystalline patterns (R >= RELIABLE)."""
    errors = pattern_errors(table, truth, symmetries, zone_turns, counts, min_spots)
    other = errors[errors["region"] != "crystal"]
    false = (other["phase"] != "") & (other["reliability"] >= RELIABLE)
    return {
        **summarise(errors, min_spots),
        "false_orientations_per_100": 100.0 * float(false.mean()) if len(other) else np.nan,
    }


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
        summary[name] = preparation_summary(table, registered)
        if truth is not None:
            summary[name]["truth"] = against_truth(table, *truth)
    inputs = [patterns_path, *paths.values(), *(truth_paths or [])]
    write_json(out_path, {"preparations": summary, **record({}, inputs=inputs)})
    return summary
