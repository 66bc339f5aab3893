"""Writing a synthetic dataset: raw store, stream layout and ground-truth tables.

Outputs under `out_dir` (results/{dataset}):
  raw/data.npy, raw/data.json      the canonical store (a stream is stored flat: (1, n, K, K))
  truth/spots.parquet              every rendered spot of every scan position
  truth/patterns.parquet           per scan position: region, grains, thickness, dose, true centre
  truth/frames.parquet             per recorded frame: kind (pre/blank/scan/post), scan position
  truth/orientations.parquet       per scan position: region, grain, phase, and the grain's
                                   orientation as a unit quaternion qw, qx, qy, qz (orix's
                                   convention, method.md §9) and Bunge Euler angles phi1, Phi, phi2
                                   (deg); null phase and NaN where no crystal phase is (vacuum,
                                   amorphous, 2D-lattice grains); at a grain boundary, the grain
                                   with the larger share
Frames are generated line by line; each frame's noise comes from its own seeded generator, so the
result does not depend on how the work is split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..crystal.orientations import QUATERNION, bunge_euler_deg
from ..crystal.phase import Phase
from ..logs import Progress, logger
from ..provenance import record
from ..store import StoreWriter
from ..tables import write_table
from .pattern import blank_frame, detector_gain, record_frame, render_pattern
from .sample import REGION_NAMES, build_sample
from .settings import SyntheticSettings


def stream_layout(settings: SyntheticSettings) -> pd.DataFrame:
    """The frame sequence an unsynchronised camera records.

    Frames before the scan (beam parked on the first position), then for every line a few
    blanked flyback frames and nx +- jitter frames spread evenly in time over the line, then
    blanked frames and frames after the scan (beam parked on the last position). Columns:
    frame, kind, scan_y, scan_x (-1 for pre/blank/post), line_time in [0, 1).
    """
    rng = np.random.default_rng([settings.seed, 2])
    ny, nx = settings.scan_shape
    lo, hi = settings.stream_blank_frames
    rows = [("pre", -1, -1, np.nan)] * settings.stream_pre_frames
    for y in range(ny):
        rows += [("blank", -1, -1, np.nan)] * int(rng.integers(lo, hi + 1))
        count = nx + int(
            rng.integers(-settings.stream_line_jitter, settings.stream_line_jitter + 1)
        )
        for k in range(count):
            time = (k + 0.5) / count
            rows.append(("scan", y, int(np.clip(np.floor(time * nx), 0, nx - 1)), time))
    rows += [("blank", -1, -1, np.nan)] * int(rng.integers(lo, hi + 1))
    rows += [("post", -1, -1, np.nan)] * settings.stream_post_frames
    frame = pd.DataFrame(rows, columns=["kind", "scan_y", "scan_x", "line_time"])
    frame.insert(0, "frame", np.arange(len(frame)))
    return frame.astype({"scan_y": "int32", "scan_x": "int32"})


def _scan_layout(settings: SyntheticSettings) -> pd.DataFrame:
    ny, nx = settings.scan_shape
    yy, xx = np.divmod(np.arange(ny * nx), nx)
    return pd.DataFrame(
        {
            "frame": np.arange(ny * nx),
            "kind": "scan",
            "scan_y": yy.astype("int32"),
            "scan_x": xx.astype("int32"),
            "line_time": (xx + 0.5) / nx,
        }
    )


def _position_of(row, settings: SyntheticSettings) -> tuple[int, int] | None:
    """The scan position a recorded frame shows, or None for a blanked frame."""
    ny, nx = settings.scan_shape
    return {"scan": (row.scan_y, row.scan_x), "pre": (0, 0), "post": (ny - 1, nx - 1)}.get(row.kind)


def simulate(settings: SyntheticSettings, out_dir, phases: dict[str, Phase] | None = None) -> None:
    """Generate the dataset described by `settings` into `out_dir` (see module docstring);
    `phases` holds every phase settings.phases names."""
    out_dir = Path(out_dir)
    ny, nx = settings.scan_shape
    size = settings.frame_size
    sample = build_sample(settings, phases)
    gain = detector_gain(settings)
    layout = stream_layout(settings) if settings.stream else _scan_layout(settings)
    shape = (1, len(layout), size, size) if settings.stream else (ny, nx, size, size)
    provenance = record(
        settings.as_dict(), inputs=[phases[name].cif for name in sorted(set(settings.phases))]
    )
    logger.info(
        "simulating %s: scan %dx%d, %d frames of %dx%d %s, gain %.4g counts/e",
        out_dir.name,
        ny,
        nx,
        len(layout),
        size,
        size,
        settings.dtype,
        gain,
    )

    calibration = {
        "scan_step_nm": settings.scan_step_nm,
        "inv_angstrom_per_px": settings.inv_angstrom_per_px,
        "camera_length_mm": None,
        "beam_energy_kev": settings.beam_energy_kev,
    }
    sidecar = {
        "format": "synthetic",
        "stream": settings.stream,
        "nominal_scan_shape": [ny, nx],
        "calibration": calibration,
        "sources": [],
        **provenance,
    }
    truth_spots, cached = {}, {}
    progress = Progress(f"simulate {out_dir.name}", len(layout))
    with StoreWriter(out_dir / "raw", shape, settings.dtype, sidecar) as store:
        for start in range(0, len(layout), nx):
            block = layout.iloc[start : start + nx]
            frames = []
            for row in block.itertuples():
                position = _position_of(row, settings)
                rng = np.random.default_rng([settings.seed, 1, row.frame])
                if position is None:
                    frames.append(blank_frame(settings, gain, rng))
                    continue
                if position not in cached:
                    cached = {position: render_pattern(sample, settings, *position)}
                if row.kind == "scan":
                    truth_spots[position] = cached[position].spots
                frames.append(record_frame(cached[position].expected, settings, gain, rng))
            store.write(start, np.stack(frames))
            progress.update(len(frames))

    _write_truth(out_dir / "truth", settings, sample, layout, truth_spots, gain, provenance)


def _write_truth(directory: Path, settings, sample, layout, truth_spots, gain, provenance) -> None:
    """The truth tables; positions a stream skipped are rendered here so every position has its
    row."""
    ny, nx = settings.scan_shape
    spot_tables = []
    for y in range(ny):
        for x in range(nx):
            spots = truth_spots.get((y, x)) or render_pattern(sample, settings, y, x).spots
            table = pd.DataFrame(spots)
            table.insert(0, "scan_x", np.int32(x))
            table.insert(0, "scan_y", np.int32(y))
            spot_tables.append(table)
    spots = pd.concat(spot_tables, ignore_index=True)
    spots["intensity"] = spots["electrons"] * gain
    spots = spots.astype({"grain": "int32", "h": "int32", "k": "int32", "l": "int32"})

    yy, xx = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    patterns = pd.DataFrame(
        {
            "scan_y": yy.ravel().astype("int32"),
            "scan_x": xx.ravel().astype("int32"),
            "region": [REGION_NAMES[r] for r in sample.region.ravel()],
            "grain": sample.grain.ravel().astype("int32"),
            "grain2": sample.grain2.ravel().astype("int32"),
            "mix": sample.mix.ravel(),
            "thickness": sample.thickness.ravel(),
            "dose": sample.dose.ravel(),
            "centre_x": sample.centre_x.ravel(),
            "centre_y": sample.centre_y.ravel(),
            "n_spots": spots.groupby(["scan_y", "scan_x"]).size().to_numpy().astype("int32"),
        }
    )
    metadata = {
        **provenance,
        "gain_counts_per_electron": gain,
        "saturation": settings.saturation_level,
        "descan": sample.descan,
        "scan_shape": [ny, nx],
        "frame_shape": [settings.frame_size] * 2,
    }
    write_table(spots, directory / "spots.parquet", metadata)
    write_table(patterns, directory / "patterns.parquet", metadata)
    write_table(layout, directory / "frames.parquet", metadata)
    write_table(orientation_truth(sample), directory / "orientations.parquet", metadata)


def orientation_truth(sample) -> pd.DataFrame:
    """The orientations table of `sample` (see module docstring), scan positions in row order."""
    ny, nx = sample.region.shape
    yy, xx = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    grain = sample.grain.ravel()
    quaternions = np.full((grain.size, 4), np.nan)
    phase = np.full(grain.size, None, dtype=object)
    for index, crystal in enumerate(sample.grains):
        if crystal.phase is not None:
            quaternions[grain == index] = crystal.quaternion
            phase[grain == index] = crystal.phase
    euler = np.full((grain.size, 3), np.nan)
    known = ~np.isnan(quaternions[:, 0])
    if known.any():
        euler[known] = bunge_euler_deg(quaternions[known])
    return pd.DataFrame(
        {
            "scan_y": yy.ravel().astype("int32"),
            "scan_x": xx.ravel().astype("int32"),
            "region": [REGION_NAMES[r] for r in sample.region.ravel()],
            "grain": grain.astype("int32"),
            "phase": pd.array(phase, dtype="string"),
            **dict(zip(QUATERNION, quaternions.T, strict=True)),
            **dict(zip(("phi1", "Phi", "phi2"), euler.T, strict=True)),
        }
    )
