"""The orientation table as files the ecosystem reads, through orix: EDAX TSL `.ang` (MTEX, OIM
Analysis, orix) and orix's HDF5 crystal map.

Each scan position is a map point at (x, y) = (scan_x, scan_y) x the scan step (µm; 1 where the
step is unknown). Unmatched positions are orix's not-indexed points. In `.ang`, the confidence
index column holds the index (0-1) and the image-quality column the reliability (0-100); the
file keeps Euler angles to 1e-5 rad (its five decimals), the HDF5 map keeps them exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..crystal.orientations import QUATERNION
from ..crystal.phase import Phase
from ..provenance import atomic_path

PROPERTIES = ("index", "reliability", "phase_reliability", "matched", "residual")


def crystal_map(table: pd.DataFrame, phases: dict[str, Phase], step_um: float | None):
    """orix's `CrystalMap` of an orientation table (`acom.dataset`), phases by name."""
    from diffpy.structure import Lattice, Structure
    from orix.crystal_map import CrystalMap, PhaseList
    from orix.crystal_map import Phase as OrixPhase
    from orix.quaternion import Rotation

    names = list(phases)
    phase_id = np.full(len(table), -1, dtype=int)
    for k, name in enumerate(names):
        phase_id[(table["phase"] == name).to_numpy()] = k
    quaternions = table[list(QUATERNION)].to_numpy(np.float64, copy=True)
    quaternions[phase_id < 0] = (1.0, 0.0, 0.0, 0.0)
    phase_list = PhaseList(
        [
            OrixPhase(
                name=name,
                space_group=phase.space_group_number,
                structure=Structure(lattice=Lattice(*phase.cell)),
            )
            for name, phase in phases.items()
        ],
        ids=list(range(len(names))),
    )
    if (phase_id < 0).any():
        phase_list.add_not_indexed()
    step = step_um or 1.0
    properties = {
        name: np.nan_to_num(table[name].to_numpy(np.float64), nan=0.0) for name in PROPERTIES
    }
    return CrystalMap(
        rotations=Rotation(quaternions),
        phase_id=phase_id,
        x=table["scan_x"].to_numpy(np.float64) * step,
        y=table["scan_y"].to_numpy(np.float64) * step,
        phase_list=phase_list,
        prop=properties,
        scan_unit="um",
    )


def _save(table, phases, step_um, path, suffix: str, **options) -> None:
    """orix's writer for `suffix` (it goes by the name's ending) on a temporary name, then the
    rename onto `path`."""
    from orix.io import save

    with atomic_path(path) as tmp:
        named = tmp.with_suffix(suffix)
        save(str(named), crystal_map(table, phases, step_um), **options)
        named.replace(tmp)


def write_ang(table, phases, step_um, path) -> None:
    """The map as an EDAX TSL `.ang` file."""
    _save(
        table,
        phases,
        step_um,
        path,
        ".ang",
        confidence_index_prop="index",
        image_quality_prop="reliability",
        extra_prop=["phase_reliability", "matched"],
    )


def write_hdf5(table, phases, step_um, path) -> None:
    """The map as orix's HDF5 crystal map."""
    _save(table, phases, step_um, path, ".h5")
