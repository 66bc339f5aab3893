"""The generator's scans registered against their truth, beside the level positions can reach:
the Cramer-Rao bound of each true spot's centre, computed from the disc as the generator draws
it. Apart from `accuracy`, so that what reads the registration's accuracy does not follow the
generator's code.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from ..simulate.render import disc_image
from ..store import read_sidecar
from .accuracy import truth_accuracy

BOUND_STEP = 1e-4  # px, the finite difference of the spot's slope in `bound_errors`


def bound_errors(truth: pd.DataFrame, which: np.ndarray, edge: float, supersample: int):
    """The Cramer-Rao bound on the position error (px) of the true spots `which` (indices into
    one pattern's `truth`): the median distance from the true centre of an unbiased estimator
    that knows everything about the spot but its centre and meets the bound, 1.1774 sqrt(tr(F^-1)
    / 2) for the Fisher information F = sum over pixels of grad(mu) grad(mu)^T / variance. mu is
    the spot as the generator draws it (`simulate.render.disc_image`: its electrons, true radius,
    edge `edge` px, `supersample`), the variance mu plus the spot's background per pixel
    (`truth.background` over its disc: diffuse light, read noise and rounding, in electrons^2,
    taken as flat about the spot); its neighbours are left out. The level positions can reach,
    which the oracle centroid, its window cut about the truth, is not bound by."""
    errors = np.full(len(which), np.nan)
    for k, j in enumerate(which):
        spot = truth.iloc[j]
        size = int(np.ceil(spot.radius + 6 * edge + 2))
        shape = (2 * size + 1, 2 * size + 1)
        cy, cx = size + spot.y % 1.0, size + spot.x % 1.0  # the true pixel phase
        discs = [
            disc_image(shape, cy + dy, cx + dx, spot.radius, spot.electrons, edge, supersample)
            for dy, dx in ((0.0, 0.0), (BOUND_STEP, 0.0), (0.0, BOUND_STEP))
        ]
        variance = discs[0] + spot.background / (np.pi * spot.radius**2)
        slopes = [(moved - discs[0]) / BOUND_STEP / np.sqrt(variance) for moved in discs[1:]]
        fisher = np.array([[np.sum(a * b) for b in slopes] for a in slopes])
        errors[k] = np.sqrt(2.0 * np.log(2.0)) * np.sqrt(np.trace(np.linalg.inv(fisher)) / 2.0)
    return errors


def registration_accuracy(scan_dir, registration, frame_size: int, bound: bool = False) -> dict:
    """Register the synthetic scan that `simulate` wrote in `scan_dir` (one shard, into its
    spots.parquet and patterns.parquet) with `registration` settings and compare it with its
    truth: `truth_accuracy`'s summary, with the median position errors of the registration
    and of the oracle centroid (and with `bound`, the Cramer-Rao bound's, `bound_errors`) by SNR
    bin (isolated spots found)."""
    from ..register.dataset import merge_shards, register_shard

    root = Path(scan_dir)
    shard = root / "shard_spots.parquet", root / "shard_patterns.parquet"
    register_shard(root / "raw", 0, 1, registration, *shard)
    merge_shards(
        root / "raw",
        [shard[0]],
        [shard[1]],
        root / "spots.parquet",
        root / "patterns.parquet",
    )
    frames = np.load(root / "raw" / "data.npy", mmap_mode="r").reshape(-1, frame_size, frame_size)
    parameters = read_sidecar(root / "raw")["parameters"]
    generator = {"edge": parameters["edge_sigma"], "supersample": parameters["supersample"]}
    summary, by_snr = truth_accuracy(
        pd.read_parquet(root / "spots.parquet"),
        pd.read_parquet(root / "truth" / "spots.parquet"),
        pd.read_parquet(root / "truth" / "patterns.parquet"),
        frame_size,
        frames=frames,
        bound=partial(bound_errors, **generator) if bound else None,
    )
    medians = ["error_median", "oracle_median"] + (["bound_median"] if bound else [])
    summary["position_error_by_snr"] = by_snr.set_index("snr")[["spots", *medians]].to_dict(
        orient="index"
    )
    return summary
