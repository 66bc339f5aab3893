"""NanoMegas ASTAR block files (.blo): reading and streaming writing.

Layout (little-endian), as in ASTAR's own files (checked field by field against an ASTAR file)
and rosettasciio's reader:
  0     240-byte header (`HEADER_DTYPE`): "IMGBLO", magic 0x0102, offset of the virtual bright
        field (4096), offset of the frames, flags, frame size, scan size NX x NY, scan step SX, SY
        (nm), beam energy (V), SDP (100 x detector px per cm), camera length (10 x mm), acquisition
        time (days since 1899-12-30), centring and a 14-term distortion (N01 and N09 are the
        diagonal; 1.0 = none);
  240   a Latin-1 note, zero padded;
  4096  the virtual bright field, NY x NX uint8, row-major;
  then, at the next multiple of 16 (ASTAR rounds up; HyperSpy's writer adds offset % 16), every
        frame as a record: bytes AA 55, the frame index (u32), DP_SZ x DP_SZ uint8 pixels.
Scan positions are row-major: frame index = y * NX + x.
"""

from __future__ import annotations

import datetime
import math
import os
from pathlib import Path

import numpy as np

from .calibration import Calibration, electron_wavelength_angstrom
from .provenance import atomic_path

HEADER_DTYPE = np.dtype(
    [
        ("ID", "S6"),
        ("MAGIC", "<u2"),
        ("Data_offset_1", "<u4"),
        ("Data_offset_2", "<u4"),
        ("UNKNOWN1", "<u4"),
        ("DP_SZ", "<u2"),
        ("DP_rotation", "<u2"),
        ("NX", "<u2"),
        ("NY", "<u2"),
        ("Scan_rotation", "<u2"),
        ("SX", "<f8"),
        ("SY", "<f8"),
        ("Beam_energy", "<u4"),
        ("SDP", "<u2"),
        ("Camera_length", "<u4"),
        ("Acquisition_time", "<f8"),
    ]
    + [(f"Centering_N{i}", "<f8") for i in range(8)]
    + [(f"Distortion_N{i:02d}", "<f8") for i in range(14)]
)
MAGIC = 0x0102
VBF_OFFSET = 4096
FRAME_MAGIC = b"\xaa\x55"
ASTAR_FLAGS = 131135  # UNKNOWN1 of ASTAR's own files
_EPOCH = datetime.datetime(1899, 12, 30, tzinfo=datetime.UTC)


def frames_offset(n_positions: int) -> int:
    """Byte offset of the first frame record: after the virtual bright field, rounded up to 16."""
    return 16 * math.ceil((VBF_OFFSET + n_positions) / 16)


def record_dtype(size: int) -> np.dtype:
    """One frame record: the AA 55 marker, the frame index, the size x size uint8 frame."""
    return np.dtype([("marker", "S2"), ("index", "<u4"), ("frame", "u1", (size, size))])


def astar_reciprocal(value: float, energy_kev: float, camera_cm: float) -> float:
    """ASTAR's pixel calibration, which is its own inverse: 1/Å per px from px per cm on the
    screen, or px per cm from 1/Å per px: 1 / (value x wavelength (Å) x camera length (cm))."""
    return 1.0 / (value * electron_wavelength_angstrom(energy_kev) * camera_cm)


def sdp_and_camera_length(calibration: Calibration, size: int, input_size: int) -> tuple[int, int]:
    """(SDP, Camera_length) header fields for frames of `size` px resampled from `input_size` px.

    ASTAR computes the reciprocal pixel size as (1 cm / px per cm) / (wavelength x camera length).
    With a known reciprocal calibration, the camera length is kept (100 cm if unknown) and SDP
    chosen so that this gives back the reciprocal pixel size; without one, both are 0.
    """
    if calibration.inv_angstrom_per_px is None or calibration.beam_energy_kev is None:
        return 0, int(round(10 * (calibration.camera_length_mm or 0)))
    camera_cm = (calibration.camera_length_mm or 1000.0) / 10.0
    inv_angstrom_per_px = calibration.inv_angstrom_per_px * input_size / size
    px_per_cm = astar_reciprocal(inv_angstrom_per_px, calibration.beam_energy_kev, camera_cm)
    sdp = int(round(100 * px_per_cm))
    if not 0 < sdp < 65536:
        raise ValueError(
            f"blockfile: {px_per_cm:.4g} px/cm does not fit the header's SDP field (0-655 px/cm); "
            "set a camera length that brings it into range"
        )
    return sdp, int(round(camera_cm * 100))


