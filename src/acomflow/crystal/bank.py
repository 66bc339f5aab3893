"""Template banks: the kinematic template of every beam direction of a phase's fundamental sector.

A bank is two tables. `directions`: one row per beam direction, the orientation that puts it
along the beam (unit quaternion qw, qx, qy, qz in orix's convention, `templates`) and the beam
direction in the crystal's Cartesian frame (beam_x, beam_y, beam_z). `spots`: one row per excited
reflection of each direction at in-plane angle 0: direction, h, k, l, its lab-frame vector
gx, gy, gz (1/Å), |F|^2 (structure, Å^2), excitation error s (1/Å) and intensity. The matcher
rotates a template in-plane and refines it from the 3D vectors.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..logs import logger
from ..provenance import record
from ..store import read_sidecar
from ..tables import write_table
from .orientations import QUATERNION, beam_directions, rotation_matrices
from .phase import Phase, read_cif
from .reflections import reflections
from .settings import TemplateSettings
from .templates import DiffractionSettings, excite

ACOM_CALIBRATION = {
    "beam_energy_kev": "beam energy (keV)",
    "inv_angstrom_per_px": "reciprocal pixel size (1/Å per px)",
}
DIRECTION_DTYPES = {
    "direction": "int32",
    "qw": "float64",
    "qx": "float64",
    "qy": "float64",
    "qz": "float64",
    "beam_x": "float64",
    "beam_y": "float64",
    "beam_z": "float64",
}
SPOT_DTYPES = {
    "direction": "int32",
    "h": "int16",
    "k": "int16",
    "l": "int16",
    "gx": "float32",
    "gy": "float32",
    "gz": "float32",
    "structure": "float32",
    "s": "float32",
    "intensity": "float32",
}


def build_bank(
    phase: Phase, settings: TemplateSettings, diffraction: DiffractionSettings, batch: int = 256
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The (directions, spots) tables of `phase`'s bank, `batch` directions at a time; the relrod
    model is `diffraction`'s (see `TemplateSettings.diffraction`)."""
    quaternions = beam_directions(phase, settings.resolution_deg)
    matrices = rotation_matrices(quaternions)
    lattice = reflections(phase, settings.g_max)
    parts = []
    for start in range(0, len(matrices), batch):
        g = np.einsum("nj,bjk->bnk", lattice.g, matrices[start : start + batch])  # (b, n, 3)
        flat = g.reshape(-1, 3)
        keep, s, shape = excite(flat, diffraction)
        direction = np.repeat(np.arange(start, start + len(g)), len(lattice.g))[keep]
        reflection = np.tile(np.arange(len(lattice.g)), len(g))[keep]
        parts.append(
            pd.DataFrame(
                {
                    "direction": direction,
                    **dict(zip(("h", "k", "l"), lattice.hkl[reflection].T, strict=True)),
                    **dict(zip(("gx", "gy", "gz"), flat[keep].T, strict=True)),
                    "structure": lattice.intensity[reflection],
                    "s": s,
                    "intensity": lattice.intensity[reflection] * shape,
                }
            )
        )
    beams = matrices[:, :, 2]  # R z: the crystal direction along the beam
    directions = pd.DataFrame(
        {
            "direction": np.arange(len(quaternions)),
            **dict(zip(QUATERNION, quaternions.T, strict=True)),
            **dict(zip(("beam_x", "beam_y", "beam_z"), beams.T, strict=True)),
        }
    )
    spots = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({c: [] for c in SPOT_DTYPES})
    )
    return directions.astype(DIRECTION_DTYPES), spots.astype(SPOT_DTYPES)


def write_bank(
    phase: Phase,
    settings: TemplateSettings,
    diffraction: DiffractionSettings,
    directions_path,
    spots_path,
) -> dict:
    """Build `phase`'s bank and write its two tables with their provenance; returns a summary."""
    directions, spots = build_bank(phase, settings, diffraction)
    metadata = {
        **record(
            {
                "phase": phase.name,
                "templates": settings.as_dict(),
                "diffraction": dataclasses.asdict(diffraction),
            },
            inputs=[phase.cif],
        ),
        "phase": {
            "name": phase.name,
            "cell": list(phase.cell),
            "space_group": phase.space_group,
            "space_group_number": phase.space_group_number,
            "point_group": phase.point_group,
            "laue_group": phase.laue_group,
        },
    }
    write_table(directions, directions_path, metadata)
    write_table(spots, spots_path, metadata)
    summary = {
        "phase": phase.name,
        "directions": len(directions),
        "spots": len(spots),
        "spots_per_direction": len(spots) / max(len(directions), 1),
    }
    logger.info(
        "bank of %s (%s, Laue group %s): %d beam directions, %.1f spots each",
        phase.name,
        phase.space_group,
        phase.laue_group,
        summary["directions"],
        summary["spots_per_direction"],
    )
    return summary


def dataset_bank(
    store_dir,
    cif,
    name: str,
    settings: TemplateSettings,
    precession_deg: float,
    directions_path,
    spots_path,
) -> dict:
    """`write_bank` for the phase `name` (CIF `cif`) at the beam energy of the store in
    `store_dir` and the dataset's precession angle (deg). Orientation mapping needs the beam
    energy and the reciprocal pixel size: a store that records neither, and whose dataset does
    not set it, stops here, before any matching."""
    calibration = read_sidecar(store_dir)["calibration"]
    for key, meaning in ACOM_CALIBRATION.items():
        if calibration.get(key) is None:
            raise ValueError(
                f"{store_dir}: orientation mapping needs the {meaning}, which the source does "
                f"not record; set calibration.{key} for this dataset"
            )
    return write_bank(
        read_cif(cif, name),
        settings,
        settings.diffraction(calibration["beam_energy_kev"], precession_deg),
        directions_path,
        spots_path,
    )
