"""Output files (issue 5): .blo block files against an ASTAR file and rosettasciio, BMP
sequences, TIFF stacks and the .npy store, all written atomically."""

import numpy as np
import pytest
import tifffile
from rsciio.blockfile import file_reader

from acomflow.blockfile import BlockfileFrames, BlockfileWriter, frames_offset, read_header
from acomflow.calibration import Calibration
from acomflow.export.sinks import FrameOutputs, to_uint8
from acomflow.readers.formats import open_source
from acomflow.store import open_store

CALIBRATION = Calibration(
    scan_step_nm=12.8, inv_angstrom_per_px=0.032, camera_length_mm=200.0, beam_energy_kev=200.0
)


def _frames(ny, nx, size, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (ny, nx, size, size)).astype(np.uint8)


def _write_blo(path, frames, calibration=CALIBRATION, vbf=None):
    ny, nx, size, _ = frames.shape
    vbf = np.arange(1.0, ny * nx + 1) if vbf is None else vbf
    with BlockfileWriter(path, (ny, nx), size, calibration) as writer:
        for y in range(ny):
            writer.write(y * nx, frames[y], vbf[y * nx : (y + 1) * nx])


def test_blockfile_round_trip_through_rosettasciio(tmp_path):
    frames = _frames(3, 5, 32)
    _write_blo(tmp_path / "a.blo", frames)
    signal = file_reader(str(tmp_path / "a.blo"))[0]
    assert np.array_equal(signal["data"], frames)
    header = signal["original_metadata"]["blockfile_header"]
    assert (header["NX"], header["NY"], header["DP_SZ"]) == (5, 3, 32)
    assert (
        header["SX"] == header["SY"] == 12.8
        and header["Beam_energy"] == 200000
        and header["Camera_length"] == 2000
    )
    assert (
        header["Data_offset_1"] == 4096 and header["Data_offset_2"] == 4112
    )  # 4096 + 15 rounded up to 16
    assert header["Distortion_N01"] == header["Distortion_N09"] == 1.0
    ours = BlockfileFrames(tmp_path / "a.blo")
    assert np.array_equal(ours[0:3], frames) and np.array_equal(ours[1:2], frames[1:2])
    assert ours.calibration().inv_angstrom_per_px == pytest.approx(
        0.032, rel=1e-4
    )  # SDP is rounded to 0.01 px/cm
    assert np.array_equal(ours.virtual_bright_field().ravel(), np.rint(np.arange(1, 16) * 255 / 15))


def test_frames_offset_rounds_up_to_16_as_astar():
    assert (
        frames_offset(6) == 4112
        and frames_offset(16) == 4112
        and frames_offset(17) == 4128
        and frames_offset(0) == 4096
    )


def test_our_header_matches_an_astar_file_field_by_field(real, tmp_path):
    """Same scan, frame size and calibration as ASTAR's test1.blo: every layout and calibration
    field equal (acquisition time, flags, rotation and distortion are ASTAR's own)."""
    astar = BlockfileFrames(real / "blockfile/test1.blo")
    frames = astar[0:3]
    _write_blo(
        tmp_path / "ours.blo",
        frames,
        astar.calibration(),
        vbf=astar.virtual_bright_field().ravel().astype(float),
    )
    ours, _ = read_header(tmp_path / "ours.blo")
    theirs, _ = read_header(real / "blockfile/test1.blo")
    for field in (
        "ID",
        "MAGIC",
        "Data_offset_1",
        "Data_offset_2",
        "DP_SZ",
        "NX",
        "NY",
        "SX",
        "SY",
        "Beam_energy",
        "SDP",
        "Camera_length",
    ):
        assert ours[field] == theirs[field], field
    mine = BlockfileFrames(tmp_path / "ours.blo")
    assert np.array_equal(mine[0:3], frames)
    assert (tmp_path / "ours.blo").stat().st_size == (real / "blockfile/test1.blo").stat().st_size


