"""The synthetic dataset: realistic content, exact truth, determinism, stream mode."""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from acomflow.crystal.orientations import rotation_matrices
from acomflow.crystal.phase import read_cif
from acomflow.crystal.reflections import reflections
from acomflow.crystal.settings import TemplateSettings
from acomflow.crystal.templates import template
from acomflow.simulate.dataset import simulate, stream_layout
from acomflow.simulate.pattern import detector_defects, detector_gain, record_frame, render_pattern
from acomflow.simulate.sample import build_sample
from acomflow.simulate.settings import SyntheticSettings
from acomflow.store import open_store
from acomflow.tables import read_metadata


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "small"
    settings = SyntheticSettings(scan_shape=(12, 16), frame_size=128, seed=3, n_grains=4)
    simulate(settings, out)
    return settings, out


def truth(out, name):
    return pd.read_parquet(out / "truth" / f"{name}.parquet")


def test_store_and_truth_shapes(small):
    settings, out = small
    data, sidecar = open_store(out / "raw")
    assert data.shape == (12, 16, 128, 128) and data.dtype == np.uint16
    assert sidecar["calibration"]["inv_angstrom_per_px"] == pytest.approx(0.02)
    patterns, spots = truth(out, "patterns"), truth(out, "spots")
    assert len(patterns) == 12 * 16
    assert (patterns.groupby(["scan_y", "scan_x"]).size() == 1).all()
    assert spots.groupby(["scan_y", "scan_x"]).is_direct_beam.sum().eq(1).all()
    assert (
        patterns.set_index(["scan_y", "scan_x"]).n_spots
        == spots.groupby(["scan_y", "scan_x"]).size()
    ).all()
    assert read_metadata(out / "truth" / "spots.parquet")["parameters"] == settings.as_dict()


def test_every_region_kind_and_grain_boundaries_present(small):
    _, out = small
    patterns, spots = truth(out, "patterns"), truth(out, "spots")
    assert set(patterns.region) == {"crystal", "amorphous", "vacuum"}
    boundary = patterns.query("region == 'crystal' and mix < 1")
    assert len(boundary) > 0 and (boundary.grain2 >= 0).all()
    bragg = spots[~spots.is_direct_beam].merge(patterns[["scan_y", "scan_x", "region"]])
    assert set(bragg.region) == {"crystal"}  # amorphous and vacuum patterns have no Bragg spots
    y, x = boundary.iloc[0][["scan_y", "scan_x"]].astype(int)
    grains = set(spots.query("scan_y == @y and scan_x == @x and not is_direct_beam").grain)
    assert len(grains) == 2


def test_spot_radii_and_intensities_follow_the_model(small):
    _, out = small
    spots = truth(out, "spots")
    bragg = spots[~spots.is_direct_beam]
    assert bragg.radius.between(2.0, 8.0).all()
    g = np.hypot(
        bragg.x - spots.x[spots.is_direct_beam].mean(),
        bragg.y - spots.y[spots.is_direct_beam].mean(),
    )
    near, far = bragg.electrons[g < g.quantile(0.3)], bragg.electrons[g > g.quantile(0.7)]
    assert near.mean() > 3 * far.mean()  # kinematic-like envelope falling with |g|
    assert (bragg.snr < 3).any() and (bragg.snr > 30).any()  # weak and strong spots


def test_direct_beam_is_partly_saturated_and_dose_varies(small):
    settings, out = small
    data, _ = open_store(out / "raw")
    patterns = truth(out, "patterns")
    saturated = (np.asarray(data) == settings.saturation_level).any(axis=(2, 3))
    vacuum = (patterns.region == "vacuum").to_numpy().reshape(12, 16)
    assert saturated[vacuum].all() and not saturated.all()
    assert patterns.dose.max() > 1.4 * patterns.dose.min()


def test_true_centre_is_the_noise_free_direct_beam_centroid():
    settings = SyntheticSettings(
        scan_shape=(6, 7),
        frame_size=128,
        noise=False,
        dtype="float32",
        saturation=1e12,
        vacuum_fraction=0.5,
    )
    sample = build_sample(settings)
    y, x = np.argwhere(sample.region == 0)[0]
    image = render_pattern(sample, settings, y, x).expected
    yy, xx = np.indices(image.shape)
    window = np.hypot(yy - sample.centre_y[y, x], xx - sample.centre_x[y, x]) < 12
    weights = image * window - np.median(image)
    weights[~window] = 0
    cy, cx = (weights * yy).sum() / weights.sum(), (weights * xx).sum() / weights.sum()
    assert abs(cy - sample.centre_y[y, x]) < 1e-2 and abs(cx - sample.centre_x[y, x]) < 1e-2
    # the descan is the recorded plane
    d = sample.descan
    assert sample.centre_x[5, 6] == pytest.approx(
        d["centre_x0"] + 5 * d["dx_dscan_y"] + 6 * d["dx_dscan_x"]
    )
    assert np.ptp(sample.centre_x) > 0


