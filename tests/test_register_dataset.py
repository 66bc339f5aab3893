"""Registration of a stored dataset: shards of lines merged into one table, identical whatever
the shard size, with every scan position present and provenance attached."""

import numpy as np
import pandas as pd
import pytest

from acomflow.register.dataset import centre_settings, merge_shards, register_shard
from acomflow.register.measured import measured_settings
from acomflow.register.settings import RegistrationSettings
from acomflow.simulate.dataset import simulate
from acomflow.simulate.settings import SyntheticSettings
from acomflow.tables import read_metadata, shard_lines


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("reg")
    simulate(SyntheticSettings(scan_shape=(14, 3), frame_size=96, seed=4, n_grains=3), out)
    return out


def run(store, n_shards, tag, settings=RegistrationSettings()):
    spots, patterns = [], []
    for shard in reversed(range(n_shards)):  # order of shards must not matter
        spots.append(store / f"{tag}-{shard}.spots.parquet")
        patterns.append(store / f"{tag}-{shard}.patterns.parquet")
        register_shard(store / "raw", shard, n_shards, settings, spots[-1], patterns[-1])
    summary = merge_shards(
        store / "raw",
        spots,
        patterns,
        store / f"{tag}.spots.parquet",
        store / f"{tag}.patterns.parquet",
    )
    return (
        summary,
        (store / f"{tag}.spots.parquet").read_bytes(),
        (store / f"{tag}.patterns.parquet").read_bytes(),
    )


