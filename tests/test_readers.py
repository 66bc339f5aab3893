"""Readers on the real microscope files in ../shared: same values as rosettasciio, calibration,
image sequences, frame trees, and clear errors on bad input."""

import importlib
import shutil

import numpy as np
import pytest
from PIL import Image

from acomflow.readers.formats import detect_format, open_source
from acomflow.readers.sequences import natural_key


def eager(plugin, path):
    """The 4D (or largest) dataset of a file, read eagerly by rosettasciio, as frames."""
    signals = importlib.import_module(f"rsciio.{plugin}").file_reader(str(path))
    data = max(
        (np.asarray(s["data"]) for s in signals if np.ndim(s["data"]) >= 3),
        key=np.size,
        default=np.asarray(signals[0]["data"]),
    )
    return data.reshape(-1, *data.shape[-2:])


CASES = [
    # file, plugin, scan_shape given, expected (ny, nx, ky, kx), dtype
    ("blockfile/test1.blo", "blockfile", None, (3, 2, 144, 144), "uint8"),
    ("blockfile/test2.blo", "blockfile", None, (2, 3, 5, 5), "uint8"),
    ("mib/001_4x2_6bit.mib", "quantumdetector", None, (2, 4, 256, 256), "uint8"),
    ("mib/002_4x2_6bit_roi128.mib", "quantumdetector", None, (2, 4, 128, 256), "uint8"),
    (
        "mib/Single_9_Frame_CounterDepth_12_Rows_256.mib",
        "quantumdetector",
        [3, 3],
        (3, 3, 256, 256),
        "uint16",
    ),
    (
        "mib/Quad_9_Frame_CounterDepth_6_Rows_256.mib",
        "quantumdetector",
        [9, 1],
        (9, 1, 512, 512),
        "uint8",
    ),
    ("app5/topspin_test_A.app5", "topspin", None, (2, 5, 14, 12), "float32"),
    ("app5/topspin_test_B.app5", "topspin", None, (3, 7, 31, 26), "float32"),
    ("app5/topspin_test_C.app5", "topspin", None, (3, 5, 14, 12), "float32"),
    ("dm/test_diffraction_pattern.dm3", "digitalmicrograph", None, (1, 1, 87, 87), "int32"),
    ("dm/dmTest_3D_int16_64,65,66.dm4", "digitalmicrograph", [6, 11], (6, 11, 65, 64), "int16"),
    ("hspy/subset_data.hspy", "hspy", None, (2, 2, 256, 256), "uint16"),
    ("emd/py4DSTEM_size2x3x4x5.h5", "emd", None, (2, 3, 4, 5), "float32"),
    ("tiff/test_loading_image_saved_with_DM_stack.tif", "tiff", [1, 2], (1, 2, 68, 68), "float32"),
    ("tiff/au_xgrating_20cm.tif", "tiff", None, (1, 1, 256, 256), "float32"),
]


