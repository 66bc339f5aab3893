"""Crystal phases read from CIF files (gemmi), in the Cartesian frame orix uses.

The crystal's Cartesian frame (method.md §9): x along a, y in the a-b plane, z along c*. Lengths
in Å, reciprocal lengths in 1/Å (no 2 pi). Atoms are every site of the unit cell (the CIF's
asymmetric unit expanded by its space group), with occupancies and isotropic Debye-Waller factors
B = 8 pi^2 U_iso (Å^2; 0 where the CIF gives none).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Phase:
    """One crystal phase: its cell, space group, point and Laue groups, and its atoms."""

    name: str
    cif: str
    cell: tuple[float, float, float, float, float, float]  # a, b, c (Å), alpha, beta, gamma (deg)
    space_group: str  # Hermann-Mauguin symbol, e.g. "F m -3 m"
    space_group_number: int
    point_group: str  # e.g. "m-3m"
    laue_group: str  # e.g. "m-3m"
    elements: tuple[str, ...]  # per atom of the unit cell
    positions: np.ndarray  # (n, 3) fractional coordinates
    occupancies: np.ndarray  # (n,)
    b_iso: np.ndarray  # (n,) Å^2

    def direct_basis(self) -> np.ndarray:
        """(3, 3): rows a, b, c in the Cartesian frame (Å)."""
        return direct_basis(self.cell)

    def reciprocal_basis(self) -> np.ndarray:
        """(3, 3): rows a*, b*, c* in the Cartesian frame (1/Å): g = (h, k, l) @ this."""
        return np.linalg.inv(self.direct_basis()).T


def direct_basis(cell) -> np.ndarray:
    """Rows a, b, c (Å) of a cell (a, b, c, alpha, beta, gamma in deg) with x along a, y in
    the a-b plane and z along c*."""
    a, b, c = cell[:3]
    alpha, beta, gamma = (math.radians(angle) for angle in cell[3:])
    cx = c * math.cos(beta)
    cy = c * (math.cos(alpha) - math.cos(beta) * math.cos(gamma)) / math.sin(gamma)
    return np.array(
        [
            [a, 0.0, 0.0],
            [b * math.cos(gamma), b * math.sin(gamma), 0.0],
            [cx, cy, math.sqrt(c * c - cx * cx - cy * cy)],
        ]
    )


def read_cif(path, name: str | None = None) -> Phase:
    """The phase of a CIF file (named `name`, default the file's stem); a file that cannot be
    read, holds no atoms or names no known space group raises ValueError naming it."""
    import gemmi

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such CIF file")
    try:
        structure = gemmi.read_small_structure(str(path))
    except (RuntimeError, ValueError, IndexError) as error:
        raise ValueError(f"{path}: cannot be read as a CIF file ({error})") from None
    group = structure.spacegroup
    if group is None:
        raise ValueError(
            f"{path}: no known space group (_space_group_name_H-M_alt "
            f"{structure.spacegroup_hm!r}, number {structure.spacegroup_number})"
        )
    sites = structure.get_all_unit_cell_sites()
    if not sites:
        raise ValueError(f"{path}: the CIF holds no atom sites")
    cell = structure.cell
    if min(cell.a, cell.b, cell.c) <= 0:
        raise ValueError(f"{path}: cell lengths must be positive, got {cell.parameters}")
    return Phase(
        name=name or path.stem,
        cif=str(path),
        cell=tuple(float(v) for v in cell.parameters),
        space_group=group.hm,
        space_group_number=int(group.number),
        point_group=group.point_group_hm(),
        laue_group=group.laue_str(),
        elements=tuple(site.element.name for site in sites),
        positions=np.array([[site.fract.x, site.fract.y, site.fract.z] for site in sites]) % 1.0,
        occupancies=np.array([site.occ for site in sites], dtype=np.float64),
        b_iso=np.array([8.0 * math.pi**2 * site.u_iso for site in sites], dtype=np.float64),
    )


def read_phases(names, cifs) -> dict[str, Phase]:
    """{name: Phase} of phases `names` read from their CIF files `cifs` (same order)."""
    return {name: read_cif(cif, name) for name, cif in zip(names, cifs, strict=True)}


def dataset_phases(config: dict) -> dict[str, Phase]:
    """Every phase the datasets of a validated config name (in `acom.phases`, and in
    `synthetic.phases` for a synthetic dataset), read from its CIF; a name missing from `phases`
    or a CIF that cannot be read raises ValueError naming it."""
    read = {}
    for dataset, settings in config["datasets"].items():
        named = {"acom/phases": settings["acom"]["phases"]}
        if settings["source"] == "synthetic":
            named["synthetic/phases"] = settings["synthetic"]["phases"]
        for key, names in named.items():
            for name in names:
                if name not in config["phases"]:
                    raise ValueError(
                        f"datasets/{dataset}/{key}: {name!r} is not among the phases "
                        f"({sorted(config['phases']) or 'none declared'})"
                    )
                if name not in read:
                    read[name] = read_cif(config["phases"][name]["cif"], name)
    return read