def make_header(
    scan_shape,
    size: int,
    calibration: Calibration,
    input_size: int | None = None,
    note: str = "",
    acquired: datetime.datetime | None = None,
) -> tuple[np.ndarray, bytes]:
    """The header record and note bytes for a (ny, nx) scan of size x size frames."""
    ny, nx = scan_shape
    if not (0 < nx < 65536 and 0 < ny < 65536 and 0 < size < 65536):
        raise ValueError(
            f"blockfile: scan {ny} x {nx} or frame size {size} does not fit the header's 16-bit "
            f"fields"
        )
    header = np.zeros((), HEADER_DTYPE)
    sdp, camera_length = sdp_and_camera_length(calibration, size, input_size or size)
    step = calibration.scan_step_nm or 1.0
    acquired = acquired or datetime.datetime.fromtimestamp(0, datetime.UTC)
    values = {
        "ID": b"IMGBLO",
        "MAGIC": MAGIC,
        "Data_offset_1": VBF_OFFSET,
        "Data_offset_2": frames_offset(nx * ny),
        "UNKNOWN1": ASTAR_FLAGS,
        "DP_SZ": size,
        "NX": nx,
        "NY": ny,
        "SX": step,
        "SY": step,
        "Beam_energy": int(round(1e3 * (calibration.beam_energy_kev or 0))),
        "SDP": sdp,
        "Camera_length": camera_length,
        "Acquisition_time": (acquired - _EPOCH) / datetime.timedelta(days=1),
        "Distortion_N01": 1.0,
        "Distortion_N09": 1.0,
    }
    for name, value in values.items():
        header[name] = value
    note_bytes = note.encode("latin-1")[: VBF_OFFSET - HEADER_DTYPE.itemsize]
    return header, note_bytes


class BlockfileWriter:
    """Writes a .blo file frame block by frame block under a temporary name, published on close.

    Frames are uint8 size x size; the virtual bright field (one float per frame, any units) is
    collected as frames arrive and stored, scaled to 0-255 by its maximum, when the file closes.
    Use as a context manager; on error nothing is published and an earlier file is kept.
    """

    def __init__(
        self,
        path,
        scan_shape,
        size: int,
        calibration: Calibration = Calibration(),
        input_size: int | None = None,
        note: str = "",
    ):
        self.path, self.size = Path(path), int(size)
        self.scan_shape = tuple(int(n) for n in scan_shape)
        self.header, self.note = make_header(
            self.scan_shape, self.size, calibration, input_size, note
        )
        self.vbf = np.zeros(math.prod(self.scan_shape))
        self._record = record_dtype(self.size)
        self._atomic = atomic_path(self.path)

    def __enter__(self) -> BlockfileWriter:
        self._tmp = self._atomic.__enter__()
        self._handle = open(self._tmp, "wb")
        self._handle.write(self.header.tobytes() + self.note)
        self._handle.truncate(
            int(self.header["Data_offset_2"]) + self._record.itemsize * self.vbf.size
        )
        return self

    def write(self, start: int, frames: np.ndarray, vbf: np.ndarray) -> None:
        """Store uint8 `frames` (n, size, size) at flat scan index `start` with their bright-field
        values."""
        frames = np.asarray(frames)
        if frames.dtype != np.uint8 or frames.shape[1:] != (self.size, self.size):
            raise ValueError(
                f"{self.path}: frames must be uint8 {self.size} x {self.size}, got {frames.dtype} "
                f"{frames.shape[1:]}"
            )
        records = np.zeros(len(frames), self._record)
        records["marker"] = FRAME_MAGIC
        records["index"] = np.arange(start, start + len(frames))
        records["frame"] = frames
        self.vbf[start : start + len(frames)] = vbf
        self._handle.seek(int(self.header["Data_offset_2"]) + start * self._record.itemsize)
        self._handle.write(records.tobytes())

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            top = self.vbf.max() if self.vbf.size else 0.0
            scaled = (
                np.zeros(self.vbf.size, np.uint8)
                if top <= 0
                else np.clip(np.rint(self.vbf * 255.0 / top), 0, 255)
            )
            self._handle.seek(VBF_OFFSET)
            self._handle.write(scaled.astype(np.uint8).tobytes())
        self._handle.close()
        return self._atomic.__exit__(exc_type, exc, tb)


