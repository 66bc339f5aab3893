"""Realignment of a stored stream (1, n, ky, kx) into a scan-ordered store (ny, nx, ky, kx).

A plan gives the stream frame each scan position takes (-1: none, a zero frame); the store is
then written one scan line at a time, so memory stays bounded by a line's frames. Modes:

- "blanks" (default, method.md §2.2): blanked line-end frames found as those without a direct
  beam (`stream.beam_signal`), lines cut between them, each position taking the frame
  `stream.line_frames` chooses;
- "trim": frames first_frame .. first_frame + ny nx - 1 in order (the macros' "move non-scan
  data out");
- "offset": the stream shifted by sync_offset frames (> 0 skips frames, < 0 pads zero frames).

`realignment.json` records the frames per line, the frames dropped and why, and the positions
filled from a neighbouring frame; `realignment.png` shows the direct beam's signal of every
frame with the blanked ones, the frames per line, and the virtual bright field (a central disc
of a tenth of the frame) before (the stream read in order) and after realignment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..logs import Progress, logger
from ..provenance import record, write_json
from ..store import DATA_NAME, NpyFrames, StoreWriter, read_sidecar, store_frames
from .stream import (
    BEAM_SIGNIFICANCE,
    beam_box,
    beam_signal,
    blank_frames,
    cut_lines,
    line_frames,
)

REALIGN_MODES = ("blanks", "trim", "offset")


def frame_sums(
    frames: NpyFrames, block: int = 256, bright_radius: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum (float64 counts) of every frame, its virtual bright field (the sum inside a disc of
    `bright_radius` x the frame size around the frame centre) and its direct beam's signal
    (`stream.beam_signal`), read `block` frames at a time."""
    rows, cols = frames.shape[1:]
    yy, xx = np.indices((rows, cols))
    disc = np.hypot(yy - (rows - 1) / 2.0, xx - (cols - 1) / 2.0) <= bright_radius * min(rows, cols)
    box = beam_box((rows, cols))
    sums, bright, beam = (np.empty(frames.shape[0]) for _ in range(3))
    progress = Progress("frame sums", frames.shape[0])
    for start in range(0, frames.shape[0], block):
        chunk = frames[start : start + block]
        done = slice(start, start + len(chunk))
        sums[done] = chunk.reshape(len(chunk), -1).sum(axis=1, dtype=np.float64)
        bright[done] = chunk[:, disc].sum(axis=1, dtype=np.float64)
        beam[done] = [beam_signal(frame, box) for frame in chunk]
        progress.update(len(chunk))
    return sums, bright, beam


def plan_blanks(beam: np.ndarray, ny: int, nx: int) -> tuple[np.ndarray, dict]:
    """(ny, nx) stream frame per position from the blanked frames (no direct beam: `beam` the
    frames' `stream.beam_signal`), and the report."""
    blank = blank_frames(beam)
    cut = cut_lines(blank, ny, nx)
    plan, lines = np.empty((ny, nx), dtype=np.int64), []
    for y, (start, stop) in enumerate(cut["lines"]):
        chosen, filled = line_frames(stop - start, nx)
        plan[y] = start + chosen
        lines.append(
            {
                "line": y,
                "first_frame": int(start),
                "frames": int(stop - start),
                "frames_used": int(np.unique(chosen).size),
                "positions_filled": np.flatnonzero(filled).tolist(),
            }
        )
    report = {
        "blank": blank.tolist(),
        "lines": lines,
        "dropped": {
            "blank": int(blank.sum()),
            "before_scan": int(cut["before"][1] - cut["before"][0]),
            "after_scan": int(cut["after"][1] - cut["after"][0]),
            "surplus_in_lines": sum(line["frames"] - line["frames_used"] for line in lines),
        },
        "positions_filled": sum(len(line["positions_filled"]) for line in lines),
    }
    return plan, report


def plan_shift(n: int, ny: int, nx: int, first: int) -> tuple[np.ndarray, dict]:
    """(ny, nx) stream frame per position when position k is frame first + k (-1 outside the
    stream, a zero frame), and the report."""
    plan = first + np.arange(ny * nx).reshape(ny, nx)
    plan[(plan < 0) | (plan >= n)] = -1
    used = plan[plan >= 0]
    lines = []
    for y, row in enumerate(plan):
        held = row[row >= 0]
        lines.append(
            {
                "line": y,
                "first_frame": int(held.min()) if held.size else -1,
                "frames": int(held.size),
            }
        )
    report = {
        "lines": lines,
        "positions_filled": int((plan < 0).sum()),
        "dropped": {
            "before_scan": int(used.min()) if used.size else n,
            "after_scan": int(n - 1 - used.max()) if used.size else 0,
        },
    }
    return plan, report


