"""Orientation mapping of a registered dataset in shards of scan lines, and the merge into
results/{dataset}/acom/orientations.parquet (one row per scan position, method.md §10).

First the matcher is calibrated on a sample of the dataset's patterns (`calibrate_matching`):
the detector's elliptical distortion, given or measured (`acom.distortion`), and the relrod
width of each phase (`acom.relrod`). A shard reads its lines of the registered spots table (and
the patterns' noise), matches every pattern, its spots undistorted, against the libraries of
the dataset's phases at those widths and writes its rows; the merge concatenates shards in line
order, names the phases and adds Bunge angles. The per-pattern work does not depend on the
shard, so the table is byte-identical whatever the shard count.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..crystal.orientations import QUATERNION, bunge_euler_deg
from ..logs import logger
from ..provenance import record, write_json
from ..scan import Stage, run_shard, scan_lines
from ..tables import concat_shards, read_metadata, shard_lines, write_table
from .distortion import calibrated, measure_undistortion
from .export import write_ang, write_hdf5
from .library import at_width, load_library
from .match import match_pattern, pattern_spots
from .relrod import measure_widths, sample_positions
from .settings import MatchSettings

SOLUTION_DTYPES = {  # what any indexing reports of a pattern, the spot matcher or the image's
    "scan_y": "int32",
    "scan_x": "int32",
    "phase_id": "int16",
    **dict.fromkeys(QUATERNION, "float64"),
    "index": "float32",
    "reliability": "float32",
    "phase_reliability": "float32",
    "n_spots": "int32",
}
SHARD_DTYPES = {
    **SOLUTION_DTYPES,
    "matched": "int32",
    "residual": "float32",
    "scale": "float32",
    "relrod_width": "float32",
    "flags": "int32",
}
EULER = ("phi1", "Phi", "phi2")
SPOT_COLUMNS = ("scan_y", "scan_x", "x_c", "y_c", "integrated", "prominence", "is_direct_beam")
GEOMETRY_KEYS = ("window", "inv_angstrom_per_px", "undistortion")
DISC_QUANTILE = 0.9  # the band keeps spots of this quantile of the registered radii whole


def phase_banks(phases, inputs) -> dict[str, tuple]:
    """{phase: (CIF, directions table, spots table)} from a rule's inputs as `acom_inputs`
    names them (`inputs.cifs`, `inputs.directions`, `inputs.banks`, parallel to `phases`)."""
    lists = (inputs.cifs, inputs.directions, inputs.banks)
    return {name: bank for name, *bank in zip(phases, *lists, strict=True)}


def detector_geometry(spots_path, patterns_path) -> tuple[tuple[int, int], float, tuple]:
    """(scan shape, 1/Å per px, band) of a registered dataset. The band (r_min, r_max) 1/Å is
    where, about every pattern's beam centre, a spot shows whole and apart: a disc (the
    DISC_QUANTILE of the diffracted spots' radii, r) and a gap as wide again beyond the direct
    beam's disc (its median registered radius), and r inside the frame (the least distance from
    a centre to the frame's edge), each with 1 px more. A spot on the beam's flank is not
    registered apart from it, and a disc the edge cuts has its intensity cut too. Stops, naming
    the table, when its calibration lacks the reciprocal pixel size."""
    metadata = read_metadata(spots_path)
    d = metadata["calibration"].get("inv_angstrom_per_px")
    if d is None:
        raise ValueError(
            f"{spots_path}: orientation mapping needs the reciprocal pixel size; set "
            "calibration.inv_angstrom_per_px for this dataset"
        )
    ky, kx = metadata["frame_shape"]
    centres = pd.read_parquet(patterns_path, columns=["centre_x", "centre_y"]).to_numpy()
    centres = centres[np.isfinite(centres).all(axis=1)]
    if len(centres) == 0:
        centres = np.array([[(kx - 1) / 2, (ky - 1) / 2]])
    x, y = centres[:, 0], centres[:, 1]
    edge = min(np.min(x + 0.5), np.min(y + 0.5), np.min(kx - 0.5 - x), np.min(ky - 0.5 - y))
    spots = pd.read_parquet(spots_path, columns=["radius", "is_direct_beam"])
    beam = spots["is_direct_beam"].to_numpy()
    radii = spots["radius"].to_numpy(np.float64)
    disc = float(np.quantile(radii[~beam], DISC_QUANTILE)) if (~beam).any() else 0.0
    inner = (float(np.median(radii[beam])) if beam.any() else 0.0) + 2.0 * disc + 1.0
    outer = max(float(edge) - disc - 1.0, 0.0)
    return tuple(metadata["scan_shape"]), d, (inner * d, outer * d)


def libraries_of(banks: dict[str, tuple], band: tuple, settings: MatchSettings) -> list:
    """The matcher's library of every phase of `banks`, for a detector's `band` (1/Å,
    `detector_geometry`)."""
    return [
        load_library(name, cif, directions, spots, band, settings)
        for name, (cif, directions, spots) in banks.items()
    ]


def diffracted_spots(rows: dict, noise_sigma: float) -> tuple:
    """A frame's diffracted spots from its rows of the registered table, as
    `match.pattern_spots` takes them: x_c, y_c px, integrated intensities and significances
    (prominence over the frame's `noise_sigma`)."""
    diffracted = ~rows["is_direct_beam"]
    return (
        rows["x_c"][diffracted],
        rows["y_c"][diffracted],
        rows["integrated"][diffracted],
        rows["prominence"][diffracted] / max(noise_sigma, 1e-12),
    )


def _patterns(patterns_path) -> pd.DataFrame:
    return pd.read_parquet(patterns_path, columns=["scan_y", "scan_x", "noise_sigma", "n_spots"])


def calibrate_matching(
    spots_path, patterns_path, banks: dict[str, tuple], settings: MatchSettings, out_path
) -> dict:
    """The detector's elliptical distortion and the relrod width (1/Å) each phase is matched
    at, written as JSON with provenance, from up to `settings.width_patterns` patterns spread
    over the scan (`relrod.sample_positions`): the distortion the calibration gives, or, with
    `distortion: measured`, measured on them (`distortion.measure_undistortion`); then, on
    their spots undistorted, the widths measured (`relrod.measure_widths`) with `relrod_width:
    measured`, else the bank's (from which `per_pattern` refines each pattern's)."""
    scan_shape, d, band = detector_geometry(spots_path, patterns_path)
    libraries = libraries_of(banks, band, settings)
    window = libraries[0].window
    sampled = "measured" in (settings.distortion, settings.relrod_width)
    sample = (
        _sample(spots_path, patterns_path, scan_shape, settings.width_patterns) if sampled else []
    )
    calibration = read_metadata(spots_path)["calibration"]
    distortion = calibrated(
        calibration.get("distortion_ratio"), calibration.get("distortion_angle_deg")
    )
    if settings.distortion == "measured":
        start = np.array(distortion["undistortion"])
        distortion = measure_undistortion(sample, libraries, settings, d, start)
    else:
        logger.info(
            "elliptical distortion: %.4f along %.1f deg, the calibration's "
            "(matching.distortion: measured measures it on the patterns)",
            distortion["ratio"],
            distortion["angle_deg"],
        )
    undistort = np.array(distortion["undistortion"])
    if settings.relrod_width == "measured":
        spots = (pattern_spots(*pattern, d, settings, window, undistort) for pattern in sample)
        phases = measure_widths(spots, libraries, settings)
    else:
        phases = {
            library.name: {"width": float(library.physics[2]), "patterns": 0, "quartiles": None}
            for library in libraries
        }
    for name, width in phases.items():
        logger.info(
            "relrod width of %s: %.4f 1/Å (%s)",
            name,
            width["width"],
            f"median of {width['patterns']} patterns, quartiles "
            + " - ".join(f"{v:.4f}" for v in width["quartiles"])
            if width["quartiles"]
            else f"the bank's; {settings.relrod_width}, {width['patterns']} patterns",
        )
    inputs = [Path(spots_path), Path(patterns_path)] + [
        Path(path) for bank in banks.values() for path in bank
    ]
    result = {
        **record({"matching": settings.as_dict(), "phases": list(banks)}, inputs=inputs),
        "distortion": {"source": settings.distortion, **distortion},
        "relrod_width": settings.relrod_width,
        "phases": phases,
    }
    write_json(out_path, result)
    return result


def _sample(spots_path, patterns_path, scan_shape, most: int) -> list:
    """The `diffracted_spots` of the patterns `relrod.sample_positions` chooses (up to `most`,
    spread over the scan)."""
    patterns = _patterns(patterns_path)
    chosen = set(sample_positions(patterns["n_spots"].to_numpy(), most))
    noise = patterns["noise_sigma"].to_numpy(np.float64)
    lines = scan_lines(scan_shape, (0, scan_shape[0]), spots=spots_path, columns=SPOT_COLUMNS)
    return [
        diffracted_spots(frame.rows, float(noise[k]))
        for _, frames in lines
        for frame in frames
        if (k := frame.y * scan_shape[1] + frame.x) in chosen
    ]


def matching_stage(
    libraries, settings: MatchSettings, d: float, undistort, noise: np.ndarray
) -> Stage:
    """Matching as a per-frame stage on the registered spots (`d` 1/Å per px, the detector's
    `undistort` map, `noise` (ny, nx): each pattern's noise sigma, for the spots'
    significance)."""

    def per_frame(frame):
        found = diffracted_spots(frame.rows, float(noise[frame.y, frame.x]))
        spots, weight = pattern_spots(*found, d, settings, libraries[0].window, undistort)
        result = match_pattern(spots, weight, libraries, settings)
        row = {k: v for k, v in result.items() if k not in ("phase", "quaternion")}
        row.update(zip(QUATERNION, result["quaternion"], strict=True))
        return {"orientations": {**row, "phase_id": result["phase"], "n_spots": len(spots)}}

    return Stage("match orientations", per_frame, {"orientations": SHARD_DTYPES})


def match_shard(
    spots_path,
    patterns_path,
    banks: dict[str, tuple],
    calibration_path,
    settings: MatchSettings,
    shard: int,
    n_shards: int,
    out_path,
) -> None:
    """Match shard `shard` (0-based) of `n_shards` blocks of scan lines against `banks`
    ({phase: (cif, directions table, spots table)}) through the distortion and at the relrod
    widths of `calibrate_matching` (its JSON at `calibration_path`), written for
    `merge_orientations`."""
    scan_shape, d, band = detector_geometry(spots_path, patterns_path)
    block = shard_lines(scan_shape[0], n_shards, shard)
    calibration = json.loads(Path(calibration_path).read_text(encoding="utf-8"))
    widths = calibration["phases"]
    undistort = np.array(calibration["distortion"]["undistortion"])
    libraries = [
        at_width(library, widths[library.name]["width"])
        for library in libraries_of(banks, band, settings)
    ]
    patterns = _patterns(patterns_path)
    noise = patterns["noise_sigma"].to_numpy(np.float64).reshape(scan_shape)
    lines = scan_lines(scan_shape, block, spots=spots_path, columns=SPOT_COLUMNS)
    run_shard(
        matching_stage(libraries, settings, d, undistort, noise),
        lines,
        block,
        scan_shape[1],
        {"orientations": out_path},
        {
            "window": [float(v) for v in libraries[0].window],
            "inv_angstrom_per_px": d,
            "undistortion": undistort.tolist(),
        },
    )


def named_phases(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """A table of `phase_id` (an index into `names`, -1: none) and quaternions with the phase by
    name instead (empty where none) and Bunge angles (deg) beside the quaternion."""
    table = table.copy()
    phase = np.array(["", *names], dtype=object)[table.pop("phase_id").to_numpy() + 1]
    table.insert(2, "phase", pd.Series(phase, dtype="string"))
    euler = np.full((len(table), 3), np.nan)
    found = table["qw"].notna().to_numpy()
    if found.any():
        euler[found] = bunge_euler_deg(table.loc[found, list(QUATERNION)].to_numpy())
    at = table.columns.get_loc("qz") + 1
    for k, name in enumerate(EULER):
        table.insert(at + k, name, euler[:, k])
    return table


def merge_orientations(
    shards, spots_path, banks: dict[str, tuple], calibration_path, settings: MatchSettings, out_path
) -> pd.DataFrame:
    """The shard tables in line order as the orientation table: the phase by name (empty where
    none), Bunge angles (deg) beside the quaternion, with provenance and the detector geometry
    the spots were matched in (`GEOMETRY_KEYS`: the radial `window`, 1/Å, `inv_angstrom_per_px`
    and the 2 x 2 `undistortion` map of px)."""
    table = named_phases(concat_shards(shards, SHARD_DTYPES), list(banks))
    inputs = [Path(spots_path), Path(calibration_path)]
    inputs += [Path(path) for bank in banks.values() for path in bank]
    metadata = {
        **record({"matching": settings.as_dict(), "phases": list(banks)}, inputs=inputs),
        "scan_shape": read_metadata(spots_path)["scan_shape"],
        **{key: read_metadata(shards[0])[key] for key in GEOMETRY_KEYS},
    }
    write_table(table, out_path, metadata)
    matched = table["phase"] != ""
    logger.info(
        "orientations: %d of %d patterns matched (%s); median index %.3f, median reliability %.1f",
        int(matched.sum()),
        len(table),
        ", ".join(f"{name} {int((table['phase'] == name).sum())}" for name in banks),
        float(table.loc[matched, "index"].median()) if matched.any() else float("nan"),
        float(table.loc[matched, "reliability"].median()) if matched.any() else float("nan"),
    )
    return table


def write_exports(table: pd.DataFrame, phases: dict, scan_step_nm, ang_path, hdf5_path) -> None:
    """The orientation table as `.ang` and orix HDF5 (`acom.export`)."""
    step_um = scan_step_nm / 1000.0 if scan_step_nm else None
    write_ang(table, phases, step_um, ang_path)
    write_hdf5(table, phases, step_um, hdf5_path)
