"""Realignment of an unsynchronised camera stream onto the scan grid (method.md §2.2).

A camera that is not synchronised with the scan records one flat stream: a few frames before
the scan, then per scan line a few blanked flyback frames (beam off) and nx +- a few frames spread
evenly in time over the line, then blanked frames and frames after the scan. These functions
work on per-frame sums (counts) and frame counts; `realign.py` does the I/O.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def blank_frames(sums: np.ndarray, window: int) -> np.ndarray:
    """Which frames were recorded with the beam blanked, from their sums (counts).

    A frame is blank when its log sum lies below the midpoint between the darkest frame's and the
    running median (over `window` frames) of the stream's: a blanked frame holds only the dark
    level, while a dark region of the sample (thick, or a vacuum hole around a parked beam) and
    slow dose changes move the sum by a factor of a few, not by orders of magnitude.
    """
    level = np.log1p(np.maximum(np.asarray(sums, dtype=np.float64), 0.0))
    running = ndimage.median_filter(level, size=max(1, window) | 1, mode="reflect")
    return level < (level.min() + running) / 2.0


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
