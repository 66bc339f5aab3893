"""Realignment of a stored stream (1, n, ky, kx) into a scan-ordered store (ny, nx, ky, kx).

Two passes over the stream with bounded memory: the per-frame sums (blocks of frames), then one
scan line at a time, each position taking the frame `stream.line_frames` chooses. The report
records the frames per line, the frames dropped and why, and the positions filled from a
neighbouring frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..logs import Progress, logger
from ..provenance import record, write_json
from ..store import DATA_NAME, NpyFrames, StoreWriter, read_sidecar
from .stream import blank_frames, cut_lines, line_frames

_MODULES = ["acomflow.prepare"]


def frame_sums(frames: NpyFrames, block: int = 256) -> np.ndarray:
    """Sum (float64 counts) of every frame, read `block` frames at a time."""
    sums = np.empty(frames.shape[0])
    progress = Progress("frame sums", frames.shape[0])
    for start in range(0, frames.shape[0], block):
        chunk = frames[start : start + block]
        sums[start : start + len(chunk)] = chunk.reshape(len(chunk), -1).sum(axis=1, dtype=np.float64)
        progress.update(len(chunk))
    return sums


def realign_stream(store_dir, out_dir, scan_shape=None, block_frames: int = 256) -> dict:
    """Realign the stream stored in `store_dir` onto its nominal scan (or `scan_shape`) and write
    the store `out_dir` (data.npy, data.json) and `out_dir`/realignment.json; returns the report."""
    store_dir, out_dir = Path(store_dir), Path(out_dir)
    sidecar = read_sidecar(store_dir)
    ny, nx = scan_shape or sidecar.get("nominal_scan_shape") or (None, None)
    if not sidecar.get("stream") or ny is None:
        raise ValueError(f"{store_dir}: not a stream with a nominal scan shape (sidecar 'stream', 'nominal_scan_shape')")
    frames = NpyFrames(store_dir / DATA_NAME, flat=True)
    sums = frame_sums(frames, block_frames)
    blank = blank_frames(sums, window=2 * nx + 1)
    try:
        cut = cut_lines(blank, ny, nx)
    except ValueError as error:
        raise ValueError(f"{store_dir / DATA_NAME}: {error}") from None

    lines, filled = [], 0
    settings = {"scan_shape": [ny, nx], "block_frames": block_frames}
    out_sidecar = {key: sidecar[key] for key in ("format", "calibration", "sources") if key in sidecar}
    out_sidecar.update(stream=False, realigned_from=str(store_dir / DATA_NAME),
                       **record(settings, inputs=[store_dir / "data.json"], modules=_MODULES))
    progress = Progress(f"realign {store_dir}", ny)
    with StoreWriter(out_dir, (ny, nx, *frames.shape[1:]), frames.dtype, out_sidecar) as store:
        for y, (start, stop) in enumerate(cut["lines"]):
            chosen, empty = line_frames(stop - start, nx)
            store.write(y * nx, frames[start:stop][chosen])
            lines.append({"line": y, "first_frame": int(start), "frames": int(stop - start),
                          "frames_used": int(np.unique(chosen).size), "positions_filled": np.flatnonzero(empty).tolist()})
            filled += int(empty.sum())
            progress.update(1)
    n = frames.shape[0]
    report = {
        "frames": n, "scan_shape": [ny, nx], "blank_frames": int(blank.sum()),
        "dropped": {"blank": int(blank.sum()), "before_scan": int(cut["before"][1] - cut["before"][0]),
                    "after_scan": int(cut["after"][1] - cut["after"][0]),
                    "surplus_in_lines": int(sum(line["frames"] - line["frames_used"] for line in lines))},
        "positions_filled": filled, "lines": lines, "frame_sums": sums.tolist(), "blank": blank.tolist(),
    }
    write_json(out_dir / "realignment.json", report)
    logger.info("realigned %d frames onto %dx%d: %d blank, %d before and %d after the scan, %d positions filled",
                n, ny, nx, report["dropped"]["blank"], report["dropped"]["before_scan"], report["dropped"]["after_scan"], filled)
    return report
