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


@njit(cache=True, nogil=True)
def _root(parent, i):
    """Root of i in a disjoint-set forest, halving the path as it goes."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True, nogil=True)
def _prominences(image, points, levels):
    """Topographic prominence of `points` (flat offsets): height above the highest saddle on a
    path to higher ground (8-connected); the global maximum's is its height above the minimum.

    Pixels are joined in descending order (a counting sort on `levels` quantised levels, so the
    order, not the values, is quantised). When two components meet, the one with the lower peak
    records the meeting level in an uncompressed history forest (`below`); a compressed forest
    finds roots quickly. Each point then climbs its history to the first level met.
    """
    rows, cols = image.shape
    flat = image.ravel()
    n = flat.shape[0]
    lo, hi = flat.min(), flat.max()
    result = np.zeros(points.shape[0], dtype=np.float32)
    if not hi > lo:
        return result
    scale = (levels - 1) / (hi - lo)
    slots = np.empty(n, dtype=np.int64)
    counts = np.zeros(levels + 1, dtype=np.int64)
    for i in range(n):
        slots[i] = levels - 1 - int((flat[i] - lo) * scale)
        counts[slots[i] + 1] += 1
    for k in range(1, levels + 1):
        counts[k] += counts[k - 1]
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[counts[slots[i]]] = i
        counts[slots[i]] += 1
    find = np.full(n, -1, dtype=np.int64)
    below = np.empty(n, dtype=np.int64)
    peak = np.empty(n, dtype=np.float32)
    met = np.full(n, np.nan, dtype=np.float32)
    for i in order:
        find[i] = i
        below[i] = i
        peak[i] = flat[i]
        r, c = i // cols, i % cols
        for d in range(8):
            r2, c2 = r + _DY[d], c + _DX[d]
            if not (0 <= r2 < rows and 0 <= c2 < cols):
                continue
            j = r2 * cols + c2
            if find[j] < 0:
                continue
            a, b = _root(find, i), _root(find, j)
            if a == b:
                continue
            if peak[a] < peak[b] or (peak[a] == peak[b] and b < a):
                a, b = b, a  # a: the component with the higher (or equal) peak
            if peak[b] < peak[a]:
                met[b] = flat[i]
            find[b] = a
            below[b] = a
    for k in range(points.shape[0]):
        x = points[k]
        saddle = lo
        while True:
            if not np.isnan(met[x]):
                saddle = met[x]
                break
            if below[x] == x:
                break
            x = below[x]
        result[k] = flat[points[k]] - saddle
    return result


def prominences(image: np.ndarray, rows, cols) -> np.ndarray:
    """Topographic prominence (float32) of the maxima at (rows, cols) of a 2D image, 8-connected.

    Exact up to (image range) / 2**16 from the quantised processing order.
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    points = np.asarray(rows, dtype=np.int64) * image.shape[1] + np.asarray(cols, dtype=np.int64)
    return _prominences(image, points, 1 << 16)
