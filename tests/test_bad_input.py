"""Bad input, as users and their disks make it: every reader on truncated, corrupt-header,
zero-length and wrong-format files, a few hundred seeded fuzzed files, and configs broken at
every key of the schema. Each either converts into a readable store or fails with a ValueError
(FileNotFoundError for a missing file) that names the file or the key; nothing else escapes,
and a failed conversion leaves no output. Samples of the formats acomflow or its libraries can
write are made here; the others come from ../shared (skipped without it)."""

import copy
import shutil

import numpy as np
import pytest
import yaml
from conftest import REAL, REPO

from acomflow.blockfile import BlockfileWriter
from acomflow.config import load_schema, validate_config
from acomflow.convert import convert
from acomflow.readers.formats import open_source
from acomflow.store import open_store

FRAMES = np.random.default_rng(0).integers(0, 4000, (2, 3, 16, 16)).astype(np.uint16)


def _npy(folder):
    np.save(folder / "scan.npy", FRAMES)
    return folder / "scan.npy", {}


def _blockfile(folder):
    with BlockfileWriter(folder / "scan.blo", (2, 3), 16) as writer:
        writer.write(0, (FRAMES.reshape(6, 16, 16) // 16).astype(np.uint8), np.ones(6))
    return folder / "scan.blo", {}


def _tiff(folder):
    import tifffile

    tifffile.imwrite(folder / "scan.tif", FRAMES.reshape(6, 16, 16))
    return folder / "scan.tif", {"scan_shape": [2, 3]}


def _images(folder):
    from PIL import Image

    frames = folder / "frames"
    frames.mkdir()
    for k, frame in enumerate((FRAMES.reshape(6, 16, 16) // 16).astype(np.uint8)):
        Image.fromarray(frame).save(frames / f"f_{k:04d}.bmp")
    return frames, {"scan_shape": [2, 3]}


def _hspy(folder):
    from rsciio.hspy import file_writer

    axes = [
        dict(name=n, size=s, scale=1.0, offset=0.0, units="", navigate=nav)
        for n, s, nav in (("y", 2, True), ("x", 3, True), ("ky", 16, False), ("kx", 16, False))
    ]
    signal = dict(
        data=FRAMES,
        axes=axes,
        metadata={"General": {"title": "t"}, "Signal": {"signal_type": ""}},
        original_metadata={},
        attributes={"_lazy": False},
        tmp_parameters={},
        learning_results={},
        models={},
        package_info={"name": "acomflow", "version": "test"},
    )
    file_writer(str(folder / "scan.hspy"), signal)
    return folder / "scan.hspy", {}


def _real(name, **options):
    def sample(folder):
        if not REAL.is_dir():
            pytest.skip(f"real test data not found at {REAL}")
        source = REAL / name
        for companion in source.parent.glob(f"{source.stem}.*"):
            shutil.copy(companion, folder)
        return folder / source.name, options

    return sample


SAMPLES = {
    "npy": _npy,
    "blockfile": _blockfile,
    "tiff": _tiff,
    "images": _images,
    "hspy": _hspy,
    "mib": _real("mib/001_4x2_6bit.mib"),
    "app5": _real("app5/topspin_test_A.app5"),
    "dm": _real("dm/dmTest_3D_int16_64,65,66.dm4", scan_shape=[6, 11]),
    "emd": _real("emd/py4DSTEM_size2x3x4x5.h5"),
}


def _file_of(sample):
    """The file of a sample that damage is done to (an image folder: its first frame)."""
    return sorted(sample.iterdir())[0] if sample.is_dir() else sample


def outcome(path, out, **options):
    """Open and convert `path` into `out`: "ok" with a store that reads back, or "error" with a
    ValueError naming the file and nothing written; anything else fails the test."""
    try:
        convert(open_source(path, **options), out)
    except ValueError as error:
        assert str(path) in str(error) or str(_file_of(path)) in str(error), error
        assert not out.exists() or not any(out.iterdir()), f"{path}: partial output left"
        return "error"
    data, sidecar = open_store(out)
    assert data.shape == (*sidecar["scan_shape"], *sidecar["frame_shape"])
    return "ok"


def damaged(kind, data: bytes, rng) -> bytes:
    if kind == "truncated":
        return data[: len(data) // 2]
    if kind == "corrupt_header":
        return rng.bytes(min(64, len(data))) + data[64:]
    if kind == "zero_length":
        return b""
    return b"\x89PNG\r\n\x1a\n" + rng.bytes(max(len(data) - 8, 100))  # another format's bytes


@pytest.mark.parametrize("kind", ["truncated", "corrupt_header", "zero_length", "wrong_format"])
@pytest.mark.parametrize("fmt", SAMPLES)
def test_damaged_files_fail_clearly_or_convert(tmp_path, fmt, kind):
    sample, options = SAMPLES[fmt](tmp_path)
    target = _file_of(sample)
    target.write_bytes(damaged(kind, target.read_bytes(), np.random.default_rng(1)))
    result = outcome(sample, tmp_path / "out", **options)
    if kind in ("zero_length", "wrong_format") or (kind == "truncated" and fmt != "images"):
        assert result == "error"  # half a file, or not the format, is never data


def test_fuzzed_files_fail_clearly_or_convert(tmp_path):
    """Seeded damage of the generated samples: bytes flipped, runs overwritten, cut short or
    extended; 300 cases, each converting or failing with a message naming the file."""
    rng = np.random.default_rng(7)
    results = {"ok": 0, "error": 0}
    for case in range(300):
        fmt = list(SAMPLES)[case % 5]  # the generated ones: no ../shared needed
        folder = tmp_path / f"case{case}"
        folder.mkdir()
        sample, options = SAMPLES[fmt](folder)
        target = _file_of(sample)
        data = bytearray(target.read_bytes())
        how = case // 5 % 4
        if how == 0:
            for at in rng.integers(0, len(data), rng.integers(1, 16)):
                data[at] = int(rng.integers(0, 256))
        elif how == 1:
            start = int(rng.integers(0, len(data)))
            data[start : start + 32] = rng.bytes(len(data[start : start + 32]))
        elif how == 2:
            data = data[: int(rng.integers(0, len(data)))]
        else:
            data += rng.bytes(int(rng.integers(1, 4096)))
        target.write_bytes(bytes(data))
        results[outcome(sample, folder / "out", **options)] += 1
    assert results["ok"] + results["error"] == 300 and results["error"] > 0, results


def test_a_truncated_merlin_file_stops_or_keeps_its_complete_lines(tmp_path):
    """The first 300 kB of the real 4 x 2 Merlin scan: an error naming what is missing, or, with
    keep_complete_frames and the nominal scan, its one complete line of 4 frames."""
    sample, _ = SAMPLES["mib"](tmp_path)
    sample.write_bytes(sample.read_bytes()[:300_000])
    with pytest.raises(ValueError, match=r"promises 8 frames, the file holds 4 complete ones"):
        open_source(sample)
    with pytest.raises(ValueError, match="needs scan_shape"):
        open_source(sample, keep_complete_frames=True)
    kept = open_source(sample, scan_shape=[2, 4], keep_complete_frames=True)
    full = open_source(REAL / "mib/001_4x2_6bit.mib")
    assert kept.shape == (1, 4, 256, 256)
    np.testing.assert_array_equal(kept.read_frames(0, 4), full.read_frames(0, 4))


def _broken_configs(schema: dict, config: dict, path=()):
    """(path, config) with one thing wrong at `path`: every property given a value of the wrong
    type, a number beyond its range, an unknown key beside every object's properties."""
    wrong = {"number": "x", "integer": 1.5, "boolean": "yes", "string": 3, "array": 7}
    yield path + ("unknown_key",), {**config, "unknown_key": 1}
    for name, sub in schema.get("properties", {}).items():
        if name not in config:
            continue
        kinds = sub.get("type", "object" if "properties" in sub else None)
        kinds = kinds if isinstance(kinds, list) else [kinds]
        for kind in kinds:
            if kind in wrong and not any(k in ("number", "string") for k in kinds if k != kind):
                yield path + (name,), {**config, name: wrong[kind]}
        if "enum" in sub:
            yield path + (name,), {**config, name: "no such choice"}
        for bound, step in (("minimum", -1), ("exclusiveMinimum", 0), ("maximum", 1)):
            if bound in sub and isinstance(config[name], int | float):
                yield path + (name,), {**config, name: sub[bound] + step}
        if isinstance(config[name], dict) and "properties" in sub:
            for inner_path, inner in _broken_configs(sub, config[name], path + (name,)):
                yield inner_path, {**config, name: inner}


def test_configs_broken_at_every_key_fail_naming_it():
    schema_path = REPO / "config/schema/config.schema.yaml"
    schema = load_schema(schema_path)
    config = validate_config(yaml.safe_load((REPO / "config/config.yaml").read_text()), schema_path)
    cases = list(_broken_configs(schema, config))
    assert len(cases) > 100
    for path, broken in cases:
        with pytest.raises(ValueError) as error:
            validate_config(copy.deepcopy(broken), schema_path)
        named = "/".join(path[:-1]) if path[-1] == "unknown_key" else "/".join(path)
        assert f"  {named or '(top level)'}:" in str(error.value), (path, str(error.value))