def read_header(path) -> tuple[dict, str]:
    """The header fields (as Python numbers) and note of a .blo file, with a clear error if it is
    not one."""
    path = Path(path)
    with open(path, "rb") as handle:
        raw = handle.read(VBF_OFFSET)
    if len(raw) < HEADER_DTYPE.itemsize or raw[:6] != b"IMGBLO":
        raise ValueError(f"{path}: not a NanoMegas block file (no IMGBLO header)")
    record = np.frombuffer(raw, HEADER_DTYPE, count=1)[0]
    header = {name: record[name].item() for name in HEADER_DTYPE.names}
    note = raw[HEADER_DTYPE.itemsize : header["Data_offset_1"]].decode("latin-1").strip("\x00")
    return header, note


class BlockfileFrames:
    """A .blo file's frames as a lazily read (NY, NX, DP_SZ, DP_SZ) uint8 array-like.

    Slicing the first axis reads those scan lines with plain file reads. Opening checks the
    file holds every frame the header announces and names the file when it does not.
    """

    dtype = np.dtype(np.uint8)

    def __init__(self, path):
        self.path = Path(path)
        self.header, self.note = read_header(self.path)
        h = self.header
        self.shape = (h["NY"], h["NX"], h["DP_SZ"], h["DP_SZ"])
        self.ndim = 4
        self._record = record_dtype(h["DP_SZ"])
        expected = h["Data_offset_2"] + self._record.itemsize * h["NX"] * h["NY"]
        size = os.path.getsize(self.path)
        if size < expected:
            raise ValueError(
                f"{self.path}: truncated block file ({size} of {expected} bytes; "
                f"{(size - h['Data_offset_2']) // self._record.itemsize} of {h['NX'] * h['NY']} "
                f"frames)"
            )

    def __getitem__(self, index: slice) -> np.ndarray:
        start, stop, step = index.indices(self.shape[0])
        if step != 1:
            raise IndexError("BlockfileFrames supports contiguous slices of scan lines only")
        per_line = self.shape[1]
        count = max(stop - start, 0) * per_line
        records = np.fromfile(
            self.path,
            self._record,
            count,
            offset=self.header["Data_offset_2"] + start * per_line * self._record.itemsize,
        )
        if (records["marker"] != FRAME_MAGIC).any():
            raise ValueError(
                f"{self.path}: frame records of lines {start}-{stop - 1} lack the AA 55 marker"
            )
        return records["frame"].reshape(-1, *self.shape[1:])

    def virtual_bright_field(self) -> np.ndarray:
        """The stored (NY, NX) uint8 virtual bright field."""
        ny, nx = self.shape[:2]
        return np.fromfile(
            self.path, np.uint8, ny * nx, offset=self.header["Data_offset_1"]
        ).reshape(ny, nx)

    def calibration(self) -> Calibration:
        """Scan step (nm), beam energy (keV), camera length (mm) and, from SDP and the camera
        length, the reciprocal pixel size (1/Å per px), where the header gives them."""
        h = self.header
        energy = h["Beam_energy"] / 1e3 if h["Beam_energy"] else None
        camera_mm = h["Camera_length"] / 10.0 if h["Camera_length"] else None
        recip = None
        if h["SDP"] and camera_mm and energy:
            recip = astar_reciprocal(h["SDP"] / 100.0, energy, camera_mm / 10.0)
        return Calibration(
            scan_step_nm=h["SX"] or None,
            inv_angstrom_per_px=recip,
            camera_length_mm=camera_mm,
            beam_energy_kev=energy,
        )
