"""Prominence maxima with ImageJ "Find Maxima" semantics (8-connected).

A local maximum at height v0 is kept when the region it reaches through 8-connected pixels of
value >= v0 - prominence holds no higher pixel and no pixel of an area already claimed by a
higher maximum (i.e. its topographic prominence exceeds `prominence`). Maxima are processed from
the highest; equal-height pixels in one region give a single point: the one nearest their
centroid. `exclude_edges` drops maxima whose equal-height pixels touch the frame edge (with
`strict`, whose whole region within the prominence does). Without `strict` the global maximum is
kept even if nothing lies more than `prominence` below it; with `strict` a frame whose whole
range is within the prominence has no maximum.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_LISTED, _PROCESSED, _EQUAL = 1, 2, 4
_DY = np.array([-1, -1, 0, 1, 1, 1, 0, -1])
_DX = np.array([0, 1, 1, 1, 0, -1, -1, -1])


@njit(cache=True, nogil=True)
def _candidates(image, exclude_edges, lowest):
    """Flat offsets of pixels with no strictly higher 8-neighbour (not at the global minimum)."""
    rows, cols = image.shape
    out = np.empty(rows * cols, dtype=np.int64)
    n = 0
    for r in range(rows):
        for c in range(cols):
            v = image[r, c]
            if v == lowest:
                continue
            if exclude_edges and (r == 0 or c == 0 or r == rows - 1 or c == cols - 1):
                continue
            is_max = True
            for d in range(8):
                r2, c2 = r + _DY[d], c + _DX[d]
                if 0 <= r2 < rows and 0 <= c2 < cols and image[r2, c2] > v:
                    is_max = False
                    break
            if is_max:
                out[n] = r * cols + c
                n += 1
    return out[:n]


@njit(cache=True, nogil=True)
def _find_maxima(image, prominence, strict, exclude_edges):
    rows, cols = image.shape
    flat = image.ravel()
    lowest, highest = flat.min(), flat.max()
    empty = np.empty(0, dtype=np.int64)
    if not highest > lowest or (strict and highest - lowest <= prominence):
        return empty
    candidates = _candidates(image, exclude_edges, lowest)
    # ascending by (value, offset); processed from the end as ImageJ does
    order = np.argsort(flat[candidates], kind="mergesort")
    types = np.zeros(rows * cols, dtype=np.uint8)
    queue = np.empty(rows * cols, dtype=np.int64)
    found = np.empty(candidates.shape[0], dtype=np.int64)
    n_found = 0
    for k in range(order.shape[0] - 1, -1, -1):
        start = candidates[order[k]]
        if types[start] & _PROCESSED:
            continue
        v0 = flat[start]
        r0, c0 = start // cols, start % cols
        queue[0] = start
        types[start] |= _EQUAL | _LISTED
        length, i = 1, 0
        on_edge = r0 == 0 or c0 == 0 or r0 == rows - 1 or c0 == cols - 1
        possible = True
        sum_r, sum_c, n_equal = float(r0), float(c0), 1
        while i < length:
            r, c = queue[i] // cols, queue[i] % cols
            for d in range(8):
                r2, c2 = r + _DY[d], c + _DX[d]
                if not (0 <= r2 < rows and 0 <= c2 < cols):
                    continue
                p2 = r2 * cols + c2
                if types[p2] & _LISTED:
                    continue
                if types[p2] & _PROCESSED:
                    possible = False
                    break
                v2 = flat[p2]
                if v2 > v0:
                    possible = False
                    break
                if v2 >= v0 - prominence:
                    queue[length] = p2
                    length += 1
                    types[p2] |= _LISTED
                    if (r2 == 0 or c2 == 0 or r2 == rows - 1 or c2 == cols - 1) and (strict or v2 >= v0):
                        on_edge = True
                        if exclude_edges:
                            possible = False
                            break
                    if v2 == v0:
                        types[p2] |= _EQUAL
                        sum_r += r2
                        sum_c += c2
                        n_equal += 1
            i += 1
        centre_r, centre_c = sum_r / n_equal, sum_c / n_equal
        best, best_distance = start, np.inf
        for j in range(length):
            p = queue[j]
            if possible and types[p] & _EQUAL:
                distance = (p // cols - centre_r) ** 2 + (p % cols - centre_c) ** 2
                if distance < best_distance:
                    best, best_distance = p, distance
            types[p] = _PROCESSED
        if possible and not (exclude_edges and on_edge):
            found[n_found] = best
            n_found += 1
    return found[:n_found]


def find_maxima(image: np.ndarray, prominence: float, strict: bool = True, exclude_edges: bool = False):
    """Rows and columns (int arrays) of the prominence maxima of a 2D image, highest first.

    See the module docstring for the exact semantics (ImageJ's Find Maxima, "single points").
    NaN pixels are not supported; pass a finite image.
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    offsets = _find_maxima(image, np.float32(prominence), bool(strict), bool(exclude_edges))
    return offsets // image.shape[1], offsets % image.shape[1]
