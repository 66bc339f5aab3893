"""Registration against the synthetic ground truth: recall, precision, false spots, direct beam,
position error, by integrated SNR (the spot's signal electrons over sqrt(signal + background)
in its disc; see simulate/pattern.py).

A registered spot is matched when it lies inside the disc of its nearest true spot (radius at
least 2 px). Recall counts true diffracted spots whose disc touches no other true disc (two
overlapping discs make one maximum in any detector) and that lie at least `border` px inside
the frame. The recall over *all* spots (`recall_all`) counts every true diffracted spot instead,
overlapping discs as one group (found when a registered spot lies in any of its discs; its SNR
the best of its members'), by SNR, by the distance to the nearest other group (centre to centre,
in the spot's radii) and by the pattern's dose. Position errors are set beside an oracle
centroid that knows each spot's centre, radius and neighbours (`oracle_centroids`) and, where
given, a bound (`metrics.synthetic.bound_errors`, the Cramer-Rao bound, which unlike the
oracle no estimator can beat).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..logs import logger
from ..provenance import record, write_json
from ..store import read_sidecar
from .summary import plot_accuracy

SNR_BINS = (0.0, 5.0, 10.0, 20.0, 50.0, np.inf)
ALL_SNR_BINS = (5.0, 7.0, 10.0, 15.0, 20.0, 50.0, np.inf)  # recall_all, from the detection limit
NEIGHBOUR_BINS = (0.0, 2.3, 3.4, 5.0, np.inf)  # nearest other group, in the spot's radii
GROUP_COLUMNS = ["snr", "found", "neighbour_radii", "dose"]


def match(spots, truth: pd.DataFrame):
    """For each registered spot (x, y arrays): distance to the nearest true spot (px), its
    index in `truth`, and whether it lies inside that spot's disc."""
    distance, index = cKDTree(np.c_[truth.y, truth.x]).query(np.c_[spots["y"], spots["x"]])
    return distance, index, distance <= np.maximum(truth.radius.to_numpy()[index], 2.0)


def oracle_centroids(frame: np.ndarray, truth: pd.DataFrame, which: np.ndarray) -> np.ndarray:
    """The position error (px) of an oracle centroid for the true spots `which` (indices into
    one pattern's `truth`): the centroid of the frame above the spot's background over its
    true disc grown by 1 px, the background the median over the ring r + 3 .. r + 6 px of the
    pixels farther than r + 2 px from every other true spot (r each spot's true radius). It
    knows where each spot is, how large, and what else is near, which no detector does: the
    level a refinement is measured against."""
    ys, xs, radii = (truth[key].to_numpy(np.float64) for key in ("y", "x", "radius"))
    errors = np.full(len(which), np.nan)
    for k, j in enumerate(which):
        reach = int(np.ceil(radii[j] + 6))
        r0, c0 = max(int(round(ys[j])) - reach, 0), max(int(round(xs[j])) - reach, 0)
        patch = np.asarray(frame[r0 : r0 + 2 * reach + 1, c0 : c0 + 2 * reach + 1], np.float64)
        yy, xx = np.mgrid[r0 : r0 + patch.shape[0], c0 : c0 + patch.shape[1]]
        d = np.hypot(yy - ys[j], xx - xs[j])
        clear = np.ones(patch.shape, bool)
        for i in np.flatnonzero(np.hypot(ys - ys[j], xs - xs[j]) < 2 * reach):
            if i != j:
                clear &= np.hypot(yy - ys[i], xx - xs[i]) > radii[i] + 2
        ring = (d >= radii[j] + 3) & (d <= radii[j] + 6) & clear
        if not ring.any():
            continue
        weights = np.maximum(patch - np.median(patch[ring]), 0.0) * (d <= radii[j] + 1)
        if weights.sum() > 0:
            cy, cx = (weights * yy).sum() / weights.sum(), (weights * xx).sum() / weights.sum()
            errors[k] = np.hypot(cy - ys[j], cx - xs[j])
    return errors


