"""ASTAR's image index (`acom.index`) on every frame of one preparation of a dataset: the raw
frames as 8-bit grey levels, the frames after ASTAR's filters (`prepare.astar`), the
reconstruction or the masked frames (method.md §12). The table has the orientation table's
columns (`acom.dataset`), so that maps, masks and the accuracy treat both alike.

Geometry: each store's own reciprocal pixel size; the beam centre is the registered one (the
descan plane) in the detector's geometry, shifted by the padding of a squared frame, or the
frame's centre for a centred reconstruction. Templates are the bank's, in the matcher's radial
window (`dataset.detector_geometry`), on a polar grid of 1 deg, weighted by their kinematic
intensity to `settings.intensity_exponent` (the comparison's own, 1 by default: with the spot
matcher's 0.5, the many weak reflections of a zone axis weigh so much that templates a few
degrees off it, with fewer of them, score higher).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..crystal.orientations import QUATERNION
from ..prepare.astar import grey_scale, to_grey
from ..provenance import record
from ..scan import Stage, run, scan_lines, store_lines
from ..store import SIDECAR_NAME, read_sidecar
from ..tables import read_metadata, write_table
from .dataset import SOLUTION_DTYPES, detector_geometry, libraries_of, named_phases
from .index import index_grid, index_pattern
from .settings import MatchSettings

INDEX_DTYPES = {**SOLUTION_DTYPES, "flags": "int32"}


def _centres(patterns: pd.DataFrame, frame_shape, detector_shape, centred: bool) -> np.ndarray:
    """(n, 2) beam centres y, x px in the store's frames."""
    ky, kx = frame_shape
    if centred:
        return np.tile([(ky - 1) / 2.0, (kx - 1) / 2.0], (len(patterns), 1))
    shift = ((ky - detector_shape[0]) // 2, (kx - detector_shape[1]) // 2)
    return patterns[["centre_y", "centre_x"]].to_numpy(np.float64) + shift


def index_store(
    store_dir,
    spots_path,
    patterns_path,
    banks: dict[str, tuple],
    settings: MatchSettings,
    centred: bool,
    out_path,
) -> pd.DataFrame:
    """Q, orientation and reliabilities of every frame of the store in `store_dir` against
    `banks` ({phase: (cif, directions, spots)}), written to `out_path` with provenance. Frames
    are read as 8-bit grey levels, as ASTAR receives them (`prepare.astar.grey_scale`).
    `centred`: the beam at the frame's centre (a centred reconstruction)."""
    store_dir = Path(store_dir)
    scan_shape, _, band = detector_geometry(spots_path, patterns_path)
    sidecar = read_sidecar(store_dir)
    detector_shape = read_metadata(spots_path)["frame_shape"]
    d = sidecar["calibration"]["inv_angstrom_per_px"]
    scale = grey_scale(sidecar["dtype"], spots_path)
    grids = [index_grid(library, d) for library in libraries_of(banks, band, settings)]
    patterns = pd.read_parquet(patterns_path, columns=["centre_y", "centre_x", "n_spots"])
    centres = _centres(patterns, sidecar["frame_shape"], detector_shape, centred)
    n_spots = patterns["n_spots"].to_numpy()
    distinct = math.radians(settings.distinct_deg)
    ny, nx = scan_shape

    def per_frame(frame):
        k = frame.y * nx + frame.x
        data = to_grey(frame.data, scale)
        result = index_pattern(data, tuple(centres[k]), grids, distinct)
        row = {key: result[key] for key in ("index", "reliability", "phase_reliability")}
        row.update(zip(QUATERNION, result["quaternion"], strict=True))
        row.update(phase_id=result["phase"], n_spots=n_spots[k], flags=0)
        return {"index": row}

    lines = scan_lines(scan_shape, (0, ny), store_lines(store_dir, (0, ny)))
    table = run(
        Stage(f"image index {store_dir}", per_frame, {"index": INDEX_DTYPES}), lines, ny * nx
    )
    table = named_phases(table["index"], list(banks))
    inputs = [store_dir / SIDECAR_NAME, spots_path, patterns_path]
    inputs += [path for bank in banks.values() for path in bank]
    parameters = {"matching": settings.as_dict(), "centred": centred, "scale": scale}
    write_table(table, out_path, {**record(parameters, inputs=inputs), "scan_shape": [ny, nx]})
    return table
