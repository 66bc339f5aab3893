"""Orientation sampling with orix: the beam directions of a Laue group's fundamental sector.

A bank holds beam directions only; the matcher searches the in-plane angle (and the mirror) itself.
Each direction is given as the orientation (orix's convention, `templates`) that puts that
crystal direction along the lab's z, with orix's choice of in-plane angle.
"""

from __future__ import annotations

import numpy as np

from .phase import Phase

QUATERNION = ("qw", "qx", "qy", "qz")  # table columns of a unit quaternion, orix's order


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


def random_orientations(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 4) unit quaternions (w >= 0) drawn uniformly over all rotations: normalised 4D
    Gaussian vectors (Shoemake 1992)."""
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q * np.where(q[:, :1] < 0, -1.0, 1.0)


def zone_axis_orientation(phase: Phase, uvw, in_plane_deg: float) -> np.ndarray:
    """The unit quaternion (w >= 0) that puts the crystal direction [uvw] along the lab's z (the
    beam's axis, as a bank's directions), turned by `in_plane_deg` about it: the pattern turns
    anticlockwise by that angle on the detector (x right, y up).

    With g_lab = g_crystal @ R (`templates`), the crystal direction along lab z is R's third
    column: R = [e1, e2, d] R_z(-angle) with d the unit [uvw] and e1, e2 completing a
    right-handed orthonormal frame.
    """
    from orix.quaternion import Rotation

    d = np.asarray(uvw, dtype=np.float64) @ phase.direct_basis()
    d /= np.linalg.norm(d)
    helper = np.eye(3)[np.argmin(np.abs(d))]
    e1 = np.cross(helper, d)
    e1 /= np.linalg.norm(e1)
    frame = np.column_stack([e1, np.cross(d, e1), d])
    angle = -np.deg2rad(in_plane_deg)
    turn = np.array(
        [[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0, 0, 1.0]]
    )
    q = np.asarray(Rotation.from_matrix(frame @ turn).data[0], dtype=np.float64)
    return q if q[0] >= 0 else -q


def rotation_matrices(quaternions: np.ndarray) -> np.ndarray:
    """(n, 3, 3) orientation matrices R (g_lab = g_crystal @ R) of unit quaternions (n, 4)."""
    from orix.quaternion import Rotation

    return Rotation(np.atleast_2d(quaternions)).to_matrix()


def bunge_euler_deg(quaternions: np.ndarray) -> np.ndarray:
    """(n, 3) Bunge Euler angles (phi1, Phi, phi2) in degrees of unit quaternions (n, 4), as
    orix gives them."""
    from orix.quaternion import Rotation

    return np.rad2deg(Rotation(np.atleast_2d(quaternions)).to_euler())
