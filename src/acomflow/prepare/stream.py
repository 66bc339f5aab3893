"""Realignment of an unsynchronised camera stream onto the scan grid (method.md §2.2).

A camera that is not synchronised with the scan records one flat stream: a few frames before
the scan, then per scan line a few blanked flyback frames (beam off) and nx +- a few frames spread
evenly in time over the line, then blanked frames and frames after the scan. These functions
work on per-frame measures (the direct beam's signal) and frame counts; `realign.py` does the
I/O.
"""

from __future__ import annotations

import numpy as np

from ..kernels import box_means

BEAM_SIGNIFICANCE = 8.0  # a frame with a beam shows a disc this many noise sigmas above its level
LEVEL_STEP = 4  # a frame's level: the median of the squares' means every box / LEVEL_STEP px
LARGEST_COUNT = 1 << 20  # whole counts up to this are ranked by their histogram


def beam_box(frame_shape) -> int:
    """Side (px, odd) of the box a direct beam is looked for with: a sixteenth of the frame's
    smaller side, at least 3 px (a beam's disc is a few to a few tens of px wide)."""
    return max(3, min(frame_shape) // 16) | 1


def _ranked_counts(values: np.ndarray, counts: np.ndarray, qs) -> list[float]:
    """np.quantile(.., q) (linear) of the data that hold counts[i] times values[i] (values
    increasing), for each q of qs."""
    through = np.cumsum(counts)
    out = []
    for q in qs:
        position = (through[-1] - 1) * q
        lower = int(np.floor(position))
        below, above = values[np.searchsorted(through, [lower, lower + 1], side="right")]
        t = position - lower  # interpolated from the nearer end, as numpy does
        out.append(
            float(below + (above - below) * t if t < 0.5 else above - (above - below) * (1 - t))
        )
    return out


def pixel_spread(frame: np.ndarray) -> tuple[float, float, float]:
    """(median, 84.13th percentile, median absolute deviation) of a frame's pixels, as numpy's
    median and percentile give them; a frame of whole counts (most cameras) is ranked by its
    histogram, several times faster than numpy's partitions."""
    frame = np.asarray(frame)
    lowest, highest = float(frame.min()), float(frame.max())
    if frame.dtype.kind == "u" and highest < LARGEST_COUNT:
        counts, lowest = np.bincount(frame.ravel()), 0
    elif highest - lowest < LARGEST_COUNT and np.array_equal(frame, np.floor(frame)):
        counts = np.bincount((frame - lowest).astype(np.intp).ravel())
    else:
        frame = frame.astype(np.float32)
        middle, upper = (float(v) for v in np.percentile(frame, [50, 84.13]))
        return middle, upper, float(np.median(np.abs(frame - middle)))
    values = np.flatnonzero(counts)
    counts = counts[values]
    values = values + lowest
    middle, upper = _ranked_counts(values, counts, (0.5, 84.13 / 100))
    deviations = np.abs(values - middle)
    order = np.argsort(deviations, kind="stable")
    (spread,) = _ranked_counts(deviations[order], counts[order], (0.5,))
    return middle, upper, spread


def beam_signal(frame: np.ndarray, box: int) -> float:
    """How clearly a frame shows a direct beam: the brightest mean of a `box` x `box` square
    inside the frame above the level (the median of those means, on squares every box /
    LEVEL_STEP px), in units of such a mean's noise (the pixels' robust sigma, from their median
    absolute deviation or, where the camera clips its noise at 0, from the spread of the upper
    half, over `box`); 0 for a constant frame.

    A blanked frame holds the camera's dark level (a pedestal and read noise, or nothing): its
    brightest box lies a few sigma above the level. A frame with the beam on holds the beam's
    disc, tens to thousands of sigma above it whatever the dose and the sample (vacuum, a thick
    region that scatters most of the beam away), while the frame sum alone cannot tell a thick
    region at low dose from a blank over a pedestal.
    """
    frame = np.asarray(frame)
    box = min(box, *frame.shape)
    means = box_means(frame, box)
    step = max(1, box // LEVEL_STEP)
    level = float(np.median(means[::step, ::step]))
    peak = float(means.max()) - level
    if peak <= 0:
        return 0.0
    middle, upper, deviation = pixel_spread(frame)
    # the upper half's spread holds where the camera clips its noise at 0 (most pixels 0, no
    # absolute deviation); whole counts spread at least sqrt(1/6)
    sigma = max(1.4826 * deviation, upper - middle, np.sqrt(1 / 6))
    return peak / (sigma / box)


def blank_frames(signals: np.ndarray) -> np.ndarray:
    """Which frames were recorded with the beam blanked: those whose `beam_signal` stays below
    BEAM_SIGNIFICANCE."""
    return np.asarray(signals, dtype=np.float64) < BEAM_SIGNIFICANCE


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of every run of True in a bool array."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return [
        (int(a), int(b)) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))
    ]


def cut_lines(blank: np.ndarray, n_lines: int, nx: int) -> dict:
    """Scan lines of a stream from its blank-frame flags.

    Lines are the runs of beam-on frames between two blanked runs; frames before the first
    blanked run (beam parked before the scan) and after the last one are not scan frames.
    Returns {"lines": [(start, stop)] * n_lines, "before": (0, stop), "after": (start, n)}.
    A stream whose runs do not make `n_lines` lines of about nx frames raises ValueError naming
    what was found.
    """
    blank = np.asarray(blank, dtype=bool)
    n = blank.size
    runs = _runs(~blank)
    before = runs.pop(0) if runs and runs[0][0] == 0 else (0, 0)
    after = runs.pop() if runs and runs[-1][1] == n else (n, n)
    counts = [int(stop - start) for start, stop in runs]
    odd = [k for k, count in enumerate(counts) if not nx / 2 <= count <= 2 * nx]
    if len(runs) != n_lines or odd:
        found = f"{len(runs)} beam-on runs between blanked frames (frames per run: {counts[:20]}"
        found += ", ...)" if len(counts) > 20 else ")"
        raise ValueError(
            f"no {n_lines} lines of about {nx} frames: found {found}"
            + (f"; runs {odd[:10]} are not within nx/2..2nx" if odd else "")
        )
    return {"lines": runs, "before": before, "after": after}


def line_frames(count: int, nx: int) -> tuple[np.ndarray, np.ndarray]:
    """The frame (0-based within its line) shown at each of the nx scan positions, and which
    positions no frame was recorded for.

    The line's `count` frames are spread evenly in time: frame k is centred at (k + 0.5) / count
    of the line and shows position floor((k + 0.5) / count * nx). Each position takes, of the
    frames showing it, the one centred nearest the position's own time (x + 0.5) / nx; a position
    no frame shows (a line with fewer than nx frames) takes the frame nearest in time (`filled`).
    """
    times = (np.arange(count) + 0.5) / count
    shown = np.minimum((times * nx).astype(np.int64), nx - 1)
    wanted = (np.arange(nx) + 0.5) / nx
    nearest = np.minimum(
        (wanted * count).astype(np.int64), count - 1
    )  # frame centred nearest in time
    frames = nearest.copy()
    filled = np.ones(nx, dtype=bool)
    for x in range(nx):
        candidates = np.flatnonzero(shown == x)
        if candidates.size:
            frames[x] = candidates[np.argmin(np.abs(times[candidates] - wanted[x]))]
            filled[x] = False
    return frames, filled
