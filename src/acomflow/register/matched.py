"""A matched-filter detection image: each pixel's significance as the centre of a spot.

Each pixel is tested as an on/off count (Li & Ma 1983, ApJ 272, 317, eq. 17): "on" is the disc
of `radius` px (pixel centres within it), "off" the square ring of Chebyshev distances
floor(radius) + 3 to floor(radius) + 4 px (the local background, read off the pattern itself;
thin, so that a dense lattice's neighbours fall in it little), both over the pixels inside the
frame (and, where a mask is given, kept by it). With g the detector's counts per electron and v
a variance of every pixel whatever its level (the rounding to whole counts), the counts are
N = sum / g + n v / g^2 electrons over n pixels, a = n_on / n_off, and

    S = sqrt(2) sqrt(N_on ln((1 + a) / a N_on / (N_on + N_off))
                     + N_off ln((1 + a) N_off / (N_on + N_off)))

signed as the excess N_on - a N_off: the likelihood-ratio significance of an excess over the
background, standard normal in its tail down to a few electrons, where Poisson's skew makes
the Gaussian z = (mean_on - m) / sqrt((g m + v) (1 / n_on + 1 / n_off)) (m the off mean,
counts) overstate it several-fold. S is computed where z exceeds `exact_from` sigmas, z kept
elsewhere: S < z wherever z > 0, so below the threshold and the valleys between maxima that
matter, z decides as S would. Where the gain is unknown (g = 0), z is kept with v the frame's
whole pixel variance. One threshold in sigmas then holds across the halo, the rings and the
dose range; the ring follows the background at the spot, also on the direct beam's flank,
where a blurred image has a shoulder and no maximum. `spot_significance` reads the background
twice (the spots of the first reading masked out of the second); `one_spot`, `single_pixel`,
`beam_extent` and `along_ring` tell spots from what is not one; `apart` merges refined
duplicates; `block_sums` and `brightest_in_blocks` let the detection run on a frame summed over
blocks (`matched_bin`). Coordinates: rows, cols px.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy import ndimage

from .maxima import root

ANNULUS = (3, 4)  # px beyond floor(radius): the background ring's Chebyshev distances
EXACT_FROM = 2.0  # sigmas of z above which the likelihood ratio replaces it
# The background along the ring where too few of the discs sampled on it are clear of other
# candidates: this quantile of them all, low enough that a dense lattice's spots do not raise it.
RING_QUANTILE = 0.25
QUARTER = 0.25  # of the ring: the least of it a masked background may rest on
# px beyond the disc: the pixels of a spot found in the first pass, kept out of the second
# pass's background rings, so that a dense lattice's neighbours do not raise it
MASK_BEYOND = 1.5
# Two maxima of S are one spot unless S falls below this fraction of the lesser between them
VALLEY = 0.7
# electrons: a pixel at 0 among neighbours this bright is dead (Poisson's P(0) < 1e-4)
DEAD_FROM = 9.2
# A candidate whose brightest pixel stands this many times further above its disc's median than
# the second brightest (or the noise) is a hot pixel
HOT_RATIO = 4.0
BLOCK = 4  # px: the side of the blocks a significance is read again over
# px: the least disc `matched_bin: auto` leaves, in blocks (the 256 px test bed's disc)
BIN_DISC = 2.5


@njit(cache=True, nogil=True)
def half_widths(radius):
    """Half-width (px) of each row dy = -R..R of the pixels whose centres lie within radius."""
    reach = int(math.floor(radius))
    widths = np.empty(2 * reach + 1, dtype=np.int64)
    for k in range(2 * reach + 1):
        dy = k - reach
        widths[k] = int(math.floor(math.sqrt(max(radius * radius - dy * dy, 0.0))))
    return widths


@njit(cache=True, nogil=True)
def _disc_pixels(widths):
    """The pixels of a disc of row half-widths `widths`."""
    return int((2 * widths + 1).sum())


@njit(cache=True, nogil=True, inline="always")
def _band(top, bottom, c0, c1, cols):
    """Sum and width of cols c0..c1 - 1, clipped to the frame, between the summed-area rows
    `top` and `bottom`."""
    c0, c1 = max(c0, 0), min(c1, cols)
    if c1 <= c0:
        return 0.0, 0
    return bottom[c1] - top[c1] - bottom[c0] + top[c0], c1 - c0


@njit(cache=True, nogil=True)
def _statistic(on, n_on, off, n_off, gain, floor, exact_from=EXACT_FROM):
    """The significance of `on` counts over `n_on` px against `off` counts over `n_off` px."""
    if n_off == 0:
        return 0.0
    background = off / n_off
    variance = (gain * max(background, 0.0) + floor) * (1.0 / n_on + 1.0 / n_off)
    if variance <= 0.0:
        return 0.0
    z = (on / n_on - background) / math.sqrt(variance)
    if z <= exact_from or gain <= 0.0:
        return z
    pseudo = floor / (gain * gain)
    x_on = max(on / gain + n_on * pseudo, 1e-12)
    x_off = max(off / gain + n_off * pseudo, 0.0)
    a = n_on / n_off
    total = x_on + x_off
    twice = x_on * math.log((1.0 + a) / a * x_on / total)
    if x_off > 0.0:
        twice += x_off * math.log((1.0 + a) * x_off / total)
    return math.sqrt(2.0 * max(twice, 0.0))


@njit(cache=True, nogil=True)
def _add_row(source, line, previous, current):
    """The row prefix sums `line` of `source` (a leading 0) and the next summed-area row
    `current` = `previous` + `line`."""
    running = 0.0
    for c in range(source.shape[0]):
        running += source[c]
        line[c + 1] = running
    for c in range(line.shape[0]):
        current[c] = previous[c] + line[c]


@njit(cache=True, nogil=True, error_model="numpy")
def _ring_row(area, r, first, inner, outer, out):
    """The ring sums of row r's pixels at cols first .. first + len(out) - 1 (each at least
    `outer` px from the frame's sides) into `out`, from the summed-area rows kept in `area`
    (row i at i modulo its length)."""
    kept, n = area.shape[0], out.shape[0]
    low, high = area[(r - outer) % kept], area[(r + outer + 1) % kept]
    near, far = area[(r - inner + 1) % kept], area[(r + inner) % kept]
    big_rr = high[first + outer + 1 : first + outer + 1 + n]
    big_lr = low[first + outer + 1 : first + outer + 1 + n]
    big_rl, big_ll = high[first - outer : first - outer + n], low[first - outer : first - outer + n]
    hole_rr = far[first + inner : first + inner + n]
    hole_lr = near[first + inner : first + inner + n]
    hole_rl = far[first - inner + 1 : first - inner + 1 + n]
    hole_ll = near[first - inner + 1 : first - inner + 1 + n]
    for i in range(n):
        out[i] = (big_rr[i] - big_lr[i] + big_ll[i] - big_rl[i]) - (
            hole_rr[i] - hole_lr[i] + hole_ll[i] - hole_rl[i]
        )


@njit(cache=True, nogil=True, inline="always")
def _ring_at(area, bands, c, inner, outer, cols):
    """Ring sum and pixel count about col c, clipped to the frame, from the summed-area rows
    `bands` (indices into `area`: the square's top and bottom, the hole's top and bottom) and
    their heights."""
    big_top, big_bottom, hole_top, hole_bottom, tall, short = bands
    big, n_big = _band(area[big_top], area[big_bottom], c - outer, c + outer + 1, cols)
    hole, n_hole = _band(area[hole_top], area[hole_bottom], c - inner + 1, c + inner, cols)
    return big - hole, n_big * tall - n_hole * short


@njit(cache=True, nogil=True, error_model="numpy")
def _significance(frame, keep, masked, radius, gain, floor, exact_from, top, bottom, left, right):
    """`significance` of rows top..bottom - 1, cols left..right - 1, streamed down the frame:
    only the rows of the row prefix sums and of the summed-area tables that the current row's
    disc and ring reach are kept."""
    rows, cols = frame.shape
    widths = half_widths(radius)
    reach = widths.shape[0] // 2
    inner, outer = reach + ANNULUS[0], reach + ANNULUS[1]
    n_disc = _disc_pixels(widths)
    n_ring = (2 * outer + 1) ** 2 - (2 * inner - 1) ** 2
    kept = 2 * outer + 2
    prefix = np.zeros((kept, cols + 1))  # frame row j at j % kept, a leading 0
    area = np.zeros((kept, cols + 1))  # summed-area row i (rows 0..i - 1) at i % kept
    depth = kept if masked else 1
    area_kept = np.zeros((depth, cols + 1))  # the same of the frame where `keep`
    area_count = np.zeros((depth, cols + 1))  # and of `keep`
    scratch = np.zeros(cols + 1)
    kept_row, count_row = np.empty(cols), np.empty(cols)
    done = 0  # summed-area rows 0..done computed
    out = np.empty((bottom - top, right - left), dtype=np.float32)
    # the bulk: the cols at least `outer` px from the sides, where nothing is clipped
    first, last = max(left, outer), min(right, cols - outer)
    n = max(last - first, 0)
    inside, background = np.empty(n), np.empty(n)
    lines = np.empty(2 * reach + 1, dtype=np.int64)
    ring_kept, counts = np.empty(n), np.empty(n)
    for r in range(top, bottom):
        while done < min(r + outer + 1, rows):
            j, i = done % kept, (done + 1) % kept
            _add_row(frame[done], prefix[j], area[j], area[i])
            if masked:
                for c in range(cols):
                    kept_row[c] = frame[done, c] if keep[done, c] else 0.0
                    count_row[c] = 1.0 if keep[done, c] else 0.0
                _add_row(kept_row, scratch, area_kept[j], area_kept[i])
                _add_row(count_row, scratch, area_count[j], area_count[i])
            done += 1
        target = out[r - top]
        interior_row = outer <= r < rows - outer and n > 0
        if interior_row:  # loops over views the compiler vectorises
            inside[:] = 0.0
            for k in range(2 * reach + 1):
                line, w = prefix[(r + k - reach) % kept], widths[k]
                right_end, left_end = line[first + w + 1 : last + w + 1], line[first - w : last - w]
                for i in range(n):
                    inside[i] += right_end[i] - left_end[i]
            _ring_row(area, r, first, inner, outer, background)
            if masked:
                _ring_row(area_kept, r, first, inner, outer, ring_kept)
                _ring_row(area_count, r, first, inner, outer, counts)
                for i in range(n):
                    if counts[i] >= QUARTER * n_ring:
                        background[i] = ring_kept[i]
                    else:
                        counts[i] = n_ring
            else:
                counts[:] = n_ring
            bulk = target[first - left : last - left]
            for i in range(n):  # z first, vectorised; S where it matters
                mean = background[i] / counts[i]
                variance = (gain * max(mean, 0.0) + floor) * (1.0 / n_disc + 1.0 / counts[i])
                bulk[i] = (inside[i] * (1.0 / n_disc) - mean) / math.sqrt(variance)
            for i in range(n):
                if not bulk[i] <= exact_from:
                    bulk[i] = _statistic(
                        inside[i], n_disc, background[i], counts[i], gain, floor, exact_from
                    )
        # the cols near the sides (and every col of the rows near the top and bottom): the
        # disc and ring clipped to the frame, their rows found once per row
        k0, k1 = max(reach - r, 0), min(rows - r + reach, 2 * reach + 1)
        for k in range(k0, k1):
            lines[k] = (r + k - reach) % kept
        big_top, big_bottom = max(r - outer, 0), min(r + outer + 1, rows)
        hole_top, hole_bottom = max(r - inner + 1, 0), min(r + inner, rows)
        bands = (
            big_top % kept,
            big_bottom % kept,
            hole_top % kept,
            hole_bottom % kept,
            big_bottom - big_top,
            hole_bottom - hole_top,
        )
        for c in range(left, right):
            if interior_row and first <= c < last:
                continue
            on, n_on = 0.0, 0
            for k in range(k0, k1):
                lo, hi = max(c - widths[k], 0), min(c + widths[k], cols - 1)
                line = prefix[lines[k]]
                on += line[hi + 1] - line[lo]
                n_on += hi - lo + 1
            off, n_off = _ring_at(area, bands, c, inner, outer, cols)
            if masked:
                off_kept, _ = _ring_at(area_kept, bands, c, inner, outer, cols)
                n_kept, _ = _ring_at(area_count, bands, c, inner, outer, cols)
                if n_kept >= QUARTER * n_off:
                    off, n_off = off_kept, n_kept
            target[c - left] = _statistic(on, n_on, off, n_off, gain, floor, exact_from)
    return out


def significance(
    frame: np.ndarray,
    radius: float,
    gain: float,
    variance_floor: float,
    keep: np.ndarray | None = None,
    exact_from: float = EXACT_FROM,
    region: tuple[slice, slice] | None = None,
):
    """The matched-filter significance S (float32, sigmas; see the module: g = `gain` counts
    per electron, v = `variance_floor` counts^2) of every pixel of a frame, or of the pixels of
    `region` (two slices of steps 1 inside it), where z exceeds `exact_from` sigmas, z
    elsewhere. With `keep` (bool, the frame's shape), the ring's background is taken over the
    pixels where it is true, unless they are under a quarter of the ring."""
    masked = keep is not None
    rows, cols = region or (slice(0, frame.shape[0]), slice(0, frame.shape[1]))
    return _significance(
        np.ascontiguousarray(frame, np.float32),
        np.ascontiguousarray(keep, np.bool_) if masked else np.ones((1, 1), np.bool_),
        masked,
        float(radius),
        float(gain),
        float(variance_floor),
        float(exact_from),
        rows.start,
        rows.stop,
        cols.start,
        cols.stop,
    )


def bin_factor(setting, radius: float) -> int:
    """The side (px) of the blocks a frame is summed over before the matched filter:
    `setting` (`matched_bin`), or with "auto" the largest that leaves a disc of `radius` px at
    least `BIN_DISC` blocks wide."""
    return max(int(radius // BIN_DISC), 1) if setting == "auto" else int(setting)


@njit(cache=True, nogil=True)
def block_sums(frame, factor):
    """The sums (float32) of `frame` over blocks of `factor` x `factor` px, over its whole
    blocks (a last partial row or column of blocks is left out): block (i, j) holds the pixels
    rows factor i .. factor i + factor - 1, cols likewise."""
    rows, cols = frame.shape[0] // factor, frame.shape[1] // factor
    out = np.zeros((rows, cols), dtype=np.float32)
    for r in range(rows * factor):
        target, source = out[r // factor], frame[r]
        for k in range(factor):
            for c in range(cols):
                target[c] += source[c * factor + k]
    return out


@njit(cache=True, nogil=True)
def brightest_in_blocks(frame, rows, cols, factor):
    """Rows and cols (int64) of the brightest pixel of `frame` (the first in row-major order
    of equals) in each block (rows, cols) of `factor` x `factor` px (`block_sums`)."""
    out_r, out_c = np.empty(rows.shape[0], np.int64), np.empty(rows.shape[0], np.int64)
    for i in range(rows.shape[0]):
        best = -np.inf
        for r in range(rows[i] * factor, rows[i] * factor + factor):
            for c in range(cols[i] * factor, cols[i] * factor + factor):
                if frame[r, c] > best:
                    best, out_r[i], out_c[i] = frame[r, c], r, c
    return out_r, out_c


@njit(cache=True, nogil=True)
def dead_pixels(frame, level):
    """Rows and cols (int64) of the pixels at or below 0 counts whose in-frame neighbours (8
    or fewer) average at least `level` counts (> 0), one of the 4 along the rows and columns at
    least that: where a Poisson count of 0 is improbable, a dead pixel, which would pull a
    background mean down. The quick test runs branch-free down each row, as a dark region
    holds many zeros."""
    rows, cols = frame.shape
    found_r, found_c = [], []
    outside = np.full(cols + 2, -np.inf)
    line, above, below = np.empty(cols + 2), np.empty(cols + 2), np.empty(cols + 2)
    line[0] = line[cols + 1] = -np.inf
    bright = np.empty(cols, dtype=np.bool_)
    for r in range(rows):
        line[1 : cols + 1] = frame[r]
        above[:] = outside
        below[:] = outside
        if r > 0:
            above[1 : cols + 1] = frame[r - 1]
        if r < rows - 1:
            below[1 : cols + 1] = frame[r + 1]
        for c in range(cols):
            nearest = max(max(above[c + 1], below[c + 1]), max(line[c], line[c + 2]))
            bright[c] = (line[c + 1] <= 0.0) & (nearest >= level)
        for c in range(cols):
            if not bright[c]:
                continue
            total, n = 0.0, 0
            for rr in range(max(r - 1, 0), min(r + 2, rows)):
                for cc in range(max(c - 1, 0), min(c + 2, cols)):
                    if rr != r or cc != c:
                        total += frame[rr, cc]
                        n += 1
            if total >= level * n:
                found_r.append(r)
                found_c.append(c)
    return np.array(found_r, dtype=np.int64), np.array(found_c, dtype=np.int64)


@njit(cache=True, nogil=True)
def _single_pixel(frame, rows, cols, widths, gain, floor):
    """`single_pixel`, with the flat index of each disc's brightest pixel and its median."""
    hot = np.zeros(rows.shape[0], dtype=np.bool_)
    brightest = np.zeros(rows.shape[0], dtype=np.int64)
    middles = np.zeros(rows.shape[0])
    values = np.empty(widths.shape[0] ** 2)
    for i in range(rows.shape[0]):
        n, brightest[i] = _disc_values(frame, rows[i], cols[i], widths, values)
        if n < 3:
            continue
        ordered = np.sort(values[:n])
        middles[i] = middle = ordered[n // 2]
        noise = math.sqrt(max(gain * max(middle, 0.0) + floor, 0.0))
        hot[i] = ordered[n - 1] - middle > HOT_RATIO * max(ordered[n - 2] - middle, noise)
    return hot, brightest, middles


def _hot_pixels(frame, rows, cols, radius, gain, variance_floor):
    return _single_pixel(
        np.asarray(frame, np.float32),
        np.asarray(rows, np.int64),
        np.asarray(cols, np.int64),
        half_widths(float(radius)),
        float(gain),
        float(variance_floor),
    )


def single_pixel(frame, rows, cols, radius: float, gain: float, variance_floor: float):
    """Whether each candidate (rows, cols) is one pixel, not a disc: the brightest pixel of its
    disc of `radius` px stands above the disc's median more than `HOT_RATIO` times as far as the
    second brightest does, or as its noise (sqrt(g m + v), m the median): a hot pixel. A disc
    of 2 px or more shares its light between several pixels."""
    return _hot_pixels(frame, rows, cols, radius, gain, variance_floor)[0]


def without_hot_pixels(frame, rows, cols, radius: float, gain: float, variance_floor: float):
    """`frame` (float32), or a copy of it with the brightest pixel of the disc of each
    candidate that `single_pixel` finds to be one pixel set to the disc's median: a hot pixel,
    whose plateau of S would hide the spots about it."""
    frame = np.asarray(frame, np.float32)
    hot, brightest, middles = _hot_pixels(frame, rows, cols, radius, gain, variance_floor)
    if not hot.any():
        return frame
    frame = frame.copy()
    frame.flat[brightest[hot]] = middles[hot]
    return frame


@njit(cache=True, nogil=True)
def _discs_mask(shape, ys, xs, radii):
    """True on the pixels whose centres lie within radii[k] px of (ys[k], xs[k]) for some k."""
    mask = np.zeros(shape, dtype=np.bool_)
    for y, x, radius in zip(ys, xs, radii):
        for r in range(max(int(math.ceil(y - radius)), 0), min(int(y + radius) + 1, shape[0])):
            for c in range(max(int(math.ceil(x - radius)), 0), min(int(x + radius) + 1, shape[1])):
                if (r - y) ** 2 + (c - x) ** 2 <= radius * radius:
                    mask[r, c] = True
    return mask


def spot_mask(shape, rows, cols, radius):
    """True on the pixels within `radius` px (one for all, or one per spot) of any of the
    points (rows, cols px, whole or not)."""
    rows = np.asarray(rows, np.float64)
    return _discs_mask(
        tuple(shape),
        rows,
        np.asarray(cols, np.float64),
        np.broadcast_to(np.asarray(radius, np.float64), rows.shape).copy(),
    )


@njit(cache=True, nogil=True)
def _disc_values(frame, row, col, widths, out):
    """The frame's values in the disc (row half-widths `widths`) about (row, col), clipped to
    the frame, into `out`; their number and the flat index of the brightest (the first of
    equals in row-major order)."""
    reach, n = widths.shape[0] // 2, 0
    top, brightest = -np.inf, row * frame.shape[1] + col
    for k in range(2 * reach + 1):
        r = row + k - reach
        if 0 <= r < frame.shape[0]:
            for c in range(max(col - widths[k], 0), min(col + widths[k] + 1, frame.shape[1])):
                out[n] = frame[r, c]
                n += 1
                if frame[r, c] > top:
                    top, brightest = frame[r, c], r * frame.shape[1] + c
    return n, brightest


@njit(cache=True, nogil=True)
def _disc_at(frame, row, col, widths, scratch):
    """Sum and pixel count of the disc (row half-widths `widths`) about (row, col), clipped to
    the frame (`scratch` holds its values)."""
    n, _ = _disc_values(frame, row, col, widths, scratch)
    return scratch[:n].sum(), n


@njit(cache=True, nogil=True)
def _significance_at(frame, rows, cols, radius, gain, floor, exact_from):
    widths = half_widths(radius)
    reach = widths.shape[0] // 2
    inner, outer = reach + ANNULUS[0], reach + ANNULUS[1]
    out, scratch = np.empty(rows.shape[0]), np.empty(widths.shape[0] ** 2)
    for i in range(rows.shape[0]):
        on, n_on = _disc_at(frame, rows[i], cols[i], widths, scratch)
        off, n_off = 0.0, 0
        for r in range(max(rows[i] - outer, 0), min(rows[i] + outer + 1, frame.shape[0])):
            for c in range(max(cols[i] - outer, 0), min(cols[i] + outer + 1, frame.shape[1])):
                if max(abs(r - rows[i]), abs(c - cols[i])) >= inner:
                    off += frame[r, c]
                    n_off += 1
        out[i] = _statistic(on, n_on, off, n_off, gain, floor, exact_from)
    return out


def significance_at(
    frame, rows, cols, radius: float, gain: float, variance_floor: float, exact_from=EXACT_FROM
):
    """`significance` (float64, the ring's background unmasked) at the pixels (rows, cols)
    alone."""
    return _significance_at(
        np.asarray(frame, np.float32),
        np.asarray(rows, np.int64),
        np.asarray(cols, np.int64),
        float(radius),
        float(gain),
        float(variance_floor),
        float(exact_from),
    )


@njit(cache=True, nogil=True)
def disc_at(frame, rows, cols, radius):
    """The sums (float64) over the discs of `radius` px about the pixels (rows, cols) of a
    frame, clipped to it."""
    widths = half_widths(radius)
    sums, scratch = np.empty(rows.shape[0]), np.empty(widths.shape[0] ** 2)
    for i in range(rows.shape[0]):
        sums[i] = _disc_at(frame, rows[i], cols[i], widths, scratch)[0]
    return sums


@njit(cache=True, nogil=True)
def _holds_another(by_row, sorted_rows, rows, cols, i, row, col, apart):
    """Whether a candidate other than the i-th lies closer than `apart` px to (row, col)
    (`by_row`: the candidates' order by row, `sorted_rows` their rows in that order)."""
    reach = int(math.ceil(apart))
    first = np.searchsorted(sorted_rows, row - reach)
    last = np.searchsorted(sorted_rows, row + reach, side="right")
    for k in by_row[first:last]:
        if k != i and (rows[k] - row) ** 2 + (cols[k] - col) ** 2 < apart * apart:
            return True
    return False


@njit(cache=True, nogil=True)
def _along_ring(frame, rows, cols, centre_y, centre_x, radius, gain, floor, samples, nearest):
    widths = half_widths(radius)
    reach = widths.shape[0] // 2
    n_disc = _disc_pixels(widths)
    apart = 2.0 * radius + 1.0  # px: a sample disc this close to a candidate holds it
    by_row = np.argsort(rows, kind="mergesort")
    sorted_rows = rows[by_row]
    out = np.full(rows.shape[0], np.inf, dtype=np.float32)
    means, clear_means = np.empty(2 * samples), np.empty(2 * samples)
    scratch = np.empty(widths.shape[0] ** 2)
    for i in range(rows.shape[0]):
        dy, dx = rows[i] - centre_y, cols[i] - centre_x
        rho = math.hypot(dy, dx)
        if rho < nearest:
            continue
        step, theta = (2 * reach + 2) / rho, math.atan2(dy, dx)
        m, clear = 0, 0
        for j in range(1, samples + 1):
            for sign in (-1.0, 1.0):
                angle = theta + sign * j * step
                row = int(round(centre_y + rho * math.sin(angle)))
                col = int(round(centre_x + rho * math.cos(angle)))
                total, n = _disc_at(frame, row, col, widths, scratch)
                if 2 * n < n_disc:
                    continue
                means[m] = total / n
                m += 1
                if not _holds_another(by_row, sorted_rows, rows, cols, i, row, col, apart):
                    clear_means[clear] = total / n
                    clear += 1
        if m < samples:
            continue
        on, n_on = _disc_at(frame, rows[i], cols[i], widths, scratch)
        if clear >= samples:
            level, used = np.median(clear_means[:clear]), clear
        else:
            level, used = np.sort(means[:m])[int(m * RING_QUANTILE)], m
        n_off = used * n_disc * 2.0 / math.pi  # a median's efficiency, or less a quantile's
        out[i] = _statistic(on, n_on, level * n_off, n_off, gain, floor)
    return out


def along_ring(frame, rows, cols, centre, radius, gain, variance_floor, samples=4, nearest=0.0):
    """The significance (float32, sigmas) of each candidate (rows, cols px) against its ring:
    the disc of `radius` px about it against the discs at the same distance from `centre` (y, x
    px), `samples` on each side along the circle, 2 floor(radius) + 2 px apart (of those at
    least half inside the frame). An amorphous ring's or the halo's background then stands
    under the candidate, as no square around it can follow a ring's curvature. The background
    is the median of the discs that hold no other candidate (centres more than 2 radius + 1 px
    apart), where at least `samples` do; else, among a dense lattice's spots, the
    `RING_QUANTILE` of them all, which those spots leave where it is (but which lies below
    the ring's mean, by ~0.5 of one disc's noise). Infinite (no test) for candidates within
    `nearest` px of the centre or with fewer than `samples` discs to compare."""
    return _along_ring(
        np.asarray(frame, np.float32),
        np.asarray(rows, np.int64),
        np.asarray(cols, np.int64),
        float(centre[0]),
        float(centre[1]),
        float(radius),
        float(gain),
        float(variance_floor),
        int(samples),
        float(nearest),
    )


@njit(cache=True, nogil=True)
def _touched_blocks(shape, rows, cols, reach, block):
    """Which blocks of `block` x `block` px of a frame hold a pixel within the Chebyshev
    distance `reach` of one of the pixels (rows, cols)."""
    touched = np.zeros(((shape[0] + block - 1) // block, (shape[1] + block - 1) // block), np.bool_)
    for r, c in zip(rows, cols):
        r0, r1 = max(r - reach, 0) // block, min(r + reach, shape[0] - 1) // block
        c0, c1 = max(c - reach, 0) // block, min(c + reach, shape[1] - 1) // block
        touched[r0 : r1 + 1, c0 : c1 + 1] = True
    return touched


def read_again(z, frame, keep, rows, cols, reach, radius, gain, variance_floor, exact_from):
    """Replace z (`significance` of the frame, in place) by the significance with `keep`
    wherever they can differ: in windows about the pixels (rows, cols), wide enough that every
    pixel whose ring `keep` changes lies within the Chebyshev distance `reach` px of one of
    them, and grown so that each also holds the discs and rings of the pixels it gives back."""
    outer = int(math.floor(radius)) + ANNULUS[1]
    # The windows: connected blocks of BLOCK px touched by the pixels' squares, labelled on
    # the grid of blocks (a few hundred times fewer pixels than the frame).
    blocks = _touched_blocks(frame.shape, np.asarray(rows), np.asarray(cols), int(reach), BLOCK)
    for found in ndimage.find_objects(ndimage.label(blocks)[0]):
        window = tuple(
            slice(part.start * BLOCK, min(part.stop * BLOCK, size))
            for part, size in zip(found, frame.shape)
        )
        grown = tuple(
            slice(max(part.start - outer, 0), min(part.stop + outer, size))
            for part, size in zip(window, frame.shape)
        )
        inner = tuple(
            slice(part.start - wide.start, part.stop - wide.start)
            for part, wide in zip(window, grown)
        )
        z[window] = significance(
            frame[grown], radius, gain, variance_floor, keep[grown], exact_from, inner
        )


def spot_significance(frame, radius: float, gain: float, variance_floor: float, threshold: float):
    """The significance image S (`significance`) and its maxima above `threshold` (rows,
    cols, S; most significant first), with the background read twice: the first maxima's
    discs, grown by `MASK_BEYOND` px, are kept out of the second reading's rings, so that a
    dense lattice's spots do not raise their neighbours' background; dead pixels
    (`dead_pixels`) out of both; the hot pixels among the first maxima set to their discs'
    medians for the second (`without_hot_pixels`). Maxima on one plateau of S are
    one spot (`one_spot`)."""
    frame = np.asarray(frame, np.float32)
    # S <= z where z > 0, so S is needed only where z could reach a valley between maxima
    # above the threshold: below that, z decides as S would.
    exact = VALLEY * threshold
    outer = int(math.floor(radius)) + ANNULUS[1]
    z = significance(frame, radius, gain, variance_floor, None, exact)
    # A pixel's S changes only where its ring reaches a pixel left out: each reading after
    # the first is made about those pixels alone.
    alive = np.ones(frame.shape, bool)
    if gain > 0:
        dead_rows, dead_cols = dead_pixels(frame, DEAD_FROM * gain)
        alive[dead_rows, dead_cols] = False
        read_again(
            z, frame, alive, dead_rows, dead_cols, outer, radius, gain, variance_floor, exact
        )
    rows, cols, _ = significant_maxima(z, threshold)
    # the second reading's windows about the first maxima hold every pixel this changes
    frame = without_hot_pixels(frame, rows, cols, radius, gain, variance_floor)
    reach = int(math.floor(radius + MASK_BEYOND))
    keep = alive & ~spot_mask(frame.shape, rows, cols, radius + MASK_BEYOND)
    read_again(z, frame, keep, rows, cols, outer + reach, radius, gain, variance_floor, exact)
    rows, cols, values = significant_maxima(z, threshold)
    alone = one_spot(z, rows, cols, 4 * radius, VALLEY)
    return z, rows[alone], cols[alone], values[alone]


def beam_extent(frame: np.ndarray, row: int, col: int, reach: int):
    """Centre (y, x px) and radius (px) of the direct beam found at the pixel (row, col): the
    pixels at or above half the brightest one within 2 px of it, connected to that one, within
    `reach` px; their centroid, and the radius of a disc of their area. A saturated or
    flat-topped beam wider than the matched disc has several maxima of S about its rim: they
    lie inside it."""
    r0, c0 = max(row - reach, 0), max(col - reach, 0)
    window = np.asarray(frame[r0 : row + reach + 1, c0 : col + reach + 1], np.float64)
    near = window[max(row - r0 - 2, 0) : row - r0 + 3, max(col - c0 - 2, 0) : col - c0 + 3]
    top = np.unravel_index(np.argmax(near), near.shape)
    top = top[0] + max(row - r0 - 2, 0), top[1] + max(col - c0 - 2, 0)
    labels, _ = ndimage.label(window >= window[top] / 2.0)
    ys, xs = np.nonzero(labels == labels[top])
    return r0 + ys.mean(), c0 + xs.mean(), math.sqrt(ys.size / math.pi)


@njit(cache=True, nogil=True)
def _maxima(z, threshold, separation):
    rows, cols = z.shape
    found_r, found_c = [], []
    for r in range(rows):
        for c in range(cols):
            v = z[r, c]
            if v <= threshold:
                continue
            top = True
            for rr in range(max(r - separation, 0), min(r + separation + 1, rows)):
                for cc in range(max(c - separation, 0), min(c + separation + 1, cols)):
                    if z[rr, cc] > v:
                        top = False
                        break
                if not top:
                    break
            if top:
                found_r.append(r)
                found_c.append(c)
    n = len(found_r)
    index = np.full((rows, cols), -1, dtype=np.int64)
    parent = np.arange(n)
    for i in range(n):
        r, c = found_r[i], found_c[i]
        index[r, c] = i
        for dr, dc in ((0, -1), (-1, -1), (-1, 0), (-1, 1)):  # the neighbours already seen
            rr, cc = r + dr, c + dc
            if 0 <= rr < rows and 0 <= cc < cols and index[rr, cc] >= 0:
                a, b = root(parent, index[rr, cc]), root(parent, i)
                parent[max(a, b)] = min(a, b)  # the root is a plateau's first pixel
    keep = np.array([parent[i] == i for i in range(n)], dtype=np.bool_)
    out_r = np.array(found_r, dtype=np.int64)[keep] if n else np.empty(0, np.int64)
    out_c = np.array(found_c, dtype=np.int64)[keep] if n else np.empty(0, np.int64)
    return out_r, out_c


def significant_maxima(z: np.ndarray, threshold: float, separation: int = 2):
    """Rows, cols and z of the local maxima of z (over the square of +-`separation` px; of a
    connected flat top, its first pixel in row-major order) above `threshold`, most
    significant first."""
    rows, cols = _maxima(np.asarray(z, np.float32), float(threshold), int(separation))
    values = z[rows, cols]
    order = np.argsort(-values, kind="stable")
    return rows[order], cols[order], values[order]


@njit(cache=True, nogil=True)
def one_spot(z, rows, cols, reach, ratio):
    """Whether each maximum of z (rows, cols, most significant first) is its own spot: not
    within `reach` px of a more significant one kept with no dip of z between them (z stays
    at least `ratio` x the lesser maximum along the segment joining them, sampled every half
    pixel). A spot wider than the matched disc, or flat-topped, has several maxima on one
    plateau of z; two spots side by side have a valley between them."""
    kept = np.ones(rows.shape[0], dtype=np.bool_)
    for i in range(rows.shape[0]):
        for j in range(i):
            if not kept[j]:
                continue
            dy, dx = rows[i] - rows[j], cols[i] - cols[j]
            length = math.sqrt(dy * dy + dx * dx)
            if length > reach:
                continue
            least = z[rows[i], cols[i]]
            steps = int(math.ceil(2 * length))
            for k in range(1, steps):
                t = k / steps
                least = min(least, z[int(round(rows[j] + t * dy)), int(round(cols[j] + t * dx))])
            if least >= ratio * z[rows[i], cols[i]]:
                kept[i] = False
                break
    return kept


@njit(cache=True, nogil=True)
def apart(ys, xs, distance):
    """Whether each point (ys, xs px, in order of precedence) lies farther than `distance` px
    from every earlier point kept: two maxima of one faint spot, refined onto one centre, are
    one spot."""
    kept = np.ones(ys.shape[0], dtype=np.bool_)
    for i in range(ys.shape[0]):
        for j in range(i):
            if kept[j] and (ys[i] - ys[j]) ** 2 + (xs[i] - xs[j]) ** 2 <= distance * distance:
                kept[i] = False
                break
    return kept


@njit(cache=True, nogil=True)
def _quiet_deviation(z, rows, cols, reach):
    """1.4826 x the median absolute deviation of z on every fourth row and column, farther
    than `reach` px from every candidate, and the fraction of those pixels that is left."""
    near = _discs_mask(
        z.shape, rows.astype(np.float64), cols.astype(np.float64), np.full(rows.shape[0], reach)
    )
    quiet = np.empty((z.shape[0] + 3) // 4 * ((z.shape[1] + 3) // 4), dtype=np.float32)
    n = 0
    for r in range(0, z.shape[0], 4):
        for c in range(0, z.shape[1], 4):
            if not near[r, c]:
                quiet[n] = z[r, c]
                n += 1
    if n == 0:
        return 1.0, 0.0
    values = quiet[:n]
    middle = np.median(values)
    return 1.4826 * np.median(np.abs(values - middle)), n / quiet.shape[0]


def noise_scale(z: np.ndarray, rows, cols, reach: float) -> float:
    """The spread of z where no candidate lies within `reach` px, sampled on every fourth row
    and column: 1.4826 x its median absolute deviation (1 where less than a fifth of the frame
    is left to tell). Under the model's noise it is 1; noise correlated between pixels, which
    the gain read off 3 x 3 residuals cannot see, makes it larger."""
    scale, left = _quiet_deviation(
        np.asarray(z, np.float32),
        np.asarray(rows, np.int64),
        np.asarray(cols, np.int64),
        float(reach),
    )
    return float(scale) if left >= 0.2 else 1.0
