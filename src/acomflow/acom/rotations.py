"""Unit quaternions (w, x, y, z) as compiled functions, in orix's convention (method.md §9.4).

`matrix(q)` is orix's `Rotation.to_matrix()`, `multiply(a, b)` its product (matrix(a b) =
matrix(a) @ matrix(b)). An orientation q gives lab vectors g_lab = g_crystal @ matrix(q); crystal
symmetry acts on the left, so s q is the same orientation for every proper symmetry s.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

MIRROR = np.array([0.0, 1.0, 0.0, 0.0])  # 180 deg about the lab's x: the pattern mirrored (x -> -x)


@njit(cache=True, nogil=True)
def multiply(a, b):
    """The product a b of two unit quaternions."""
    return np.array(
        [
            a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
            a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
            a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
            a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
        ]
    )


@njit(cache=True, nogil=True)
def about_z(angle):
    """The rotation by `angle` (rad) about the lab's z (the beam axis)."""
    return np.array([math.cos(0.5 * angle), 0.0, 0.0, math.sin(0.5 * angle)])


@njit(cache=True, nogil=True)
def from_vector(v):
    """The rotation of the rotation vector `v` (axis x angle, rad)."""
    angle = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    if angle < 1e-12:
        return np.array([1.0, 0.5 * v[0], 0.5 * v[1], 0.5 * v[2]]) / math.sqrt(
            1.0 + 0.25 * angle * angle
        )
    k = math.sin(0.5 * angle) / angle
    return np.array([math.cos(0.5 * angle), k * v[0], k * v[1], k * v[2]])


@njit(cache=True, nogil=True)
def matrix(q):
    """The 3 x 3 rotation matrix of a unit quaternion, as orix's `to_matrix`."""
    w, x, y, z = q[0], q[1], q[2], q[3]
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


@njit(cache=True, nogil=True)
def _closest(a, b, symmetry):
    """(k, |w|): the symmetry operation s_k that brings s b nearest a, and the |w| of the
    rotation s b a^-1 (the angle is 2 acos |w|; conjugation does not change it)."""
    c = multiply(b, np.array([a[0], -a[1], -a[2], -a[3]]))
    best, closest = -1.0, 0
    for k in range(symmetry.shape[0]):
        s = symmetry[k]
        w = abs(s[0] * c[0] - s[1] * c[1] - s[2] * c[2] - s[3] * c[3])
        if w > best:
            best, closest = w, k
    return closest, best


@njit(cache=True, nogil=True)
def distance(a, b, symmetry):
    """The smallest rotation angle (rad) between orientations `a` and `b` over the proper
    symmetry operations `symmetry` (m, 4): min over s of the angle of s b a^-1."""
    return 2.0 * math.acos(min(1.0, _closest(a, b, symmetry)[1]))


@njit(cache=True, nogil=True)
def nearest_equivalent(a, b, symmetry):
    """The equivalent s b of orientation `b` nearest `a`."""
    return multiply(symmetry[_closest(a, b, symmetry)[0]], b)


@njit(cache=True, nogil=True)
def positive(q):
    """q or -q, whichever has w >= 0 (the same rotation)."""
    return q if q[0] >= 0 else -q
