"""Prominence maxima with ImageJ "Find Maxima" semantics (8-connected).

A local maximum at height v0 is kept when the region it reaches through 8-connected pixels of
value >= v0 - prominence holds no higher pixel and no pixel of an area already claimed by a
higher maximum (i.e. its topographic prominence exceeds `prominence`). Maxima are processed from
the highest; equal-height pixels in one region give a single point: the one nearest their
centroid. `exclude_edges` drops maxima whose equal-height pixels touch the frame edge (with
`strict`, whose whole region within the prominence does). Without `strict` the global maximum is
kept even if nothing lies more than `prominence` below it; with `strict` a frame whose whole
range is within the prominence has no maximum.

Two shortcuts keep the result: a flood stops at the first higher or claimed pixel (ImageJ
floods on; a lower maximum reaching the rest of that region also reaches the claimed start
pixel), and the search ends at the first maximum whose flood would cover the whole image.
Both searches work on the image padded by one pixel of -inf, so that the 8 neighbours of a
pixel are fixed flat offsets and no bounds are checked in the inner loops.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_LISTED, _PROCESSED, _EQUAL, _EDGE = 1, 2, 4, 8


def _padded(image: np.ndarray) -> np.ndarray:
    """The float32 image inside a one-pixel frame of -inf."""
    padded = np.full((image.shape[0] + 2, image.shape[1] + 2), -np.inf, dtype=np.float32)
    padded[1:-1, 1:-1] = image
    return padded


@njit(cache=True, nogil=True, inline="always")
def _neighbours(width):
    """Flat offsets of the 8 neighbours in a padded image of row length `width`."""
    return np.array([-width, -width + 1, 1, width + 1, width, width - 1, -1, -width - 1])


@njit(cache=True, nogil=True)
def _candidates(padded, exclude_edges, lowest):
    """Padded offsets of pixels with no strictly higher 8-neighbour (not at the global minimum):
    those equal to the maximum of their 3x3 neighbourhood (row maxima, then column maxima)."""
    rows, width = padded.shape[0] - 2, padded.shape[1]
    across = np.empty_like(padded)
    across[:, 0] = across[:, -1] = -np.inf
    for r in range(rows + 2):
        for c in range(1, width - 1):
            across[r, c] = max(padded[r, c - 1], padded[r, c], padded[r, c + 1])
    out = np.empty(rows * (width - 2), dtype=np.int64)
    n = 0
    skip = 1 if exclude_edges else 0
    for r in range(1 + skip, rows + 1 - skip):
        for c in range(1 + skip, width - 1 - skip):
            v = padded[r, c]
            if v != lowest and v >= max(across[r - 1, c], across[r, c], across[r + 1, c]):
                out[n] = r * width + c
                n += 1
    return out[:n]


@njit(cache=True, nogil=True)
def _find_maxima(padded, prominence, strict, exclude_edges, lowest, highest):
    rows, width = padded.shape[0] - 2, padded.shape[1]
    flat = padded.ravel()
    step = _neighbours(width)
    candidates = _candidates(padded, exclude_edges, lowest)
    # ascending by (value, offset); processed from the end as ImageJ does
    order = np.argsort(flat[candidates], kind="mergesort")
    types = np.zeros(flat.shape[0], dtype=np.uint8)
    for r in range(1, rows + 1):
        types[r * width + 1] = types[r * width + width - 2] = _EDGE
    types[width + 1 : 2 * width - 1] = _EDGE
    types[rows * width + 1 : rows * width + width - 1] = _EDGE
    queue = np.empty(rows * (width - 2), dtype=np.int64)
    found = np.empty(candidates.shape[0], dtype=np.int64)
    n_found = 0
    for k in range(order.shape[0] - 1, -1, -1):
        start = candidates[order[k]]
        if types[start] & _PROCESSED:
            continue
        v0 = flat[start]
        floor = v0 - prominence
        if floor <= lowest and v0 < highest:
            break  # this flood and all lower ones would reach the whole image, and a higher pixel
        queue[0] = start
        types[start] |= _EQUAL | _LISTED
        length, i = 1, 0
        on_edge = (types[start] & _EDGE) != 0
        possible = True
        sum_r, sum_c, n_equal = float(start // width), float(start % width), 1
        while i < length and possible:
            p = queue[i]
            for d in range(8):
                p2 = p + step[d]
                t = types[p2]
                if t & _LISTED:
                    continue
                if t & _PROCESSED:
                    possible = False
                    break
                v2 = flat[p2]
                if v2 > v0:
                    possible = False
                    break
                if v2 >= floor:
                    queue[length] = p2
                    length += 1
                    types[p2] = t | _LISTED
                    if t & _EDGE and (strict or v2 >= v0):
                        on_edge = True
                        if exclude_edges:
                            possible = False
                            break
                    if v2 == v0:
                        types[p2] |= _EQUAL
                        sum_r += p2 // width
                        sum_c += p2 % width
                        n_equal += 1
            i += 1
        centre_r, centre_c = sum_r / n_equal, sum_c / n_equal
        best, best_distance = start, np.inf
        for j in range(length):
            p = queue[j]
            if possible and n_equal > 1 and types[p] & _EQUAL:
                distance = (p // width - centre_r) ** 2 + (p % width - centre_c) ** 2
                if distance < best_distance:
                    best, best_distance = p, distance
            types[p] = (types[p] & _EDGE) | _PROCESSED
        if possible and not (exclude_edges and on_edge):
            found[n_found] = best
            n_found += 1
    return found[:n_found]


def find_maxima(
    image: np.ndarray, prominence: float, strict: bool = True, exclude_edges: bool = False
):
    """Rows and columns (int arrays) of the prominence maxima of a 2D image, highest first.

    See the module docstring for the exact semantics (ImageJ's Find Maxima, "single points").
    NaN pixels are not supported; pass a finite image.
    """
    image = np.asarray(image, dtype=np.float32)
    lowest, highest = image.min(), image.max()
    empty = np.empty(0, dtype=np.int64)
    if not highest > lowest or (strict and highest - lowest <= prominence):
        return empty, empty
    # a prominence beyond the range floods the same pixels as the range itself, and keeps the
    # flood off the -inf frame
    prominence = np.float32(min(prominence, highest - lowest))
    padded = _padded(image)
    offsets = _find_maxima(padded, prominence, bool(strict), bool(exclude_edges), lowest, highest)
    width = padded.shape[1]
    return offsets // width - 1, offsets % width - 1


@njit(cache=True, nogil=True, inline="always")
def _lowest_bit():
    """Index of the lowest set bit of each byte value (0 for 0)."""
    first = np.zeros(256, dtype=np.int64)
    for k in range(1, 256):
        while not (k >> first[k]) & 1:
            first[k] += 1
    return first


@njit(cache=True, nogil=True, inline="always")
def root(parent, i):
    """Root of i in a disjoint-set forest, halving the path as it goes."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True, nogil=True)
def _descending(padded, levels, lo, hi):
    """Padded offsets of the image pixels in descending order of `levels` quantised levels
    (a counting sort; ascending offset within a level)."""
    rows, width = padded.shape[0] - 2, padded.shape[1]
    flat = padded.ravel()
    scale = np.float32((levels - 1) / (hi - lo))
    counts = np.zeros(levels + 1, dtype=np.int32)
    for r in range(1, rows + 1):
        for p in range(r * width + 1, r * width + width - 1):
            counts[levels - int((flat[p] - lo) * scale)] += 1
    for k in range(1, levels + 1):
        counts[k] += counts[k - 1]
    order = np.empty(rows * (width - 2), dtype=np.int32)
    for r in range(1, rows + 1):
        for p in range(r * width + 1, r * width + width - 1):
            slot = levels - 1 - int((flat[p] - lo) * scale)
            order[counts[slot]] = p
            counts[slot] += 1
    return order


@njit(cache=True, nogil=True)
def _swept_prominences(padded, points, levels, lo, hi, top):
    """Topographic prominence of `points` (padded offsets) from one sweep over the image: its
    pixels joined in descending order (the global maximum `top`'s prominence: its height above
    `lo`). Its cost is set by the lowest saddle, not by the points' surroundings.

    A component's root is its peak pixel; when two meet, the one with the lower peak records
    the meeting level in `met` and its successor in an uncompressed history forest (`below`),
    while `parent` is path-compressed for quick finds. The joining stops once every point has
    met higher ground; each point then climbs its history to the first level met.
    """
    flat = padded.ravel()
    step = _neighbours(padded.shape[1])
    order = _descending(padded, levels, lo, hi)
    parent = np.full(flat.shape[0], -1, dtype=np.int32)
    below = np.full(flat.shape[0], -1, dtype=np.int32)
    met = np.full(flat.shape[0], np.nan, dtype=np.float32)
    waiting = np.zeros(flat.shape[0], dtype=np.bool_)  # roots whose history holds a point
    pending = 0
    for k in range(points.shape[0]):
        if points[k] != top and not waiting[points[k]]:
            waiting[points[k]] = True
            pending += 1
    first = _lowest_bit()
    for i in order:
        if pending == 0:
            break
        parent[i] = i
        a, va = i, flat[i]
        joined = (
            0  # bit d: neighbour d already joined (a branch-free test, the loop visits only those)
        )
        for d in range(8):
            joined |= (parent[i + step[d]] >= 0) << d
        while joined:
            j = i + step[first[joined]]
            joined &= joined - 1
            if parent[j] == a:
                continue
            b = root(parent, j)
            if b == a:
                continue
            vb = flat[b]
            if a == i and (va < vb or (va == vb and b < a)) and not waiting[i]:
                parent[i] = a = b  # a plain pixel joins: no point climbs its history
                va = vb
                continue
            if va < vb or (va == vb and b < a):
                a, b, va, vb = b, a, vb, va  # a: the component with the higher (or equal) peak
            parent[b] = a
            below[b] = a
            if vb < va:
                met[b] = flat[i]
                if waiting[b]:
                    pending -= 1
            elif waiting[b]:  # equal peaks: the point's saddle is a's
                if waiting[a] or a == top:
                    pending -= 1
                else:
                    waiting[a] = True
    result = np.empty(points.shape[0], dtype=np.float32)
    for k in range(points.shape[0]):
        x = points[k]
        saddle = lo
        while x >= 0:
            if not np.isnan(met[x]):
                saddle = met[x]
                break
            x = below[x]
        result[k] = flat[points[k]] - saddle
    return result


@njit(cache=True, nogil=True)
def _flooded_prominences(padded, points, levels, lo, hi, budget):
    """Topographic prominence of `points` (padded offsets) by a priority flood from each: the
    highest queued pixel first (a bucket queue of `levels` quantised levels, last in first out
    within a level, with a count per block of 256 levels so that empty blocks are passed in one
    step) until a pixel higher than the point is reached; the saddle is the lowest pixel taken
    until then. Each flood covers only the point's own basin above its saddle.
    Returns the prominences and whether all floods together cost at most taking `budget` pixels
    (a level or block passed costs 1/16 of a pixel taken, as measured); nested basins are taken
    once per point, and sparse levels are passed again by each pixel taken, so past the budget
    the result is incomplete.
    """
    flat = padded.ravel()
    step = _neighbours(padded.shape[1])
    scale = np.float32((levels - 1) / (hi - lo))
    stamp = np.zeros(flat.shape[0], dtype=np.int32)  # k + 1: queued by the flood of point k
    link = np.empty(flat.shape[0], dtype=np.int32)  # next pixel queued in the same level
    head = np.full(levels, -1, dtype=np.int32)
    queued = np.zeros((levels + 255) >> 8, dtype=np.int32)  # pixels queued per block of levels
    result = np.empty(points.shape[0], dtype=np.float32)
    work, limit = 0, 16 * budget  # in sixteenths of a pixel taken
    for k in range(points.shape[0]):
        p = points[k]
        v0 = flat[p]
        if v0 >= hi:  # nothing higher: a global maximum
            result[k] = v0 - lo
            continue
        stamp[p] = k + 1
        level = bottom = int((v0 - lo) * scale)
        head[level], link[p] = p, -1
        queued[level >> 8] = 1
        saddle = v0
        while True:
            while queued[level >> 8] == 0:
                level = (level & ~255) - 1  # the top of the block below
                work += 1
            while head[level] < 0:
                level -= 1
                work += 1
            q = head[level]
            head[level] = link[q]
            queued[level >> 8] -= 1
            work += 16
            if work > limit:
                return result, False
            v = flat[q]
            if v > v0:
                break
            saddle = min(saddle, v)
            for d in range(8):
                q2 = q + step[d]
                if stamp[q2] != k + 1 and flat[q2] >= lo:  # not queued, not the -inf frame
                    stamp[q2] = k + 1
                    b = int((flat[q2] - lo) * scale)
                    link[q2], head[b] = head[b], q2
                    queued[b >> 8] += 1
                    level, bottom = max(level, b), min(bottom, b)
        for block in range(bottom >> 8, (level >> 8) + 1):  # the queue's leftovers
            if queued[block]:
                head[block << 8 : (block + 1) << 8] = -1
                queued[block] = 0
        result[k] = v0 - saddle
    return result, True


def prominences(image: np.ndarray, rows, cols, flood_budget: float = 2.0) -> np.ndarray:
    """Topographic prominence (float32) of the maxima at (rows, cols) of a 2D image, 8-connected:
    height above the highest saddle on a path to a strictly higher pixel (a global maximum's:
    height above the image minimum).

    Exact up to (image range) / 2**16 from the quantised processing order. A flood from each
    maximum is used (its cost: the basins above the saddles, 0.2-0.6 of the image in
    diffraction patterns); where the floods would cost more than taking `flood_budget` times
    the image's pixels (nested basins, or thousands of maxima in noise), one sweep over the
    image is used instead.
    """
    image = np.asarray(image, dtype=np.float32)
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    lo, hi = image.min(), image.max()
    if not hi > lo or len(rows) == 0:
        return np.zeros(len(rows), dtype=np.float32)
    width = image.shape[1] + 2
    points = (rows + 1) * width + cols + 1
    padded = _padded(image)
    result, complete = _flooded_prominences(
        padded, points, 1 << 16, lo, hi, int(flood_budget * image.size)
    )
    if complete:
        return result
    top = int(np.argmax(image))  # the first highest pixel: the root of the last component
    top = (top // image.shape[1] + 1) * width + top % image.shape[1] + 1
    return _swept_prominences(padded, points, 1 << 16, lo, hi, top)
