"""Registration of a stored dataset in shards of scan lines, and the merge into one table.

A shard reads only its lines (plain file reads, bounded memory) and writes its spots and
patterns as Parquet; the merge concatenates shards in line order. The per-frame work does not
depend on the shard, so the merged table is byte-identical whatever the shard count.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..logs import logger
from ..prepare.average import averaged_lines, to_frame
from ..prepare.centre import MEASURED_DTYPES, measure_centre
from ..prepare.settings import AveragingSettings, CentringSettings
from ..provenance import record
from ..scan import Stage, run, run_shard, scan_lines, store_lines
from ..store import SIDECAR_NAME, read_sidecar, saturation_level, store_frames
from ..tables import concat_shards, read_metadata, shard_lines, write_table
from .frame import register_frame
from .measured import measured_settings
from .settings import RegistrationSettings

SPOT_DTYPES = {
    "scan_y": "int32",
    "scan_x": "int32",
    "spot": "int32",
    "x": "float32",
    "y": "float32",
    "x_c": "float32",
    "y_c": "float32",
    "radius": "float32",
    "mean": "float32",
    "std": "float32",
    "integrated": "float32",
    "peak": "float32",
    "prominence": "float32",
    "is_direct_beam": "bool",
    "flags": "int32",
}
PATTERN_DTYPES = {
    "scan_y": "int32",
    "scan_x": "int32",
    "noise_sigma": "float32",
    "prominence_min": "float32",
    "n_spots": "int32",
    "centre_x": "float32",
    "centre_y": "float32",
    "flags": "int32",
}


def centre_settings(settings: RegistrationSettings) -> dict:
    """The settings (`search`, `r_start`) the registration measures beam centres with
    (`prepare.centre.measure_centre`): its own direct-beam search radius and start radius."""
    return {"search": settings.direct_beam_search, "r_start": settings.r_start}


def registration_stage(
    settings: RegistrationSettings,
    saturation: float,
    centres: np.ndarray | None = None,
    measure_centres: bool = False,
) -> Stage:
    """Registration as a per-frame stage filling the spots and patterns tables. With `centres`
    ((ny, nx, 2) beam centres y, x px), frames come averaged onto their common centre and spot
    positions are moved back to each frame's own coordinates. With `measure_centres`, it also
    fills the measured centres table (`prepare.centre.measure_centre`, with `centre_settings`),
    so that the frames are read once for both."""
    measure_with = centre_settings(settings)

    def per_frame(frame):
        spots, pattern = register_frame(frame.data, settings, saturation)
        if centres is not None:
            for table, x_key, y_key in ((spots, "x", "y"), (pattern, "centre_x", "centre_y")):
                table[x_key] = to_frame(table[x_key], centres, frame.y, frame.x, 1)
                table[y_key] = to_frame(table[y_key], centres, frame.y, frame.x, 0)
        result = {"spots": spots, "patterns": pattern}
        if measure_centres:
            result["centres"] = measure_centre(frame.data, **measure_with)
        return result

    tables = {"spots": SPOT_DTYPES, "patterns": PATTERN_DTYPES}
    if measure_centres:
        tables["centres"] = MEASURED_DTYPES
    return Stage("register", per_frame, tables)


def _registration(store_dir, lines, settings, centres_path, average, measure_centres=False):
    """The registration stage and the scan lines it reads (averaging: see `register_lines`;
    measured centres: see `registration_stage`)."""
    sidecar = read_sidecar(store_dir)
    ny, nx = sidecar["scan_shape"]
    saturation = saturation_level(sidecar["dtype"])
    if average > 1:
        if measure_centres:
            raise ValueError("averaged frames need their centres before registration")
        centres = (
            pd.read_parquet(centres_path)[["plane_y", "plane_x"]].to_numpy().reshape(ny, nx, 2)
        )
        frames = averaged_lines(store_frames(store_dir), *lines, centres, average)
        return (
            registration_stage(settings, saturation, centres),
            scan_lines((ny, nx), lines, frames),
            nx,
        )
    return (
        registration_stage(settings, saturation, measure_centres=measure_centres),
        scan_lines((ny, nx), lines, store_lines(store_dir, lines)),
        nx,
    )


def register_lines(
    store_dir,
    start: int,
    stop: int,
    settings: RegistrationSettings,
    centres_path=None,
    average: int = AveragingSettings.size,
):
    """Spots and patterns tables of scan lines [start, stop) of the store in `store_dir`; with
    `average` > 1, of frames averaged over that scan neighbourhood after shifting every frame
    onto a common beam centre (from the descan plane of the centring table at `centres_path`);
    spot positions are then moved back to each frame's own coordinates."""
    settings = measured_settings(store_dir, settings)
    stage, lines, nx = _registration(store_dir, (start, stop), settings, centres_path, average)
    tables = run(stage, lines, (stop - start) * nx)
    return tables["spots"], tables["patterns"]


