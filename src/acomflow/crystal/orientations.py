"""Orientation sampling with orix: the beam directions of a Laue group's fundamental sector.

A bank holds beam directions only; the matcher searches the in-plane angle (and the mirror) itself.
Each direction is given as the orientation (orix's convention, `templates`) that puts that
crystal direction along the lab's z, with orix's choice of in-plane angle.
"""

from __future__ import annotations

import numpy as np

from .phase import Phase


def point_group(phase: Phase):
    """orix's point group (`Symmetry`) of a phase, from its space group number."""
    from orix.quaternion.symmetry import get_point_group

    return get_point_group(phase.space_group_number, proper=False)


def beam_directions(phase: Phase, resolution_deg: float) -> np.ndarray:
    """(n, 4) unit quaternions (w, x, y, z), one per beam direction of the Laue group's
    fundamental sector, about `resolution_deg` apart (orix's `get_sample_reduced_fundamental`)."""
    from orix.sampling import get_sample_reduced_fundamental

    rotations = get_sample_reduced_fundamental(resolution_deg, point_group=point_group(phase).laue)
    return np.asarray(rotations.data, dtype=np.float64)
