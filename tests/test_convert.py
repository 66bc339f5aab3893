"""Conversion into the canonical store: exact values, checksums, block-size independence,
atomicity."""

import json

import numpy as np
import pytest
from PIL import Image

from acomflow.convert import convert
from acomflow.provenance import sha256_file
from acomflow.readers.formats import open_source
from acomflow.store import open_store


def test_blockfile_to_store_with_provenance(real, tmp_path):
    sidecar = convert(
        open_source(real / "blockfile/test1.blo"), tmp_path / "raw", parameters={"source": "x"}
    )
    data, stored = open_store(tmp_path / "raw")
    assert stored == sidecar == json.loads((tmp_path / "raw/data.json").read_text())
    assert data.shape == (3, 2, 144, 144) and data.dtype == np.uint8
    np.testing.assert_array_equal(
        data.reshape(6, 144, 144), open_source(real / "blockfile/test1.blo").read_frames(0, 6)
    )
    assert stored["sources"][0]["sha256"].startswith("df2c77ba0957f186")  # SOURCES.md
    assert stored["data"]["sha256"] == sha256_file(tmp_path / "raw/data.npy")
    assert stored["calibration"]["scan_step_nm"] == pytest.approx(12.8)
    assert (
        stored["parameters"] == {"source": "x"}
        and stored["acomflow_version"]
        and stored["code_hash"]
    )


def test_big_endian_source_is_stored_native(real, tmp_path):
    convert(
        open_source(real / "mib/Single_9_Frame_CounterDepth_12_Rows_256.mib", scan_shape=[3, 3]),
        tmp_path,
    )
    data, sidecar = open_store(tmp_path)
    assert data.dtype == np.dtype("=u2") and sidecar["dtype"] == "uint16"
    assert int(data.max()) > 255


@pytest.mark.parametrize("block", [1, 5, 7, 1000])
def test_block_size_does_not_change_the_bytes(tmp_path, block):
    stack = np.random.default_rng(0).integers(0, 4000, (35, 16, 12), dtype=np.uint16)
    np.save(tmp_path / "s.npy", stack)
    convert(open_source(tmp_path / "s.npy", scan_shape=[5, 7]), tmp_path / "ref", in_place=False)
    convert(
        open_source(tmp_path / "s.npy", scan_shape=[5, 7]),
        tmp_path / "out",
        block_frames=block,
        in_place=False,
    )
    assert (tmp_path / "out/data.npy").read_bytes() == (tmp_path / "ref/data.npy").read_bytes()
    assert (tmp_path / "out/data.json").read_bytes() == (tmp_path / "ref/data.json").read_bytes()
    np.testing.assert_array_equal(np.load(tmp_path / "out/data.npy"), stack.reshape(5, 7, 16, 12))


@pytest.mark.parametrize("stream", [False, True])
def test_an_npy_source_is_read_in_place(tmp_path, stream):
    """A native .npy source is linked, not copied: the store reads the copy's frames, shaped
    as its sidecar says, and vouches for the source's checksum; converting again replaces the
    link; a big-endian source is copied into native order."""
    from acomflow.store import store_frames

    stack = np.random.default_rng(0).integers(0, 4000, (35, 16, 12), dtype=np.uint16)
    np.save(tmp_path / "s.npy", stack)
    source = lambda: open_source(tmp_path / "s.npy", scan_shape=[5, 7], stream=stream)
    copied = convert(source(), tmp_path / "copy", in_place=False)
    for _ in range(2):
        linked = convert(source(), tmp_path / "link")
    link = tmp_path / "link/data.npy"
    assert link.is_symlink() and link.resolve() == (tmp_path / "s.npy").resolve()
    assert not (tmp_path / "copy/data.npy").is_symlink()
    assert linked["data"]["sha256"] == sha256_file(tmp_path / "s.npy")
    assert linked["data"]["linked_to"] == str((tmp_path / "s.npy").resolve())
    for key in ("scan_shape", "frame_shape", "dtype", "stream", "sources"):
        assert linked[key] == copied[key]
    shape = (1, 35, 16, 12) if stream else (5, 7, 16, 12)
    for store in ("copy", "link"):
        np.testing.assert_array_equal(store_frames(tmp_path / store)[:], stack.reshape(shape))
        np.testing.assert_array_equal(store_frames(tmp_path / store, flat=True)[3:9], stack[3:9])
        np.testing.assert_array_equal(open_store(tmp_path / store)[0], stack.reshape(shape))
    assert sorted(p.name for p in (tmp_path / "link").iterdir()) == ["data.json", "data.npy"]
    np.save(tmp_path / "big.npy", stack.astype(">u2"))
    convert(open_source(tmp_path / "big.npy", scan_shape=[5, 7]), tmp_path / "big")
    assert not (tmp_path / "big/data.npy").is_symlink()
    np.testing.assert_array_equal(open_store(tmp_path / "big")[0], stack.reshape(5, 7, 16, 12))


def test_failure_mid_way_leaves_nothing_and_keeps_earlier_output(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(np.full((8, 8) if i != 4 else (8, 9), i, np.uint8)).save(
            folder / f"f{i}.png"
        )
    out = tmp_path / "raw"
    out.mkdir()
    (out / "data.npy").write_bytes(b"earlier result")
    with pytest.raises(
        ValueError, match=r"f4\.png: frame \(8, 9\) uint8 differs from the first frame"
    ):
        convert(open_source(folder, scan_shape=[2, 3]), out, block_frames=2)
    assert (out / "data.npy").read_bytes() == b"earlier result"
    assert sorted(p.name for p in out.iterdir()) == ["data.npy"]  # no sidecar, no temporary left


def test_npy_frames_reads_like_numpy_without_mapping(tmp_path):
    from acomflow.store import NpyFrames

    array = np.arange(5 * 3 * 4, dtype="<f4").reshape(5, 3, 4)
    np.save(tmp_path / "v1.npy", array)  # header version 1.0
    with open(tmp_path / "v2.npy", "wb") as handle:
        np.lib.format.write_array(handle, array, version=(2, 0))
    for name in ("v1.npy", "v2.npy"):
        frames = NpyFrames(tmp_path / name)
        assert frames.shape == (5, 3, 4) and frames.dtype == np.float32
        np.testing.assert_array_equal(frames[1:4], array[1:4])
        np.testing.assert_array_equal(frames[3:99], array[3:])
    np.save(tmp_path / "f.npy", np.asfortranarray(array))
    with pytest.raises(ValueError, match="Fortran-ordered"):
        NpyFrames(tmp_path / "f.npy")