def spot_groups(truth: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The group of each true spot (touching or overlapping discs join one group; labels 0..)
    and the distance from its centre to the nearest spot of another group, in its radii (inf
    alone)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    yx, radius = np.c_[truth.y, truth.x], truth.radius.to_numpy(np.float64)
    distance = np.hypot(*(yx[:, None, :] - yx[None, :, :]).transpose(2, 0, 1))
    touching = distance <= radius[:, None] + radius[None, :]
    _, group = connected_components(coo_matrix(touching), directed=False)
    other = np.where(group[:, None] != group[None, :], distance, np.inf)
    return group, other.min(axis=1, initial=np.inf) / np.maximum(radius, 1e-9)


def alone(group: np.ndarray) -> np.ndarray:
    """The spots alone in their group (`spot_groups`): whose disc touches no other's."""
    return np.bincount(group)[group] == 1


def discs_apart(truth: pd.DataFrame) -> np.ndarray:
    """True spots whose disc touches no other true spot's disc."""
    return alone(spot_groups(truth)[0])


def _group_recall(truth, groups, hit, eligible, dose) -> pd.DataFrame:
    """One row per eligible group (`groups`: `spot_groups`) of a crystalline pattern's true
    spots: its best SNR, whether a registered spot lies in one of its discs (`hit` per spot),
    its nearest-neighbour distance (radii of its best member) and the pattern's dose."""
    group, neighbour = groups
    beam_groups = set(group[truth.is_direct_beam.to_numpy()])
    rows = []
    snr = truth.snr.to_numpy()
    for label in np.unique(group):
        members = np.flatnonzero(group == label)
        if label in beam_groups or not eligible[members].any():
            continue
        best = members[np.argmax(snr[members])]
        rows.append((snr[best], hit[members].any(), neighbour[best], dose))
    return pd.DataFrame(rows, columns=GROUP_COLUMNS)


def recall_table(groups: pd.DataFrame) -> dict:
    """Recall of the groups of SNR >= 5 (`_group_recall`): overall, at SNR >= 10, and by SNR,
    nearest-neighbour distance and pattern dose (quartiles, electrons)."""
    groups = groups[groups.snr >= ALL_SNR_BINS[0]]
    if groups.empty:
        return {"groups": 0}
    by = {
        "snr": pd.cut(groups.snr, ALL_SNR_BINS, right=False),
        "neighbour_radii": pd.cut(groups.neighbour_radii, NEIGHBOUR_BINS, right=False),
        "dose": pd.qcut(groups.dose, 4, duplicates="drop"),
    }
    tables = {
        name: {
            str(interval): {"groups": int(len(rows)), "recall": float(rows.found.mean())}
            for interval, rows in groups.groupby(bins, observed=True)
        }
        for name, bins in by.items()
    }
    return {
        "groups": int(len(groups)),
        "recall": float(groups.found.mean()),
        "recall_snr_10": float(groups.found[groups.snr >= 10].mean()),
        **tables,
    }


def _patterns(table: pd.DataFrame, nx: int):
    """{scan row index: slice of `table`} for a table sorted by scan_y, scan_x."""
    row = table.scan_y.to_numpy(np.int64) * nx + table.scan_x.to_numpy(np.int64)
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    stops = np.r_[starts[1:], len(row)]
    return {int(row[a]): slice(a, b) for a, b in zip(starts, stops)}


def truth_accuracy(
    spots: pd.DataFrame,
    truth_spots: pd.DataFrame,
    truth_patterns: pd.DataFrame,
    frame_size: int,
    border: float = 15.0,
    frames=None,
    bound=None,
) -> tuple[dict, pd.DataFrame]:
    """Summary figures and a per-SNR-bin table (recall, median and 90th-percentile position
    error of the found spots) of a registered table against the truth. With `frames` (the
    scan's frames, indexed by scan_y * nx + scan_x), the table also gives the median error of
    `oracle_centroids` over the same found spots; with `bound` (a function of one pattern's
    truth and the indices of its spots: their bound on the position error, px), the median of
    that (`metrics.synthetic.bound_errors`)."""
    nx = int(truth_patterns.scan_x.max()) + 1
    registered, true = _patterns(spots, nx), _patterns(truth_spots, nx)
    counts = {
        "matched": 0,
        "registered_crystal": 0,
        "false_amorphous": [],
        "false_vacuum": [],
        "beam": [],
    }
    found_snr, found, errors, oracle, bounds, groups = [], [], [], [], [], []
    for pattern in truth_patterns.itertuples():
        row = pattern.scan_y * nx + pattern.scan_x
        truth = truth_spots.iloc[true[row]].reset_index(drop=True)
        mine = spots.iloc[registered[row]] if row in registered else spots.iloc[:0]
        distance, index, inside = (
            match(mine, truth) if len(mine) else (np.empty(0), np.empty(0, int), np.empty(0, bool))
        )
        direct = mine.is_direct_beam.to_numpy()
        counts["beam"].append(
            bool(
                direct.sum() == 1
                and inside[direct].all()
                and truth.is_direct_beam[index[direct]].all()
            )
        )
        if pattern.region != "crystal":
            counts[f"false_{pattern.region}"].append(int((~inside).sum()))
            continue
        counts["matched"] += int(inside.sum())
        counts["registered_crystal"] += len(mine)
        error = np.full(len(truth), np.inf)
        np.minimum.at(
            error, index[inside], distance[inside]
        )  # the nearest registered spot inside each disc
        error[np.isinf(error)] = np.nan
        inner = (
            ~truth.is_direct_beam
            & truth.x.between(border, frame_size - 1 - border)
            & truth.y.between(border, frame_size - 1 - border)
        ).to_numpy()
        grouped = spot_groups(truth)
        dose = getattr(pattern, "dose", np.nan)
        groups.append(_group_recall(truth, grouped, np.isfinite(error), inner, dose))
        eligible = inner & alone(grouped[0])
        found_snr.append(truth.snr.to_numpy()[eligible])
        found.append(np.isfinite(error[eligible]))
        errors.append(error[eligible])
        hits = np.flatnonzero(eligible & np.isfinite(error))
        per_spot = np.full(len(truth), np.nan)
        if frames is not None:
            per_spot[hits] = oracle_centroids(frames[row], truth, hits)
            oracle.append(per_spot[eligible])
        if bound is not None:
            per_spot[hits] = bound(truth, hits)
            bounds.append(per_spot[eligible])
    snr, hit, error = (
        np.concatenate(parts) if parts else np.empty(0) for parts in (found_snr, found, errors)
    )
    columns = {"snr": pd.cut(snr, SNR_BINS, right=False), "found": hit, "error": error}
    aggregates = {
        "spots": ("found", "size"),
        "recall": ("found", "mean"),
        "error_median": ("error", "median"),
        "error_p90": (
            "error",
            lambda e: np.nanpercentile(e, 90) if np.isfinite(e).any() else np.nan,
        ),
    }
    if frames is not None:
        columns["oracle"] = np.concatenate(oracle) if oracle else np.empty(0)
        aggregates["oracle_median"] = ("oracle", "median")
    if bound is not None:
        columns["bound"] = np.concatenate(bounds) if bounds else np.empty(0)
        aggregates["bound_median"] = ("bound", "median")
    by_snr = pd.DataFrame(columns).groupby("snr", observed=False).agg(**aggregates).reset_index()
    by_snr["snr"] = by_snr.snr.astype(str)
    summary = {
        "recall_snr_10": float(hit[snr >= 10].mean()) if (snr >= 10).any() else np.nan,
        "precision_crystal": counts["matched"] / counts["registered_crystal"]
        if counts["registered_crystal"]
        else np.nan,
        "false_spots_per_amorphous_pattern": float(np.mean(counts["false_amorphous"]))
        if counts["false_amorphous"]
        else np.nan,
        "false_spots_per_vacuum_pattern": float(np.mean(counts["false_vacuum"]))
        if counts["false_vacuum"]
        else np.nan,
        "direct_beam_flagged": float(np.mean(counts["beam"])),
        "position_error_median_px": float(np.nanmedian(error))
        if np.isfinite(error).any()
        else np.nan,
        "recall_all": recall_table(
            pd.concat(groups) if groups else pd.DataFrame(columns=GROUP_COLUMNS)
        ),
    }
    return summary, by_snr


def accuracy_dataset(
    spots_path, truth_spots_path, truth_patterns_path, sidecar_dir, out_dir
) -> dict:
    """Registration against the synthetic truth, written to `out_dir` as accuracy.json and
    accuracy.png; returns the summary."""
    out_dir = Path(out_dir)
    frame_size = read_sidecar(sidecar_dir)["frame_shape"][0]
    summary, by_snr = truth_accuracy(
        pd.read_parquet(spots_path),
        pd.read_parquet(truth_spots_path),
        pd.read_parquet(truth_patterns_path),
        frame_size,
    )
    provenance = record(
        {"frame_size": frame_size}, inputs=[spots_path, truth_spots_path, truth_patterns_path]
    )
    write_json(
        out_dir / "accuracy.json",
        {**summary, "by_snr": by_snr.to_dict("records"), "provenance": provenance},
    )
    plot_accuracy(by_snr, summary["recall_all"], out_dir / "accuracy.png", provenance)
    logger.info(
        "against the truth: recall %.3f (SNR >= 10), precision %.3f, median position error %.3f px",
        summary["recall_snr_10"],
        summary["precision_crystal"],
        summary["position_error_median_px"],
    )
    return summary