def test_table_is_byte_identical_for_shard_sizes_1_7_and_all(store):
    results = {size: run(store, 14 // size, f"size{size}") for size in (1, 7, 14)}
    assert results[1][1:] == results[7][1:] == results[14][1:]
    assert run(store, 20, "more_shards_than_lines")[1:] == results[1][1:]  # 6 empty shards
    summary = results[14][0]
    assert summary["patterns"] == 42 and summary["compression_factor"] > 1


def test_a_measured_spot_radius_is_the_same_in_every_shard(store):
    """With `matched_radius: auto` every shard measures the spots' radius on the same frames of
    the whole scan: the table is byte-identical for 1, 2 and 7 shards, and its metadata
    records the radius measured (px), not 'auto'."""
    matched = RegistrationSettings(detection="matched")
    results = [run(store, n, f"auto{n}", matched)[1:] for n in (1, 2, 7)]
    assert results[0] == results[1] == results[2]
    radius = read_metadata(store / "auto2.spots.parquet")["parameters"]["matched_radius"]
    assert isinstance(radius, float) and 0.5 <= radius <= 8.0
    assert read_metadata(store / "auto2-0.spots.parquet")["parameters"]["matched_radius"] == radius


def test_centres_measured_in_the_shards_are_the_centring_pass(store, tmp_path):
    """The beam centres each shard measures on the frames it registers, merged and fitted, are
    the table of the centring pass over the whole store, and do not change the spots."""
    from acomflow.prepare.centre import MEASURED_DTYPES
    from acomflow.prepare.centring import centre_dataset, write_centres
    from acomflow.tables import concat_shards

    settings = RegistrationSettings()
    measured = []
    for shard in range(3):
        measured.append(tmp_path / f"{shard}.centres.parquet")
        register_shard(
            store / "raw",
            shard,
            3,
            settings,
            tmp_path / f"{shard}.spots.parquet",
            tmp_path / f"{shard}.patterns.parquet",
            measured_centres_path=measured[-1],
        )
    merged = write_centres(
        concat_shards(measured, MEASURED_DTYPES),
        store / "raw",
        tmp_path / "shards.parquet",
        measured_with=centre_settings(settings),
    )
    whole = centre_dataset(store / "raw", tmp_path / "pass.parquet")
    pd.testing.assert_frame_equal(merged, whole)
    assert (
        read_metadata(tmp_path / "shards.parquet")["descan"]
        == read_metadata(tmp_path / "pass.parquet")["descan"]
    )
    assert np.isfinite(whole[["centre_y", "centre_x"]].to_numpy()).all()
    merge_shards(
        store / "raw",
        [tmp_path / f"{shard}.spots.parquet" for shard in range(3)],
        [tmp_path / f"{shard}.patterns.parquet" for shard in range(3)],
        tmp_path / "spots.parquet",
        tmp_path / "patterns.parquet",
    )
    assert (tmp_path / "spots.parquet").read_bytes() == run(store, 14, "size1")[1]


def test_table_contents_and_provenance(store):
    run(store, 2, "two")
    spots = pd.read_parquet(store / "two.spots.parquet")
    patterns = pd.read_parquet(store / "two.patterns.parquet")
    assert list(patterns[["scan_y", "scan_x"]].itertuples(index=False, name=None)) == [
        (y, x) for y in range(14) for x in range(3)
    ]
    counts = spots.groupby(["scan_y", "scan_x"]).size()
    assert (patterns.set_index(["scan_y", "scan_x"]).n_spots[counts.index] == counts).all()
    first = spots.groupby(["scan_y", "scan_x"]).head(1)
    assert (
        first.is_direct_beam.all() and (first.x_c == 0).all()
    )  # direct beam first, centred on itself
    assert (
        spots.groupby(["scan_y", "scan_x"]).spot.apply(lambda s: list(s) == list(range(len(s))))
    ).all()
    metadata = read_metadata(store / "two.spots.parquet")
    assert metadata["scan_shape"] == [14, 3] and metadata["frame_shape"] == [96, 96]
    measured = measured_settings(store / "raw", RegistrationSettings())
    assert measured.gain > 0 and measured.matched_radius > 0  # the values registered with
    assert metadata["parameters"] == {
        **measured.as_dict(),
        "average": 1,
        "centre_reference": "direct beam spot",
    }
    assert metadata["code_hash"]
    assert (
        list(metadata["inputs"].values())[0]
        == __import__("hashlib").sha256((store / "raw/data.json").read_bytes()).hexdigest()
    )


def test_shard_lines_cover_the_scan_once():
    for n_lines in (1, 7, 30):
        for n_shards in range(1, n_lines + 3):  # more shards than lines: some are empty
            covered = [
                y for s in range(n_shards) for y in range(*shard_lines(n_lines, n_shards, s))
            ]
            assert covered == list(range(n_lines))
    with pytest.raises(ValueError, match="shard 3 is not in 0..2"):
        shard_lines(10, 3, 3)


def test_centre_on_measures_from_the_plane_and_checks_positions(tmp_path):
    from acomflow.register.dataset import centre_on
    from acomflow.tables import write_table

    patterns = pd.DataFrame({"scan_y": [0, 0, 1, 1], "scan_x": [0, 1, 0, 1]})
    spots = pd.DataFrame(
        {
            "scan_y": [0, 1, 1],
            "scan_x": [1, 0, 1],
            "x": np.float32([10, 11, 12]),
            "y": np.float32([20, 21, 22]),
        }
    )
    centres = pd.DataFrame(
        {
            "scan_y": [0, 0, 1, 1],
            "scan_x": [0, 1, 0, 1],
            "centre_y": [1.0, 2, 3, 4],
            "centre_x": [5.0, 6, 7, 8],
            "plane_y": [1.5, 2.5, 3.5, 4.5],
            "plane_x": [5.5, 6.5, 7.5, 8.5],
            "flags": np.int32([0, 4, 0, 0]),
        }
    )
    write_table(centres, tmp_path / "c.parquet", {})
    centre_on(spots, patterns, tmp_path / "c.parquet", "plane")
    np.testing.assert_array_equal(spots.x_c, np.float32([10 - 6.5, 11 - 7.5, 12 - 8.5]))
    np.testing.assert_array_equal(spots.y_c, np.float32([20 - 2.5, 21 - 3.5, 22 - 4.5]))
    assert patterns.centre_flags.tolist() == [0, 4, 0, 0]
    centre_on(spots, patterns, tmp_path / "c.parquet", "measured")
    np.testing.assert_array_equal(spots.x_c, np.float32([10 - 6, 11 - 7, 12 - 8]))
    with pytest.raises(
        ValueError, match="c.parquet: its scan positions are not those of the registered patterns"
    ):
        centre_on(spots, patterns.iloc[:3], tmp_path / "c.parquet")


def test_settings_measured_on_frames_in_memory_are_the_workflows(store):
    """The library's way (config/README.md): the gain and disc measured on a sample of frames
    held in memory are those each shard measures on the store, and one frame registered with
    them gives the table's spots; unmeasured, the default detection asks for them by name."""
    from acomflow.register.frame import register_frame
    from acomflow.register.measured import sample_frames, settings_measured_on
    from acomflow.store import store_frames, store_saturation

    frames, saturation = store_frames(store / "raw", flat=True), store_saturation(store / "raw")
    sample = [np.asarray(frames[i : i + 1][0]) for i in sample_frames(frames.shape[0])]
    settings = settings_measured_on(sample, RegistrationSettings(), saturation)
    assert settings == measured_settings(store / "raw", RegistrationSettings())
    run(store, 2, "library")
    table = pd.read_parquet(store / "library.spots.parquet")
    busiest = table.groupby(["scan_y", "scan_x"]).size().nlargest(3).index
    for y, x in busiest:
        frame = np.asarray(frames[3 * y + x : 3 * y + x + 1][0], np.float32)
        spots, _ = register_frame(frame, settings, saturation)
        mine = table[(table.scan_y == y) & (table.scan_x == x)]
        assert len(mine) == len(spots["x"]) > 1
        for column in ("x", "y", "prominence"):
            assert (mine[column].to_numpy() == np.float32(spots[column])).all()
    with pytest.raises(ValueError, match="settings_measured_on"):
        register_frame(np.asarray(frames[0:1][0], np.float32), RegistrationSettings(), saturation)
