"""Conversion of any supported source into the canonical store, a block of frames at a time."""

from __future__ import annotations

from pathlib import Path

from .logs import Progress, logger
from .provenance import record, sha256_file
from .readers.source import FrameSource
from .store import NpyFrames, StoreWriter, link_store


def convert(
    source: FrameSource,
    out_dir,
    parameters: dict | None = None,
    block_frames: int | None = None,
    in_place: bool = True,
) -> dict:
    """Copy `source` into `out_dir`/data.npy + data.json, reading `block_frames` frames at a time.

    The default block is one scan line (for a stream, 256 frames), so memory stays bounded by a
    few lines whatever the scan size. With `in_place`, a source that can be read in place (an
    .npy file of frames in native byte order) is linked, not copied (`store.link_store`).
    Returns the sidecar written.
    """
    n, width = source.n_frames, source.scan_shape[1]
    block = block_frames or (256 if source.stream else width)
    logger.info(
        "converting %s (%s) -> %s: %d frames %s %s",
        source.files[0],
        source.format,
        out_dir,
        n,
        source.frame_shape,
        source.dtype.name,
    )
    sidecar = {
        "format": source.format,
        "stream": source.stream,
        "calibration": source.calibration.as_dict(),
        "sources": [{"path": str(path), "sha256": sha256_file(path)} for path in source.files],
        **record(parameters or {}),
    }
    if in_place and readable_in_place(source):
        return link_store(
            out_dir, source.files[0], source.shape, sidecar, sidecar["sources"][0]["sha256"]
        )
    progress = Progress(f"convert {Path(out_dir).parent.name}", n)
    with StoreWriter(out_dir, source.shape, source.dtype, sidecar) as store:
        for start in range(0, n, block):
            frames = source.read_frames(start, min(start + block, n))
            store.write(start, frames)
            progress.update(len(frames))
    return store.sidecar


def readable_in_place(source: FrameSource) -> bool:
    """Whether the store can read `source`'s file as it is: an .npy file of frames in native
    byte order."""
    return isinstance(source.array, NpyFrames) and source.array.dtype.isnative