def realign_stream(
    store_dir,
    out_dir,
    scan_shape=None,
    mode: str = "blanks",
    first_frame: int = 0,
    sync_offset: int = 0,
    block_frames: int = 256,
) -> dict:
    """Realign the stream stored in `store_dir` onto its nominal scan (or `scan_shape`) and write
    the store `out_dir` (data.npy, data.json) with realignment.json and .png; returns the report."""
    store_dir, out_dir = Path(store_dir), Path(out_dir)
    sidecar = read_sidecar(store_dir)
    ny, nx = scan_shape or sidecar.get("nominal_scan_shape") or (None, None)
    if not sidecar.get("stream") or ny is None:
        raise ValueError(
            f"{store_dir}: not a stream with a nominal scan shape (sidecar 'stream', "
            f"'nominal_scan_shape')"
        )
    if mode not in REALIGN_MODES:
        raise ValueError(f"realignment mode {mode!r} is not one of {REALIGN_MODES}")
    frames = store_frames(store_dir, flat=True)
    n = frames.shape[0]
    sums, bright, beam = frame_sums(frames, block_frames)
    try:
        if mode == "blanks":
            plan, report = plan_blanks(beam, ny, nx)
        else:
            plan, report = plan_shift(n, ny, nx, first_frame if mode == "trim" else sync_offset)
            if mode == "trim" and (plan < 0).any():
                raise ValueError(
                    f"{ny} x {nx} frames from frame {first_frame} run past the stream's end"
                )
    except ValueError as error:
        raise ValueError(f"{store_dir / DATA_NAME}: stream of {n} frames: {error}") from None

    settings = {
        "scan_shape": [ny, nx],
        "mode": mode,
        "first_frame": first_frame,
        "sync_offset": sync_offset,
    }
    out_sidecar = {
        key: sidecar[key] for key in ("format", "calibration", "sources") if key in sidecar
    }
    out_sidecar.update(
        stream=False,
        realigned_from=str(store_dir / DATA_NAME),
        **record(settings, inputs=[store_dir / "data.json"]),
    )
    progress = Progress(f"realign {store_dir}", ny)
    with StoreWriter(out_dir, (ny, nx, *frames.shape[1:]), frames.dtype, out_sidecar) as store:
        for y in range(ny):
            used = plan[y][plan[y] >= 0]
            line = np.zeros((nx, *frames.shape[1:]), dtype=frames.dtype)
            if used.size:
                first = int(used.min())
                block = frames[first : int(used.max()) + 1]
                line[plan[y] >= 0] = block[used - first]
            store.write(y * nx, line)
            progress.update(1)
    report = {
        "frames": n,
        "scan_shape": [ny, nx],
        "mode": mode,
        **report,
        "plan": plan.tolist(),
        "frame_sums": sums.tolist(),
        "beam_signal": beam.tolist(),
        "bright_field": bright.tolist(),
    }
    write_json(out_dir / "realignment.json", report)
    plot_realignment(report, out_dir / "realignment.png")
    logger.info(
        "realigned %d frames onto %dx%d (%s): dropped %s, %d positions filled",
        n,
        ny,
        nx,
        mode,
        report["dropped"],
        report["positions_filled"],
    )
    return report


def plot_realignment(report: dict, path) -> None:
    """The direct beam's signal of every frame with the blanked frames, frames per line, and the
    virtual bright field per position before (the stream read in order) and after realignment."""
    signal, plan = np.maximum(np.asarray(report["beam_signal"]), 0.1), np.asarray(report["plan"])
    bright = np.asarray(report["bright_field"])
    ny, nx = plan.shape
    naive = np.full(ny * nx, np.nan)
    naive[: min(bright.size, ny * nx)] = bright[: ny * nx]
    after = np.where(plan >= 0, bright[np.clip(plan, 0, None)], np.nan)
    figure, axes = plots.subplots(2, 2, (11, 7))
    axes[0, 0].semilogy(signal, lw=0.6, color="0.3")
    if "blank" in report:
        blank = np.flatnonzero(report["blank"])
        axes[0, 0].semilogy(blank, signal[blank], ".", color="tab:red", ms=3, label="blanked")
        axes[0, 0].axhline(BEAM_SIGNIFICANCE, color="tab:red", lw=0.8, ls=":", label="threshold")
        axes[0, 0].legend()
    axes[0, 0].set(
        xlabel="stream frame", ylabel="direct beam signal (noise sigmas)", title="Stream"
    )
    axes[0, 1].bar(np.arange(ny), [line["frames"] for line in report["lines"]], color="tab:blue")
    axes[0, 1].axhline(nx, color="k", lw=0.8, ls="--", label=f"nx = {nx}")
    axes[0, 1].set(xlabel="scan line", ylabel="frames recorded", title="Frames per line")
    axes[0, 1].legend()
    for ax, image, title in (
        (axes[1, 0], naive.reshape(ny, nx), "Before: stream in order"),
        (axes[1, 1], after, "After realignment"),
    ):
        plots.scan_image(figure, ax, image, title, "virtual bright field (counts)", cmap="gray")
    plots.save(figure, path)