def register_shard(
    store_dir,
    shard: int,
    n_shards: int,
    settings: RegistrationSettings,
    spots_path,
    patterns_path,
    centres_path=None,
    average: int = AveragingSettings.size,
    measured_centres_path=None,
) -> None:
    """Register shard `shard` of `n_shards` and write its two Parquet tables (averaging: see
    `register_lines`); with `measured_centres_path` (frames not averaged), also the beam
    centres measured on its frames, for `prepare.centring.write_centres` at the merge."""
    block = shard_lines(read_sidecar(store_dir)["scan_shape"][0], n_shards, shard)
    logger.info(
        "registering %s lines %d-%d (shard %d of %d)",
        store_dir,
        block[0],
        block[1] - 1,
        shard + 1,
        n_shards,
    )
    measure = measured_centres_path is not None
    settings = measured_settings(store_dir, settings)
    stage, lines, nx = _registration(store_dir, block, settings, centres_path, average, measure)
    paths = {"spots": spots_path, "patterns": patterns_path}
    if measure:
        paths["centres"] = measured_centres_path
    run_shard(
        stage, lines, block, nx, paths, {"parameters": {**settings.as_dict(), "average": average}}
    )


def centre_on(
    spots: pd.DataFrame,
    patterns: pd.DataFrame,
    centres_path,
    reference: str = CentringSettings.reference,
) -> None:
    """Measure x_c, y_c (and the patterns' centre_x, centre_y) from the centring table's descan
    plane (`reference` "plane") or measured centres ("measured"), in place; the patterns table
    gains the centring flags as `centre_flags`."""
    centres = pd.read_parquet(centres_path)
    if len(centres) != len(patterns) or not all(
        np.array_equal(centres[k].to_numpy(), patterns[k].to_numpy()) for k in ("scan_y", "scan_x")
    ):
        raise ValueError(
            f"{centres_path}: its scan positions are not those of the registered patterns"
        )
    cy = centres["plane_y" if reference == "plane" else "centre_y"].to_numpy()
    cx = centres["plane_x" if reference == "plane" else "centre_x"].to_numpy()
    row = spots.scan_y.to_numpy(np.int64) * (
        int(patterns.scan_x.max()) + 1
    ) + spots.scan_x.to_numpy(np.int64)
    spots["x_c"] = (spots.x.to_numpy(np.float64) - cx[row]).astype(np.float32)
    spots["y_c"] = (spots.y.to_numpy(np.float64) - cy[row]).astype(np.float32)
    patterns["centre_x"], patterns["centre_y"] = cx.astype(np.float32), cy.astype(np.float32)
    patterns["centre_flags"] = centres["flags"].to_numpy(np.int32)


def merge_shards(
    store_dir,
    spot_shards,
    pattern_shards,
    spots_path,
    patterns_path,
    centres_path=None,
    reference: str = CentringSettings.reference,
) -> dict:
    """Concatenate shard tables in line order into the registered table, with its provenance
    (the parameters the shards recorded: their settings, a measured `matched_radius` among
    them); with a centring table, x_c, y_c are measured from its centres (see `centre_on`)."""
    spots, patterns = (
        concat_shards(spot_shards, SPOT_DTYPES),
        concat_shards(pattern_shards, PATTERN_DTYPES),
    )
    sidecar = read_sidecar(store_dir)
    ny, nx = sidecar["scan_shape"]
    if len(patterns) != ny * nx:
        raise ValueError(
            f"{store_dir}: shards hold {len(patterns)} patterns, the scan has {ny * nx}"
        )
    inputs = [Path(store_dir) / SIDECAR_NAME]
    if centres_path is not None:
        centre_on(spots, patterns, centres_path, reference)
        inputs.append(Path(centres_path))
    raw_bytes = sidecar["data"]["bytes"]
    metadata = {
        **record(
            {
                **read_metadata(spot_shards[0])["parameters"],
                "centre_reference": reference if centres_path else "direct beam spot",
            },
            inputs=inputs,
        ),
        "scan_shape": [ny, nx],
        "frame_shape": sidecar["frame_shape"],
        "dtype": sidecar["dtype"],
        "calibration": sidecar["calibration"],
        "data_sha256": sidecar["data"]["sha256"],
    }
    write_table(spots, spots_path, metadata)
    write_table(patterns, patterns_path, metadata)
    table_bytes = Path(spots_path).stat().st_size + Path(patterns_path).stat().st_size
    summary = {
        "patterns": ny * nx,
        "spots": len(spots),
        "spots_per_pattern": len(spots) / (ny * nx),
        "compression_factor": raw_bytes / table_bytes,
    }
    logger.info(
        "registered %d spots in %d patterns (%.1f per pattern); compression factor %.0f",
        summary["spots"],
        summary["patterns"],
        summary["spots_per_pattern"],
        summary["compression_factor"],
    )
    return summary