def test_our_reader_reads_astar_files_as_rosettasciio(real):
    for name in ("test1.blo", "test2.blo"):
        ours = BlockfileFrames(real / "blockfile" / name)
        signal = file_reader(str(real / "blockfile" / name))[0]
        assert np.array_equal(ours[0 : ours.shape[0]], signal["data"])
        header, note = read_header(real / "blockfile" / name)
        for field, value in signal["original_metadata"]["blockfile_header"].items():
            assert (note if field == "Note" else header[field]) == value, field
    assert np.array_equal(
        BlockfileFrames(real / "blockfile/test1.blo").virtual_bright_field(),
        [[169, 173], [173, 174], [170, 173]],
    )


def test_truncated_and_foreign_blockfiles_give_clear_errors(tmp_path):
    _write_blo(tmp_path / "a.blo", _frames(2, 2, 16))
    data = (tmp_path / "a.blo").read_bytes()
    (tmp_path / "cut.blo").write_bytes(data[:-100])
    with pytest.raises(
        ValueError, match=r"cut\.blo: truncated block file \(\d+ of \d+ bytes; 3 of 4 frames\)"
    ):
        BlockfileFrames(tmp_path / "cut.blo")
    (tmp_path / "x.blo").write_bytes(b"not a block file" * 20)
    with pytest.raises(ValueError, match=r"x\.blo: not a NanoMegas block file"):
        open_source(tmp_path / "x.blo")


def test_a_failed_write_keeps_the_earlier_file(tmp_path):
    _write_blo(tmp_path / "a.blo", _frames(2, 2, 16))
    before = (tmp_path / "a.blo").read_bytes()
    with pytest.raises(RuntimeError), BlockfileWriter(tmp_path / "a.blo", (2, 2), 16) as writer:
        writer.write(0, _frames(1, 2, 16, seed=1)[0], np.ones(2))
        raise RuntimeError("interrupted")
    assert (tmp_path / "a.blo").read_bytes() == before and sorted(
        p.name for p in tmp_path.iterdir()
    ) == ["a.blo"]


def test_every_format_holds_the_same_frames(tmp_path):
    ny, nx, size = 2, 3, 16
    counts = np.random.default_rng(1).uniform(0, 300, (ny, nx, size, size)).astype(np.float32)
    scale = np.full(nx, 0.5)
    with FrameOutputs(
        tmp_path, "scan", ["blo", "bmp", "tiff", "npy"], (ny, nx), size, sidecar={"note": "x"}
    ) as outputs:
        for y in range(ny):
            outputs.write(y * nx, counts[y], scale, counts[y].mean(axis=(1, 2)))
    grey = to_uint8(counts.reshape(-1, size, size), np.full(ny * nx, 0.5)).reshape(counts.shape)
    assert np.array_equal(grey, np.clip(np.rint(counts * 0.5), 0, 255))
    assert np.array_equal(file_reader(str(tmp_path / "scan.blo"))[0]["data"], grey)
    assert np.array_equal(tifffile.imread(tmp_path / "scan.tif"), grey)
    array, sidecar = open_store(tmp_path)
    assert np.array_equal(array, grey) and sidecar["note"] == "x"
    names = sorted(p.name for p in (tmp_path / "bmp").glob("*.bmp"))
    assert names[:2] == ["scan_0000.bmp", "scan_0001.bmp"] and len(names) == 6
    assert (tmp_path / "bmp/provenance.json").is_file()
    bmp = open_source(tmp_path / "bmp", scan_shape=[ny, nx])
    assert np.array_equal(bmp.read_frames(0, 6).reshape(grey.shape), grey)


def test_float32_outputs_keep_counts(tmp_path):
    counts = np.random.default_rng(2).uniform(0, 3000, (1, 2, 8, 8)).astype(np.float32)
    with FrameOutputs(tmp_path, "f", ["tiff", "npy"], (1, 2), 8, dtype="float32") as outputs:
        outputs.write(0, counts[0], np.ones(2), np.ones(2))
    assert np.array_equal(tifffile.imread(tmp_path / "f.tif"), counts) and np.array_equal(
        open_store(tmp_path)[0], counts
    )
