"""Any supported microscope file opened as a lazily read `FrameSource`.

Formats (config name: files):
  npy: .npy; blockfile: NanoMegas ASTAR .blo; mib: Quantum Detectors Merlin .mib (+ .hdr);
  app5: NanoMegas TopSpin .app5; dm: Gatan .dm3/.dm4 (2D, 3D stack or 4D);
  dm-frames: a folder tree of 2D .dm4/.dm3 frames (Gatan In-Situ); hspy: HyperSpy .hspy/.hdf5;
  zspy: HyperSpy .zspy; emd: EMD / py4DSTEM .emd/.h5; empad: EMPAD .xml (+ its .raw);
  tiff: TIFF image or stack; images: a folder of BMP/PNG/TIFF frames (ePattern's BMP series).
Microscope formats are read with rosettasciio (lazily, through dask), block files with
acomflow.blockfile (plain file reads, checked against rosettasciio in the tests); nothing
reads more than the frames asked for, except where a file's own chunks are larger.
"""

from __future__ import annotations

import importlib
import math
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np

from ..blockfile import BlockfileFrames
from ..calibration import Calibration, length_to_nm, reciprocal_pixel
from ..logs import logger
from ..store import NpyFrames
from .sequences import (
    DM_SUFFIXES,
    IMAGE_SUFFIXES,
    FrameStack,
    list_frames,
    load_dm_frame,
    load_image,
)
from .source import FrameSource, resolve_scan_shape

_RSCIIO_PLUGIN = {
    "mib": "quantumdetector",
    "app5": "topspin",
    "dm": "digitalmicrograph",
    "hspy": "hspy",
    "zspy": "zspy",
    "emd": "emd",
    "empad": "empad",
    "tiff": "tiff",
}
EXPECTED = {  # what a file of each format is, for the error that says it is not
    "npy": "a NumPy .npy array of frames",
    "blockfile": "a NanoMegas ASTAR block file (.blo)",
    "mib": "a Quantum Detectors Merlin .mib file (frames with MQ1 headers)",
    "app5": "a NanoMegas TopSpin .app5 file (HDF5)",
    "dm": "a Gatan DigitalMicrograph .dm3/.dm4 image",
    "dm-frames": "a folder of 2D Gatan .dm3/.dm4 frames",
    "hspy": "a HyperSpy .hspy file (HDF5)",
    "zspy": "a HyperSpy .zspy store (zarr)",
    "emd": "an EMD or py4DSTEM file (HDF5)",
    "empad": "an EMPAD .xml header beside the .raw file it names",
    "tiff": "a TIFF image or stack",
    "images": "a folder of BMP, PNG or TIFF frames",
}
_SUFFIX_FORMAT = {
    ".npy": "npy",
    ".blo": "blockfile",
    ".mib": "mib",
    ".app5": "app5",
    ".dm3": "dm",
    ".dm4": "dm",
    ".hspy": "hspy",
    ".hdf5": "hspy",
    ".zspy": "zspy",
    ".emd": "emd",
    ".h5": "emd",
    ".xml": "empad",
    ".tif": "tiff",
    ".tiff": "tiff",
}


def detect_format(path: Path) -> str:
    """The format name for `path` from its suffix, or from the files a folder holds."""
    suffix = path.suffix.lower()
    if suffix in _SUFFIX_FORMAT:
        return _SUFFIX_FORMAT[suffix]
    if path.is_dir():
        suffixes = {p.suffix.lower() for p in path.rglob("*") if p.is_file()}
        if suffixes & DM_SUFFIXES:
            return "dm-frames"
        if suffixes & IMAGE_SUFFIXES:
            return "images"
        raise ValueError(f"{path}: folder holds no .dm3/.dm4 or BMP/PNG/TIFF frames")
    raise ValueError(
        f"{path}: cannot tell the format from the name; set format to one of {sorted(FORMATS)}"
    )


def source_files(path) -> list[Path]:
    """A source file itself, or every file under a source folder (sorted): what a source is made
    of."""
    path = Path(path)
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def _pick_signal(path: Path, signals: list[dict]) -> dict:
    """The dataset to use from a file holding several (e.g. TopSpin's 4D data beside its images)."""
    candidates = [s for s in signals if np.ndim(s["data"]) >= 2]
    if not candidates:
        raise ValueError(f"{path}: no 2D, 3D or 4D image data in the file")
    return max(
        candidates, key=lambda s: (np.ndim(s["data"]) >= 3, int(np.prod(np.shape(s["data"]))))
    )


def _rsciio_calibration(signal: dict) -> Calibration:
    """Scan step, reciprocal pixel size, camera length and beam energy from a rosettasciio dict."""
    axes = signal["axes"]
    tem = signal.get("metadata", {}).get("Acquisition_instrument", {}).get("TEM", {})
    energy = tem.get("beam_energy")
    nav = axes[:-2]
    scan_step = length_to_nm(nav[-1]["scale"], nav[-1].get("units")) if len(nav) == 2 else None
    frame_axis = axes[-1]
    recip = reciprocal_pixel(frame_axis["scale"], frame_axis.get("units"), energy)
    camera_length = tem.get("camera_length")
    return Calibration(
        scan_step_nm=scan_step,
        inv_angstrom_per_px=recip,
        camera_length_mm=None if camera_length is None else float(camera_length),
        beam_energy_kev=None if energy is None else float(energy),
    )