@pytest.mark.parametrize("dtype,size", [("uint8", 256), ("float32", 512)])
def test_dtypes_and_frame_sizes(tmp_path, dtype, size):
    settings = SyntheticSettings(scan_shape=(2, 3), frame_size=size, dtype=dtype, seed=1)
    simulate(settings, tmp_path)
    data, sidecar = open_store(tmp_path / "raw")
    assert data.shape == (2, 3, size, size) and data.dtype == np.dtype(dtype)
    assert float(np.max(data)) == settings.saturation_level
    if dtype == "uint8":
        assert np.ptp(np.asarray(data)) == 255


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    settings = SyntheticSettings(scan_shape=(3, 4), frame_size=64, seed=5)
    for name in ("a", "b"):
        simulate(settings, tmp_path / name)
    simulate(SyntheticSettings(scan_shape=(3, 4), frame_size=64, seed=6), tmp_path / "c")
    for rel in ("raw/data.npy", "raw/data.json", "truth/spots.parquet", "truth/patterns.parquet"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    assert (tmp_path / "a/raw/data.npy").read_bytes() != (tmp_path / "c/raw/data.npy").read_bytes()


def test_stream_layout_has_blanks_jitter_and_extra_frames():
    settings = SyntheticSettings(scan_shape=(20, 30), stream=True, seed=2)
    layout = stream_layout(settings)
    assert (layout.kind.iloc[:6] == "pre").all() and (layout.kind.iloc[-4:] == "post").all()
    per_line = layout[layout.kind == "scan"].groupby("scan_y").size()
    assert len(per_line) == 20 and per_line.between(28, 32).all() and per_line.nunique() > 1
    runs = (layout.kind != layout.kind.shift()).cumsum()
    blanks = layout[layout.kind == "blank"].groupby(runs).size()
    assert len(blanks) == 21 and blanks.between(2, 4).all()  # before every line and after the last
    scan = layout[layout.kind == "scan"]
    assert (scan.groupby("scan_y").scan_x.apply(lambda s: s.is_monotonic_increasing)).all()


def test_stream_frames_show_their_true_positions(tmp_path):
    common = dict(scan_shape=(3, 5), frame_size=64, seed=4, noise=False)
    simulate(SyntheticSettings(stream=True, **common), tmp_path / "stream")
    simulate(SyntheticSettings(**common), tmp_path / "scan")
    stream, sidecar = open_store(tmp_path / "stream" / "raw")
    scan, _ = open_store(tmp_path / "scan" / "raw")
    frames = truth(tmp_path / "stream", "frames")
    assert (
        stream.shape == (1, len(frames), 64, 64)
        and sidecar["stream"]
        and sidecar["nominal_scan_shape"] == [3, 5]
    )
    for row in frames.itertuples():
        frame = stream[0, row.frame]
        if row.kind == "scan":
            np.testing.assert_array_equal(frame, scan[row.scan_y, row.scan_x])
        elif row.kind == "blank":
            assert frame.max() == 0
    assert len(truth(tmp_path / "stream", "patterns")) == 15


CRYSTALS = SyntheticSettings(
    scan_shape=(5, 6),
    seed=1,
    n_grains=4,
    phases=("Al", "PbI2"),
    zone_axis_grains=2,
    precession_deg=1.0,
    noise=False,
    dtype="float32",
    saturation=1e12,
    halo_fraction=0.0,
    film_fraction=0.0,
    vacuum_fraction=0.2,
    amorphous_fraction=0.0,
)


@pytest.fixture(scope="module")
def crystals(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "crystals"
    phases = {name: read_cif(REPO / f"config/phases/{name}.cif", name) for name in ("Al", "PbI2")}
    simulate(CRYSTALS, out, phases)
    return phases, out


def test_orientation_truth_names_every_position(crystals):
    from orix.quaternion import Rotation

    phases, out = crystals
    table, patterns = truth(out, "orientations"), truth(out, "patterns")
    assert list(table.columns) == [
        "scan_y",
        "scan_x",
        "region",
        "grain",
        "phase",
        "qw",
        "qx",
        "qy",
        "qz",
        "phi1",
        "Phi",
        "phi2",
    ]
    assert (
        (table[["scan_y", "scan_x", "region", "grain"]] == patterns[table.columns[:4]])
        .to_numpy()
        .all()
    )
    crystal = table["region"] == "crystal"
    assert (
        set(table.loc[~crystal, "phase"].isna()) == {True}
        and table.loc[~crystal, "qw"].isna().all()
    )
    assert (
        table.loc[crystal, "phase"] == np.array(CRYSTALS.phases)[table.loc[crystal, "grain"] % 2]
    ).all()
    q = table.loc[crystal, ["qw", "qx", "qy", "qz"]].to_numpy()
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0) and (q[:, 0] >= 0).all()
    # Bunge angles and quaternion are the same rotation
    back = Rotation.from_euler(np.deg2rad(table.loc[crystal, ["phi1", "Phi", "phi2"]].to_numpy()))
    assert np.allclose(np.abs(np.sum(back.data * q, axis=1)), 1.0, atol=1e-9)
    # the zone-axis grains (the first two) have one of the zone axes along the beam
    for grain in (0, 1):
        row = table[table["grain"] == grain].iloc[0]
        beam = rotation_matrices(row[["qw", "qx", "qy", "qz"]].to_numpy(float))[0][:, 2]
        axes = np.array(CRYSTALS.zone_axes) @ phases[row["phase"]].direct_basis()
        axes /= np.linalg.norm(axes, axis=1, keepdims=True)
        assert np.max(axes @ beam) == pytest.approx(1.0, abs=1e-12)


def test_every_rendered_spot_is_a_template_spot_of_the_true_orientation(crystals):
    """Positions from the truth table's orientation through the bank's template model, against
    the spots' intensity centroids in the recorded frames (noise-free, no diffuse background)."""
    phases, out = crystals
    data, _ = open_store(out / "raw")
    orientations, patterns, spots = (
        truth(out, name) for name in ("orientations", "patterns", "spots")
    )
    d = CRYSTALS.inv_angstrom_per_px
    model = TemplateSettings().diffraction(CRYSTALS.beam_energy_kev, CRYSTALS.precession_deg)
    reach = CRYSTALS.frame_size / 2.0 * d  # 1/Å: the generator draws to the inscribed circle
    lattices = {name: reflections(phase, reach) for name, phase in phases.items()}
    single = (patterns["region"] == "crystal") & (patterns["mix"] == 1.0)
    measured = 0
    for row, pattern in zip(orientations[single].itertuples(), patterns[single].itertuples()):
        rotation = rotation_matrices(np.array([row.qw, row.qx, row.qy, row.qz]))[0]
        expected = template(lattices[row.phase], rotation, model)
        x = pattern.centre_x + expected.g[:, 0] / d
        y = pattern.centre_y - expected.g[:, 1] / d
        where = {tuple(hkl): i for i, hkl in enumerate(expected.hkl)}
        drawn = spots[(spots.scan_y == row.scan_y) & (spots.scan_x == row.scan_x)]
        bragg = drawn[~drawn["is_direct_beam"]]
        index = np.array([where[hkl] for hkl in zip(bragg.h, bragg.k, bragg.l)])
        assert np.abs(bragg["x"].to_numpy() - x[index]).max() < 1e-6
        assert np.abs(bragg["y"].to_numpy() - y[index]).max() < 1e-6
        frame = np.asarray(data[row.scan_y, row.scan_x], dtype=np.float64)
        rows, cols = np.indices(frame.shape)
        centres = drawn[["x", "y"]].to_numpy()
        radii = drawn["radius"].to_numpy()
        for spot, i in zip(bragg.itertuples(), index):
            half = int(np.ceil(spot.radius + 6 * CRYSTALS.edge_sigma + 2))
            others = np.hypot(*(centres - [x[i], y[i]]).T)
            isolated = np.sort(others - 1.5 * (radii + spot.radius))[1] > 14
            inside = (
                half <= x[i] < frame.shape[1] - 1 - half
                and half <= y[i] < frame.shape[0] - 1 - half
            )
            if not (isolated and inside):
                continue
            window = (np.abs(rows - y[i]) <= half) & (np.abs(cols - x[i]) <= half)
            weights = frame * window
            centroid = ((weights * cols).sum(), (weights * rows).sum()) / weights.sum()
            assert np.hypot(centroid[0] - x[i], centroid[1] - y[i]) < 0.01
            measured += 1
    assert measured >= 20


def test_liquid_cell_scatters_into_waters_ring_everywhere():
    """With a water layer, a vacuum position's noise-free frame holds liquid_fraction x the
    local water thickness of its electrons outside the direct beam, its radial profile peaks
    at water's 0.32 1/Å, every position has it, and the rest of the sample is that of the dry
    cell with the same seed."""
    common = dict(
        scan_shape=(6, 8),
        frame_size=128,
        noise=False,
        dtype="float32",
        bragg_fraction=0.3,
        ring_fraction=0.3,
    )
    dry = build_sample(SyntheticSettings(**common, vacuum_fraction=0.4))
    settings = SyntheticSettings(**common, vacuum_fraction=0.4, liquid_fraction=0.2)
    wet = build_sample(settings)
    for field in ("region", "grain", "thickness", "dose", "centre_y", "centre_x"):
        assert np.array_equal(getattr(dry, field), getattr(wet, field))
    assert 0.5 <= wet.water.min() < wet.water.max() <= 1.5
    y, x = np.argwhere(wet.region == 0)[0]
    image = render_pattern(wet, settings, y, x).expected
    yy, xx = np.indices(image.shape)
    rho = np.hypot(yy - wet.centre_y[y, x], xx - wet.centre_x[y, x])
    dry_image = render_pattern(dry, SyntheticSettings(**common, vacuum_fraction=0.4), y, x)
    water = image - dry_image.expected * (image[rho < 2].sum() / dry_image.expected[rho < 2].sum())
    # every electron lands in the frame or beyond its edge: 0.2 x water, less the far tail
    share = water.sum() / wet.dose[y, x]
    assert 0.8 * 0.2 * wet.water[y, x] < share <= 0.2 * wet.water[y, x] + 1e-9
    d = settings.inv_angstrom_per_px
    radii = np.arange(int(0.15 / d) + 1, int(0.6 / d))
    profile = [water[np.rint(rho) == r].mean() for r in radii]
    assert radii[int(np.argmax(profile))] * d == pytest.approx(0.32, abs=0.03)
    with pytest.raises(ValueError, match="at most 0.95"):
        SyntheticSettings(liquid_fraction=0.3)


@pytest.mark.parametrize("size", [256, 512])
def test_dense_lattices_have_the_spacing_asked_for(size):
    """`lattice_spacing` (px at 256) sets the first basis vector of every 2D lattice, scaled
    with the frame; the default keeps the demo's lattices unchanged (size/11 to size/6.5)."""
    settings = SyntheticSettings(frame_size=size, lattice_spacing=(8.0, 14.0), n_grains=8)
    for grain in build_sample(settings).grains:
        first = grain.offsets[(grain.hkl[:, 0] == 1) & (grain.hkl[:, 1] == 0)]
        assert 8.0 * size / 256 <= np.hypot(*first[0]) <= 14.0 * size / 256
    defaults = SyntheticSettings(frame_size=size)
    assert defaults.lattice_spacing[0] * defaults.scale == size / 11
    assert defaults.lattice_spacing[1] * defaults.scale == size / 6.5


def test_detector_defects_are_the_same_pixels_in_every_frame():
    """0.5 % dead pixels read 0 and 0.1 % hot ones half the saturation level, at the same
    pixels in every frame; without defects, no frame changes."""
    base = dict(scan_shape=(2, 3), frame_size=64, seed=3)
    settings = SyntheticSettings(**base, dead_pixel_fraction=0.005, hot_pixel_fraction=0.001)
    dead, hot = detector_defects(64, 3, 0.005, 0.001)
    assert len(dead) == 20 and len(hot) == 4 and not set(dead) & set(hot)
    sample, gain = build_sample(settings), detector_gain(settings)
    clean = SyntheticSettings(**base)
    for y, x in ((0, 0), (1, 2)):
        expected = render_pattern(sample, settings, y, x).expected
        frame = record_frame(expected, settings, gain, np.random.default_rng(y))
        plain = record_frame(expected, clean, gain, np.random.default_rng(y))
        assert (frame.flat[dead] == 0).all()
        assert (frame.flat[hot] == round(settings.saturation_level / 2)).all()
        untouched = np.setdiff1d(np.arange(64 * 64), np.r_[dead, hot])
        np.testing.assert_array_equal(frame.flat[untouched], plain.flat[untouched])