@pytest.mark.parametrize("name,plugin,scan_shape,shape,dtype", CASES, ids=[c[0] for c in CASES])
def test_reads_real_files_like_rosettasciio(real, name, plugin, scan_shape, shape, dtype):
    source = open_source(real / name, scan_shape=scan_shape)
    assert source.shape == shape and source.dtype == np.dtype(dtype)
    frames = source.read_frames(0, source.n_frames)
    assert frames.dtype.isnative
    np.testing.assert_array_equal(frames, eager(plugin, real / name))
    # any window of frames, across line boundaries, matches too
    n = source.n_frames
    np.testing.assert_array_equal(
        source.read_frames(n // 3, n - n // 4), frames[n // 3 : n - n // 4]
    )


def test_calibration_from_files(real):
    blo = open_source(real / "blockfile/test1.blo").calibration
    assert blo.scan_step_nm == pytest.approx(12.8) and blo.beam_energy_kev == 200.0
    hspy = open_source(real / "hspy/subset_data.hspy").calibration
    assert hspy.scan_step_nm == pytest.approx(2.0) and hspy.inv_angstrom_per_px == pytest.approx(
        0.01261
    )
    dm3 = open_source(real / "dm/test_diffraction_pattern.dm3").calibration
    assert dm3.inv_angstrom_per_px == pytest.approx(0.017443285882472993)  # 1/nm -> 1/Å
    emd = open_source(real / "emd/py4DSTEM_size2x3x4x5.h5").calibration
    assert emd.inv_angstrom_per_px == pytest.approx(0.044251566616087125)
    stack = open_source(real / "dm/dmTest_3D_int16_64,65,66.dm4", scan_shape=[6, 11]).calibration
    assert stack.scan_step_nm is None  # a stack axis is not a scan step
    override = open_source(
        real / "blockfile/test1.blo",
        calibration={"inv_angstrom_per_px": 0.02, "scan_step_nm": None},
    )
    assert (
        override.calibration.inv_angstrom_per_px == 0.02
        and override.calibration.scan_step_nm == pytest.approx(12.8)
    )


def test_merlin_header_is_a_companion_file(real):
    files = open_source(real / "mib/001_4x2_6bit.mib").files
    assert [f.name for f in files] == ["001_4x2_6bit.mib", "001_4x2_6bit.hdr"]


def test_empad_reads_its_raw_file(real, tmp_path):
    shutil.copy(real / "empad/map4x4.xml", tmp_path)
    raw = np.arange(4 * 4 * 130 * 128, dtype="<f4")
    raw.tofile(tmp_path / "scan_x4_y4.raw")
    source = open_source(tmp_path / "map4x4.xml")
    assert source.shape == (4, 4, 128, 128)
    assert [f.name for f in source.files] == ["map4x4.xml", "scan_x4_y4.raw"]
    expected = raw.reshape(16, 130, 128)[:, :128, :]
    np.testing.assert_array_equal(source.read_frames(0, 16), expected)


def test_bmp_sequence_in_natural_order(real, tmp_path):
    frames = open_source(real / "blockfile/test1.blo").read_frames(0, 6)
    folder = tmp_path / "bmp"
    folder.mkdir()
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(
            folder / f"frame_{i + 1}.bmp"
        )  # frame_10 would sort before frame_2
    source = open_source(folder, scan_shape=[3, 2])
    assert source.format == "images" and source.shape == (3, 2, 144, 144)
    np.testing.assert_array_equal(source.read_frames(0, 6), frames)


def test_natural_order_of_frames():
    from pathlib import Path

    names = ["a/f_10.png", "a/f_2.png", "b/f_1.png", "a/f_1.png"]
    assert sorted(map(Path, names), key=natural_key) == [
        Path(n) for n in ["a/f_1.png", "a/f_2.png", "a/f_10.png", "b/f_1.png"]
    ]


def test_gatan_frame_tree(real, tmp_path):
    tree = tmp_path / "insitu"
    for second in range(3):
        for i in range(2):
            target = (
                tree
                / "Hour_00"
                / "Minute_00"
                / f"Second_{second:02d}"
                / f"scan_Hour_00_Minute_00_Second_{second:02d}_Frame_{i:04d}.dm4"
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(real / "dm/dmTest_float32_nonSquare_diffPixelSize.dm4", target)
    assert detect_format(tree) == "dm-frames"
    source = open_source(tree, scan_shape=[2, 3])
    assert source.shape == (2, 3, 64, 128) and source.dtype == np.float32
    single = eager("digitalmicrograph", real / "dm/dmTest_float32_nonSquare_diffPixelSize.dm4")[0]
    np.testing.assert_array_equal(source.read_frames(2, 5), np.stack([single] * 3))
    assert source.files[1].parent.name == "Second_00" and source.files[2].parent.name == "Second_01"


def test_npy_flat_stack_and_stream(tmp_path):
    stack = np.arange(12 * 4 * 5, dtype=">u2").reshape(12, 4, 5)
    np.save(tmp_path / "s.npy", stack)
    source = open_source(tmp_path / "s.npy", scan_shape=[3, 4])
    assert source.shape == (3, 4, 4, 5) and source.dtype == np.dtype("=u2")
    np.testing.assert_array_equal(source.read_frames(5, 9), stack[5:9])
    stream = open_source(tmp_path / "s.npy", scan_shape=[2, 5], stream=True)
    assert stream.shape == (1, 12, 4, 5) and stream.stream


@pytest.mark.parametrize(
    "scan_shape,message",
    [
        (None, "a flat stack of 12 frames; set scan_shape"),
        ([5, 5], r"scan_shape \[5, 5\] needs 25 frames but the file holds 12"),
    ],
)
def test_scan_shape_errors_name_the_file(tmp_path, scan_shape, message):
    np.save(tmp_path / "s.npy", np.zeros((12, 4, 4)))
    with pytest.raises(ValueError, match=message) as error:
        open_source(tmp_path / "s.npy", scan_shape=scan_shape)
    assert "s.npy" in str(error.value)


def test_truncated_and_unknown_files_give_clear_errors(real, tmp_path):
    data = (real / "blockfile/test1.blo").read_bytes()
    (tmp_path / "cut.blo").write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ValueError, match=r"cut\.blo: truncated block file \(64282 of 128564 bytes; 2 of 6 frames\)"
    ):
        open_source(tmp_path / "cut.blo")
    (tmp_path / "x.weird").write_bytes(b"abc")
    with pytest.raises(ValueError, match=r"x\.weird: cannot tell the format"):
        open_source(tmp_path / "x.weird")
    with pytest.raises(ValueError, match="unknown format 'nope'"):
        open_source(tmp_path / "x.weird", format="nope")
    with pytest.raises(FileNotFoundError, match="missing.blo: no such file"):
        open_source(tmp_path / "missing.blo")
    np.save(tmp_path / "t.npy", np.zeros((4, 8, 8)))
    (tmp_path / "t.npy").write_bytes((tmp_path / "t.npy").read_bytes()[:300])
    with pytest.raises(ValueError, match=r"t\.npy: cannot be read as npy"):
        open_source(tmp_path / "t.npy", scan_shape=[2, 2])


def test_zspy_written_by_rosettasciio(tmp_path):
    from rsciio.zspy import file_writer

    from acomflow.convert import convert

    data = np.arange(2 * 3 * 8 * 9, dtype=np.uint16).reshape(2, 3, 8, 9)
    axes = [
        dict(name=n, size=s, scale=sc, offset=0.0, units=u, navigate=nav)
        for n, s, sc, u, nav in [
            ("y", 2, 5.0, "nm", True),
            ("x", 3, 5.0, "nm", True),
            ("ky", 8, 0.02, "1/nm", False),
            ("kx", 9, 0.02, "1/nm", False),
        ]
    ]
    signal = dict(
        data=data,
        axes=axes,
        metadata={"General": {"title": "t"}, "Signal": {"signal_type": ""}},
        original_metadata={},
        attributes={},
        tmp_parameters={},
        learning_results={},
        models={},
        package_info={"name": "acomflow", "version": "test"},
    )
    file_writer(str(tmp_path / "scan.zspy"), signal)
    source = open_source(tmp_path / "scan.zspy")
    assert source.format == "zspy" and source.shape == (2, 3, 8, 9)
    assert (
        source.calibration.scan_step_nm == 5.0
        and source.calibration.inv_angstrom_per_px == pytest.approx(0.002)
    )
    np.testing.assert_array_equal(source.read_frames(0, 6), data.reshape(6, 8, 9))
    sidecar = convert(source, tmp_path / "raw")  # a folder store: every file inside is checksummed
    assert len(sidecar["sources"]) > 1 and all(len(s["sha256"]) == 64 for s in sidecar["sources"])