def _companions(path: Path, fmt: str) -> list[Path]:
    """Files read together with `path`: a Merlin header, the raw file an EMPAD XML names."""
    if fmt == "mib":
        header = path.with_suffix(".hdr")
        return [header] if header.is_file() else []
    if fmt == "empad":
        node = ElementTree.parse(path).getroot().find("raw_file")
        return [path.parent / node.get("filename")] if node is not None else []
    return []


def promised_frames(signal: dict, fmt: str) -> int | None:
    """The number of frames a file's header promises, where it says (a Merlin .hdr's "Frames in
    Acquisition"; None elsewhere): rosettasciio reads a truncated Merlin file's complete frames
    without a word."""
    if fmt != "mib":
        return None
    header = signal.get("original_metadata", {}).get("hdr_file", {})
    frames = header.get("Frames in Acquisition (Number)")
    return int(frames) if frames is not None and str(frames).strip().isdigit() else None


def _open_rsciio(path: Path, fmt: str):
    module = importlib.import_module(f"rsciio.{_RSCIIO_PLUGIN[fmt]}")
    signal = _pick_signal(path, module.file_reader(str(path), lazy=True))
    return (
        signal["data"],
        _rsciio_calibration(signal),
        [*source_files(path), *_companions(path, fmt)],
        promised_frames(signal, fmt),
    )


def _open_npy(path: Path, fmt: str):
    return NpyFrames(path), Calibration(), [path], None


def _open_blockfile(path: Path, fmt: str):
    frames = BlockfileFrames(path)
    return frames, frames.calibration(), [path], None


def _open_images(path: Path, fmt: str):
    stack = FrameStack(list_frames(path, IMAGE_SUFFIXES), load_image)
    return stack, Calibration(), stack.files, None


def _open_dm_frames(path: Path, fmt: str):
    stack = FrameStack(list_frames(path, DM_SUFFIXES), load_dm_frame)
    from rsciio.digitalmicrograph import file_reader

    calibration = _rsciio_calibration(file_reader(str(stack.files[0]), lazy=True)[0])
    return stack, calibration, stack.files, None


def _complete_lines(path: Path, array, promised: int, scan_shape, keep: bool):
    """(array, scan shape) of a truncated file's complete scan lines, where `keep`; else the
    error that says what is missing."""
    held = math.prod(array.shape[:-2])
    truncated = (
        f"{path}: truncated: its header promises {promised} frames, the file holds {held} "
        f"complete ones ({path.stat().st_size} bytes)"
    )
    if not keep:
        raise ValueError(f"{truncated}; set keep_complete_frames: true to convert those")
    if scan_shape is None or math.prod(scan_shape) != promised:
        raise ValueError(
            f"{truncated}; keeping its complete frames needs scan_shape, the nominal scan of "
            f"{promised} frames"
        )
    nx = int(scan_shape[1])
    lines = held // nx
    if lines == 0:
        raise ValueError(f"{truncated}, not one complete scan line of {nx} frames")
    logger.warning(
        "%s; keeping its %d complete scan lines of %d, %d frames lost",
        truncated,
        lines,
        int(scan_shape[0]),
        promised - lines * nx,
    )
    frames = array.reshape((held, *array.shape[-2:]))
    return frames[: lines * nx], (lines, nx)


FORMATS = {name: _open_rsciio for name in _RSCIIO_PLUGIN} | {
    "npy": _open_npy,
    "blockfile": _open_blockfile,
    "images": _open_images,
    "dm-frames": _open_dm_frames,
}


def open_source(
    path,
    format: str = "auto",
    scan_shape=None,
    stream: bool = False,
    calibration: dict | None = None,
    keep_complete_frames: bool = False,
) -> FrameSource:
    """Open `path` lazily as a FrameSource; every failure names the file and what is wrong.

    `scan_shape` [ny, nx] is needed only where the file lacks it (flat stacks) or to re-arrange
    a scan; `stream` marks an unsynchronised camera stream (stored flat, realigned later);
    `calibration` entries that are not None override what the file says. A file holding fewer
    frames than its header promises fails, unless `keep_complete_frames`: then its complete
    lines of `scan_shape` (the nominal scan, required) are kept and the loss is logged.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    fmt = detect_format(path) if format == "auto" else format
    if fmt not in FORMATS:
        raise ValueError(f"{path}: unknown format {fmt!r}; supported: {', '.join(sorted(FORMATS))}")
    try:
        array, file_calibration, files, promised = FORMATS[fmt](path, fmt)
    except Exception as error:  # a reader of a damaged file may raise anything
        raise ValueError(
            f"{path}: cannot be read as {fmt}, {EXPECTED[fmt]} ({type(error).__name__}: {error})"
        ) from error
    if len(array.shape) < 2:
        raise ValueError(f"{path}: holds a {len(array.shape)}D array, not image frames")
    if promised is not None and math.prod(array.shape[:-2]) < promised:
        array, scan_shape = _complete_lines(path, array, promised, scan_shape, keep_complete_frames)
    shape = resolve_scan_shape(path, tuple(array.shape[:-2]), scan_shape, stream)
    source = FrameSource(
        array=array,
        scan_shape=shape,
        files=files,
        format=fmt,
        calibration=file_calibration.updated(**(calibration or {})),
        stream=stream,
    )
    source.read_frames(
        source.n_frames - 1, source.n_frames
    )  # a truncated file fails here, not mid-way
    return source
