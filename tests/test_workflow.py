"""The Snakemake workflow end to end, on a copy of the workflow in a temporary folder:
outputs and provenance, caching, and re-running exactly what a change affects."""

import json
import os

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REAL, copy_workflow, jobs, snakemake, write_config

from acomflow.epattern_csv import read_results_all
from acomflow.store import open_store
from acomflow.tables import read_metadata

pytestmark = pytest.mark.workflow

TINY = {
    "source": "synthetic",
    "scan_shape": [3, 4],
    "synthetic": {"frame_size": 64, "n_grains": 3, "phases": ["Al", "PbI2"], "zone_axis_grains": 1},
    "acom": {"phases": ["Al", "PbI2"], "precession_deg": 1.0},
}
STREAM = {
    "source": "synthetic",
    "scan_shape": [3, 8],
    "stream": True,
    "synthetic": {"frame_size": 64, "n_grains": 2},
}


def registered(n):
    """Jobs that re-run, per dataset, when its registered table changes (truth_accuracy aside)."""
    return {
        "register_shard": 2 * n,
        "register_merge": n,
        "export_epattern_csv": n,
        "reconstruct": n,
        "maps": n,
        "metrics_shard": 2 * n,
        "metrics": n,
        "figure_3": n,
        "figure_4": n,
        "figure_s11": n,
    }


def matched(n):
    """Jobs that re-run, per dataset with phases, when its registered table changes."""
    return {
        "matching_calibration": n,
        "match_shard": 2 * n,
        "match_merge": n,
        "orientation_figure": n,
        "orientation_accuracy": n,
    }


def synthetic(datasets):
    return sum(1 for ds in datasets.values() if ds["source"] == "synthetic")


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    """A copy of the workflow with a tiny synthetic dataset, a synthetic stream and an .npy
    dataset of non-square float32 frames, two of them damaged (NaN, constant), run once."""
    workdir = copy_workflow(tmp_path_factory.mktemp("wf") / "acomflow")
    stack = np.random.default_rng(1).integers(0, 255, (6, 16, 20)).astype(np.float32)
    stack[1, 3, 4], stack[4] = np.nan, 7.0
    np.save(workdir / "stack.npy", stack)
    datasets = {
        "tiny": TINY,
        "flow": STREAM,
        "stack": {
            "source": "stack.npy",
            "scan_shape": [2, 3],
            "calibration": {"scan_step_nm": 4.0},
        },
    }
    if REAL.is_dir():
        datasets["blo"] = {"source": str(REAL / "blockfile/test1.blo")}
    write_config(workdir, datasets)
    snakemake(workdir)
    return workdir, stack, datasets


def test_outputs_and_provenance(workflow):
    workdir, stack, datasets = workflow
    data, sidecar = open_store(workdir / "results/stack/raw")
    np.testing.assert_array_equal(data, stack.reshape(2, 3, 16, 20))
    # an .npy of native frames is read where it is, not copied
    assert (workdir / "results/stack/raw/data.npy").resolve() == (workdir / "stack.npy").resolve()
    assert (
        sidecar["calibration"]["scan_step_nm"] == 4.0
        and sidecar["parameters"]["source"] == "stack.npy"
    )
    for name, ds in datasets.items():
        patterns = read_metadata(workdir / f"results/{name}/registration/patterns.parquet")
        store = workdir / f"results/{name}/{'prepared' if ds.get('stream') else 'raw'}"
        assert patterns["data_sha256"] == open_store(store)[1]["data"]["sha256"]
    flow, flow_sidecar = open_store(workdir / "results/flow/prepared")
    assert (
        flow.shape == (3, 8, 64, 64) and open_store(workdir / "results/flow/raw")[0].shape[0] == 1
    )
    assert len(pd.read_parquet(workdir / "results/flow/registration/patterns.parquet")) == 24
    assert (workdir / "results/flow/prepared/realignment.png").stat().st_size > 10_000
    tiny, tiny_sidecar = open_store(workdir / "results/tiny/raw")
    assert tiny.shape == (3, 4, 64, 64) and tiny_sidecar["parameters"]["frame_size"] == 64
    assert (
        read_metadata(workdir / "results/tiny/truth/spots.parquet")["code_hash"]
        == tiny_sidecar["code_hash"]
    )
    for name in datasets:
        assert (workdir / f"logs/{name}").is_dir() and any(
            (workdir / "benchmarks" / name).iterdir()
        )
    if "blo" in datasets:
        assert open_store(workdir / "results/blo/raw")[0].shape == (3, 2, 144, 144)
    spots = pd.read_parquet(workdir / "results/tiny/registration/spots.parquet")
    legacy = read_results_all(workdir / "results/tiny/registration/Results_All.csv")
    assert len(legacy) == len(spots) > 0
    np.testing.assert_array_equal(legacy.x.to_numpy(np.float32), spots.x.to_numpy())
    centres = pd.read_parquet(workdir / "results/tiny/centring/centres.parquet")
    tiny_patterns = pd.read_parquet(workdir / "results/tiny/registration/patterns.parquet")
    np.testing.assert_array_equal(tiny_patterns.centre_x, centres.plane_x.astype(np.float32))
    row = spots.scan_y * 4 + spots.scan_x
    np.testing.assert_allclose(spots.x_c, spots.x - centres.plane_x.to_numpy()[row], atol=1e-4)
    assert (workdir / "results/tiny/centring/centres.png").stat().st_size > 10_000
    truth = pd.read_parquet(workdir / "results/tiny/truth/patterns.parquet")
    orientations = pd.read_parquet(workdir / "results/tiny/truth/orientations.parquet")
    crystal = orientations["region"] == "crystal"
    assert set(orientations.loc[crystal, "phase"]) <= {"Al", "PbI2"}
    assert orientations.loc[crystal, "qw"].notna().all()
    assert (orientations[["scan_y", "scan_x"]] == truth[["scan_y", "scan_x"]]).to_numpy().all()
    assert np.abs(centres.plane_y - truth.centre_y).max() < 0.05


def test_reconstruction_and_masking_outputs(workflow):
    """Every format holds the same frames, square frames of the detector's larger side; the .blo
    reads back with rosettasciio; the direct beam is drawn saturated at the frame centre of the
    (centred) reconstruction; masked non-square frames are padded with zeros."""
    import tifffile
    from rsciio.blockfile import file_reader

    workdir, _, datasets = workflow
    for name, ds in datasets.items():
        data = open_store(workdir / f"results/{name}/{'prepared' if ds.get('stream') else 'raw'}")[
            0
        ]
        rec = workdir / f"results/{name}/reconstruction"
        frames, sidecar = open_store(rec)
        square = (*data.shape[:2], max(data.shape[2:]), max(data.shape[2:]))
        assert frames.dtype == np.uint8 and frames.shape == square
        np.testing.assert_array_equal(
            file_reader(str(rec / f"{name}.blo"))[0]["data"].reshape(frames.shape), frames
        )
        np.testing.assert_array_equal(tifffile.imread(rec / f"{name}.tif"), frames)
        assert len(list((rec / "bmp").glob("*.bmp"))) == data.shape[0] * data.shape[1]
        assert any(path.endswith("spots.parquet") for path in sidecar["provenance"]["inputs"])
        masked = open_store(workdir / f"results/{name}/masked")[0]
        assert masked.shape == square
        if name == "stack":  # 16 x 20 frames: two rows of zeros above and below
            assert not masked[:, :, [0, 1, 18, 19]].any()
    tiny = open_store(workdir / "results/tiny/reconstruction")[0].reshape(-1, 64, 64)
    spots = pd.read_parquet(workdir / "results/tiny/registration/spots.parquet")
    beam = np.zeros(len(tiny), bool)
    beam[(spots.scan_y * 4 + spots.scan_x)[spots.is_direct_beam]] = True
    assert (
        beam.any()
        and np.all(tiny[beam, 31:33, 31:33] == 255)
        and np.all(tiny[~beam, 31:33, 31:33] < 255)
    )


def test_maps_metrics_figures_and_the_report(workflow):
    """Every map is a calibrated TIFF agreeing with the table; metrics and figures exist; the
    `figures` target is up to date; the report holds every map and figure."""
    import tifffile

    from acomflow.maps.dataset import read_tiff_provenance

    workdir, _, datasets = workflow
    for name in datasets:
        patterns = pd.read_parquet(workdir / f"results/{name}/registration/patterns.parquet")
        shape = read_metadata(workdir / f"results/{name}/registration/patterns.parquet")[
            "scan_shape"
        ]
        count = tifffile.imread(workdir / f"results/{name}/maps/spot_count.tif")
        unusable = (patterns["flags"] != 0).to_numpy().reshape(shape)
        expected = np.where(unusable, np.nan, patterns.n_spots.to_numpy().reshape(shape))
        np.testing.assert_array_equal(count, expected)  # no value where no frame was usable
        assert tifffile.imread(workdir / f"results/{name}/maps/combined.tif").shape == (*shape, 3)
        assert len(list((workdir / f"results/{name}/maps/png").glob("*.png"))) == 11
        summary = yaml.safe_load((workdir / f"results/{name}/metrics/summary.json").read_text())
        table_bytes = sum(
            (workdir / f"results/{name}/registration/{t}.parquet").stat().st_size
            for t in ("spots", "patterns")
        )
        raw = (
            workdir
            / f"results/{name}/{'prepared' if datasets[name].get('stream') else 'raw'}/data.npy"
        )
        assert summary["patterns"] == len(patterns)
        assert summary["unusable_patterns"] == (
            {"not_finite": 1, "constant": 1}
            if name == "stack"
            else {"not_finite": 0, "constant": 0}
        )
        assert summary["compression_factor"] == pytest.approx(raw.stat().st_size / table_bytes)
        # The paper: 1e-2..1e-3 px; these 64 px frames' small spots 0.017-0.039 px. A detection
        # that misses a reconstruction's spots reads whole px. (The stack's noise has no spot.)
        if name != "stack":
            assert summary["round_trip_offset_median_px"] <= 0.05, name
        assert all(
            (workdir / f"results/{name}/figures/{f}").stat().st_size > 10_000
            for f in (
                "fig3_adaptive_prominence.png",
                "fig4_registration.png",
                "figS11_compression.png",
            )
        )
    with tifffile.TiffFile(workdir / "results/stack/maps/adf.tif") as tiff:
        assert tiff.pages[0].resolution == (0.25, 0.25) and tiff.imagej_metadata["unit"] == "nm"
    assert read_tiff_provenance(workdir / "results/tiny/maps/adf.tif")["parameters"]["adf"] == [
        0.5,
        0.95,
    ]
    from PIL import Image

    figure = json.loads(
        Image.open(workdir / "results/tiny/figures/fig4_registration.png").text["acomflow"]
    )
    assert figure["parameters"]["registration"]["blur_sigma"] == 2.0
    assert any(path.endswith("spot_pairs.parquet") for path in figure["inputs"])
    accuracy = yaml.safe_load((workdir / "results/tiny/metrics/accuracy.json").read_text())
    assert accuracy["direct_beam_flagged"] == 1.0
    assert "Nothing to be done" in snakemake(workdir, "figures", "-n").stdout
    snakemake(workdir, "--report", "report.html")
    html = (workdir / "report.html").read_text()
    for shown in (
        "amorphous.png",
        "combined.png",
        "quality_maps.png",
        "fig3_adaptive_prominence.png",
        "figS11_compression.png",
    ):
        assert shown in html


def test_reconstruction_settings_rerun_only_reconstruction(workflow):
    workdir, _, datasets = workflow
    write_config(
        workdir, datasets, reconstruction={"formats": ["blo", "bmp", "tiff", "npy"], "size": 128}
    )
    try:
        assert jobs(snakemake(workdir, "-n")) == {"reconstruct": len(datasets)}
    finally:
        write_config(workdir, datasets)


def test_a_registration_parameter_reruns_exactly_what_depends_on_it(workflow):
    """prominence_k changes every registered table (the beam centres the registration shards
    measure stay as they were), so everything from registration on re-runs, for every
    dataset."""
    workdir, _, datasets = workflow
    write_config(workdir, datasets, registration={"prominence_k": 1.5})
    try:
        n = len(datasets)
        assert jobs(snakemake(workdir, "-n")) == {
            **registered(n),
            **matched(1),
            "mask": n,
            "truth_accuracy": synthetic(datasets),
        }
    finally:
        write_config(workdir, datasets)


def test_map_settings_rerun_only_the_maps(workflow):
    workdir, _, datasets = workflow
    write_config(workdir, datasets, maps={"adf": [0.4, 0.9]})
    try:
        assert jobs(snakemake(workdir, "-n")) == {"maps": len(datasets)}
    finally:
        write_config(workdir, datasets)


def test_template_banks(workflow):
    """One bank per phase the dataset names, at the store's beam energy and the precession asked,
    with the phase and its settings in the metadata; a template setting re-runs only the banks
    and the matching."""
    from acomflow.crystal.orientations import beam_directions
    from acomflow.crystal.phase import read_cif

    workdir, _, datasets = workflow
    for phase, count in (
        ("Al", len(beam_directions(read_cif(workdir / "config/phases/Al.cif"), 5.0))),
        ("PbI2", None),
    ):
        bank = workdir / f"results/tiny/acom/banks/{phase}"
        directions, spots = (
            pd.read_parquet(bank / "directions.parquet"),
            pd.read_parquet(bank / "spots.parquet"),
        )
        metadata = read_metadata(bank / "spots.parquet")
        assert (
            metadata["phase"]["name"] == phase
            and metadata["parameters"]["diffraction"]["precession_deg"] == 1.0
        )
        assert metadata["parameters"]["diffraction"]["beam_energy_kev"] == 200.0
        assert count is None or len(directions) == count
        assert set(spots.direction) <= set(directions.direction) and (spots.intensity > 0).all()
    write_config(workdir, datasets, templates={"resolution_deg": 4.0})
    try:
        assert jobs(snakemake(workdir, "-n")) == {"template_bank": 2, **matched(1)}
    finally:
        write_config(workdir, datasets)
    # a changed CIF re-draws the dataset made of it and re-builds the banks
    cif = workdir / "config/phases/Al.cif"
    original = cif.read_text()
    cif.write_text(original + "# a change\n")
    try:
        planned = jobs(snakemake(workdir, "-n"))
        assert planned["simulate"] == 1 and planned["template_bank"] == 2
    finally:
        cif.write_text(original)


def test_orientation_outputs(workflow):
    """One row per scan position with the documented columns, unit quaternions and their Bunge
    angles where matched; the .ang and HDF5 maps read back by orix with the same orientations;
    the accuracy summary and the figures with their provenance."""
    from orix.io import load
    from orix.quaternion import Rotation
    from PIL import Image

    workdir, _, _ = workflow
    acom = workdir / "results/tiny/acom"
    table = pd.read_parquet(acom / "orientations.parquet")
    assert list(table.columns) == [
        *("scan_y", "scan_x", "phase", "qw", "qx", "qy", "qz", "phi1", "Phi", "phi2"),
        *("index", "reliability", "phase_reliability", "n_spots", "matched", "residual"),
        *("scale", "relrod_width", "flags"),
    ]
    assert len(table) == 12 and set(table["phase"]) <= {"", "Al", "PbI2"}
    found = (table["phase"] != "").to_numpy()
    assert found.any()
    q = table[["qw", "qx", "qy", "qz"]].to_numpy()
    np.testing.assert_allclose(np.linalg.norm(q[found], axis=1), 1.0, atol=1e-12)
    euler = np.rad2deg(Rotation(q[found]).to_euler())
    np.testing.assert_allclose(table.loc[found, ["phi1", "Phi", "phi2"]], euler, atol=1e-9)
    assert (table.loc[~found, "reliability"] == 0).all() and np.isnan(q[~found]).all()
    assert (table.loc[found, "reliability"].between(0, 100)).all()
    assert read_metadata(acom / "orientations.parquet")["parameters"]["phases"] == ["Al", "PbI2"]
    for path, tolerance in ((acom / "orientations.ang", 2e-5), (acom / "orientations.h5", 1e-6)):
        xmap = load(path)
        names = [xmap.phases[i].name if i >= 0 else "" for i in xmap.phase_id]
        assert names == list(table["phase"])
        dot = np.abs(np.sum(xmap.rotations.data[found] * q[found], axis=1))
        assert np.all(2.0 * np.arccos(np.clip(dot, 0, 1)) < tolerance)
    accuracy = json.loads((workdir / "results/tiny/metrics/orientation_accuracy.json").read_text())
    assert accuracy["min_spots"] == 8 and accuracy["non_crystal_matched"] >= 0
    for png in ("figures/acom_orientations.png", "metrics/orientation_accuracy.png"):
        assert "code_hash" in Image.open(workdir / "results/tiny" / png).text["acomflow"]


def test_nothing_to_do_when_nothing_changed(workflow):
    workdir, _, _ = workflow
    assert "Nothing to be done" in snakemake(workdir, "-n").stdout


def test_a_changed_npy_source_reruns_its_conversion(workflow):
    """The store of an .npy source links to it: a changed source is linked again, and
    everything from registration on re-runs for that dataset alone."""
    workdir, stack, _ = workflow
    source = workdir / "stack.npy"
    original, before = source.read_bytes(), source.stat()
    np.save(source, stack + 1)
    try:
        assert jobs(snakemake(workdir, "-n")) == {"convert": 1, **registered(1), "mask": 1}
    finally:
        source.write_bytes(original)
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert "Nothing to be done" in snakemake(workdir, "-n").stdout


def test_config_change_reruns_only_that_dataset(workflow):
    workdir, _, datasets = workflow
    changed = {**datasets, "tiny": {**TINY, "synthetic": {**TINY["synthetic"], "seed": 9}}}
    write_config(workdir, changed)
    try:
        assert jobs(snakemake(workdir, "-n")) == {
            "simulate": 1,
            **registered(1),
            **matched(1),
            "mask": 1,
            "truth_accuracy": 1,
            "template_bank": 2,  # the store's beam energy is its input
        }
    finally:
        write_config(workdir, datasets)


def test_neighbour_averaging_reruns_registration_only(workflow):
    """Averaged frames need their beam centres first: a centring pass of its own, then
    registration."""
    workdir, _, datasets = workflow
    write_config(workdir, datasets, neighbour_averaging={"size": 3})
    try:
        assert jobs(snakemake(workdir, "-n")) == {
            "centre_beam": len(datasets),
            **registered(len(datasets)),
            **matched(1),
            "truth_accuracy": synthetic(datasets),
        }
    finally:
        write_config(workdir, datasets)


def test_code_change_reruns_only_the_rules_that_import_it(workflow):
    workdir, _, datasets = workflow
    converted = sum(1 for ds in datasets.values() if ds["source"] != "synthetic")
    n = len(datasets)
    synthetic_n = synthetic(datasets)
    downstream = lambda n, truth=0, acom=0: {
        **registered(n),
        **matched(acom),
        "mask": n,
        "truth_accuracy": truth,
    }
    for module, expected in (
        # the generator draws crystal grains with the template model
        *(
            (
                module,
                {"simulate": 2, "realign_stream": 1, "template_bank": 2, **downstream(2, 2, 1)},
            )
            for module in ("simulate/render.py", "crystal/excitation.py")
        ),
        ("prepare/stream.py", {"realign_stream": 1, **downstream(1, 1)}),
        ("readers/source.py", {"convert": converted, **downstream(converted)}),
        # masking detects spots as registration does; metrics and figures register again
        ("peaks/refine.py", downstream(n, synthetic_n, 1)),
        # the maxima search runs in registration and masking, not in centring
        (
            "register/maxima.py",
            {**registered(n), **matched(1), "mask": n, "truth_accuracy": synthetic_n},
        ),
        (
            "prepare/centre.py",
            {**downstream(n, synthetic_n, 1), "mask": 0},
        ),  # temp shards re-run with their merge
        (
            "acom/search.py",
            {
                "matching_calibration": 1,
                "match_shard": 2,
                "match_merge": 1,
                "orientation_figure": 1,
                "orientation_accuracy": 1,
            },
        ),
        (
            "reconstruct/discs.py",
            {
                "reconstruct": n,
                "metrics_shard": 2 * n,
                "metrics": n,
                "figure_4": n,
                "figure_s11": n,
            },
        ),
        ("maps/detectors.py", {"maps": n}),
        ("figures/compression.py", {"figure_s11": n}),
        (
            "blockfile.py",
            {**downstream(converted), "convert": converted, "reconstruct": n, "mask": n},
        ),
    ):
        expected = {rule: count for rule, count in expected.items() if count}
        path = workdir / "src/acomflow" / module
        original = path.read_text()
        path.write_text(original + "\n# a change\n")
        try:
            assert jobs(snakemake(workdir, "-n")) == expected
        finally:
            path.write_text(original)
    assert "Nothing to be done" in snakemake(workdir, "-n").stdout


def test_tables_are_the_same_for_other_shard_counts(workflow):
    """Registration, centring, metrics and orientation tables, byte for byte, with 3 shards
    instead of 2 (each job runs on one thread: the core count only changes which jobs run at
    once)."""
    workdir, _, _ = workflow
    tables = [
        workdir / f"results/tiny/{path}"
        for path in (
            "registration/spots.parquet",
            "registration/patterns.parquet",
            "centring/centres.parquet",
            "metrics/quality.parquet",
            "metrics/spot_pairs.parquet",
            "acom/orientations.parquet",
        )
    ]
    before = [table.read_bytes() for table in tables]
    snakemake(
        workdir,
        "--set-scatter",
        "register=3",
        "metrics=3",
        "match=3",
        "--forcerun",
        "register_shard",
        "metrics_shard",
        "match_shard",
        "--until",
        "metrics",
        "match_merge",
        "--allowed-rules",
        "register_shard",
        "register_merge",
        "metrics_shard",
        "metrics",
        "match_shard",
        "match_merge",
        cores=2,
    )
    assert [table.read_bytes() for table in tables] == before
    assert read_metadata(tables[0])["scan_shape"] == [3, 4]


@pytest.mark.parametrize(
    "phases,message",
    [
        (
            {"Al": {"cif": "config/phases/broken.cif"}},
            "config/phases/broken.cif: cannot be read as a CIF file",
        ),
        (
            {"Au": {"cif": "config/phases/Al.cif"}},
            "datasets/tiny/acom/phases: 'Al' is not among the phases (['Au'])",
        ),
    ],
)
def test_a_bad_phase_fails_before_any_job(workflow, phases, message):
    workdir, _, datasets = workflow
    (workdir / "config/phases/broken.cif").write_text("this is no CIF\n")
    write_config(workdir, datasets, phases=phases)
    try:
        result = snakemake(workdir, "-n", check=False)
        assert result.returncode != 0 and message in result.stdout + result.stderr
    finally:
        write_config(workdir, datasets)


def test_bad_config_fails_before_any_job(workflow):
    workdir, _, datasets = workflow
    write_config(workdir, {**datasets, "tiny": {**TINY, "synthetic": {"dtype": "int8"}}})
    try:
        result = snakemake(workdir, "-n", check=False)
        assert result.returncode != 0
        assert (
            "datasets/tiny/synthetic/dtype: 'int8' is not one of" in result.stdout + result.stderr
        )
    finally:
        write_config(workdir, datasets)


def test_the_comparison_of_preparations(workflow):
    """`snakemake acom_comparison`: ASTAR's index on the raw frames, both ASTAR filter sets, the
    reconstruction and the masked frames, each a table of the orientation table's columns,
    and a summary whose figures are those of the tables."""
    from acomflow.prepare.astar import astar_filters, grey_scale, to_grey

    workdir, _, _ = workflow
    snakemake(workdir, "acom_comparison")
    comparison = workdir / "results/tiny/comparison"
    summary = json.loads((comparison / "summary.json").read_text())["preparations"]
    names = ["raw", "astar_default", "astar_optimised", "reconstruction", "masked"]
    assert list(summary) == [*names, "matcher"]
    patterns = pd.read_parquet(workdir / "results/tiny/registration/patterns.parquet")
    roi = (patterns["n_spots"] >= 5).to_numpy()
    matched = pd.read_parquet(workdir / "results/tiny/acom/orientations.parquet")
    for name in names:
        table = pd.read_parquet(comparison / f"{name}.parquet")
        assert list(table.columns) == [
            *("scan_y", "scan_x", "phase", "qw", "qx", "qy", "qz", "phi1", "Phi", "phi2"),
            *("index", "reliability", "phase_reliability", "n_spots", "flags"),
        ]
        assert (table["n_spots"] == patterns["n_spots"]).all() and len(table) == 12
        assert summary[name]["mean_reliability_map"] == pytest.approx(table.reliability.mean())
        assert summary[name]["mean_reliability_roi"] == pytest.approx(table.reliability[roi].mean())
        truth = summary[name]["truth"]
        assert 0 <= truth["false_orientations_per_100"] <= 100 and "phases" in truth
    assert summary["matcher"]["mean_reliability_map"] == pytest.approx(matched.reliability.mean())
    raw, raw_sidecar = open_store(workdir / "results/tiny/raw")
    filtered, sidecar = open_store(workdir / "results/tiny/astar/optimised")
    scale = grey_scale(raw.dtype, workdir / "results/tiny/registration/spots.parquet")
    assert sidecar["parameters"]["scale"] == pytest.approx(scale)
    np.testing.assert_array_equal(
        filtered[1, 2], astar_filters(to_grey(raw[1, 2], scale), 1, 4, 10)
    )


def test_the_comparison_figures_tables_are_the_maps_they_summarise(workflow):
    """Fig. 5, 6 and 7 (and Fig. 2) come with `acom_comparison`; each figure's table holds the
    figures of the orientation tables it draws, recomputed here from their definitions: mean R
    in the grain ROI (>= 5 registered spots) and over the map, the fraction of the map each
    mask keeps (index above Otsu's threshold, R >= 15, both, >= 5 spots), and the reliability
    statistics of raw and reconstructed frames."""
    from skimage.filters import threshold_otsu

    workdir, _, _ = workflow
    snakemake(workdir, "acom_comparison")
    figures = workdir / "results/tiny/figures"
    for name in ("fig2_overview", "fig5_preparations", "fig6_raw_and_reconstructed", "fig7_masks"):
        assert (figures / f"{name}.png").stat().st_size > 10_000
    n_spots = pd.read_parquet(workdir / "results/tiny/registration/patterns.parquet")["n_spots"]
    roi = (n_spots >= 5).to_numpy()
    comparison = workdir / "results/tiny/comparison"
    tables = {
        name: pd.read_parquet(comparison / f"{name}.parquet")
        for name in ("raw", "astar_default", "astar_optimised", "reconstruction", "masked")
    }
    tables["matcher"] = pd.read_parquet(workdir / "results/tiny/acom/orientations.parquet")
    fig5 = pd.read_csv(figures / "fig5_preparations.csv").set_index("preparation")
    fig7 = pd.read_csv(figures / "fig7_masks.csv").set_index(["preparation", "mask"])
    assert list(fig5.index) == list(tables)
    for name, table in tables.items():
        reliability = table["reliability"].to_numpy(np.float64)
        index = table["index"].to_numpy(np.float64)
        assert fig5.at[name, "mean_reliability_roi"] == pytest.approx(reliability[roi].mean())
        assert fig5.at[name, "mean_reliability_map"] == pytest.approx(reliability.mean())
        assert fig5.at[name, "index_median"] == pytest.approx(np.median(index))
        above = index > (threshold_otsu(index) if np.ptp(index) > 0 else index.max())
        for mask, kept in (
            ("index", above),
            ("reliability", reliability >= 15),
            ("index_and_reliability", above & (reliability >= 15)),
            ("spot_count", roi),
        ):
            assert fig7.at[(name, mask), "kept"] == pytest.approx(kept.mean())
    assert fig5.at["reconstruction", "paper_mean_reliability_roi"] == 29.4
    assert fig5.at["raw", "paper_mean_reliability_roi"] == 15.0
    fig6 = pd.read_csv(figures / "fig6_reliability.csv").set_index(["preparation", "region"])
    for name in ("raw", "reconstruction"):
        reliability = tables[name]["reliability"].to_numpy(np.float64)
        for region, values in (("map", reliability), ("grain ROI", reliability[roi])):
            assert fig6.at[(name, region), "mean_reliability"] == pytest.approx(values.mean())
            assert fig6.at[(name, region), "reliable_fraction"] == pytest.approx(
                np.mean(values >= 15)
            )


def test_the_comparison_of_a_dataset_given_only_a_file_and_a_cif(workflow):
    """A microscope file (here the tiny scan's frames as .npy) with its calibration (reciprocal
    pixel size, beam energy) and one CIF: `snakemake acom_comparison` compares its
    preparations and draws the figures, without the accuracy columns a truth would give."""
    workdir, _, datasets = workflow
    data, sidecar = open_store(workdir / "results/tiny/raw")
    np.save(workdir / "scan.npy", np.asarray(data))
    scan = {
        "source": "scan.npy",
        "calibration": {
            "inv_angstrom_per_px": sidecar["calibration"]["inv_angstrom_per_px"],
            "beam_energy_kev": 200.0,
        },
        "acom": {"phases": ["Al"], "precession_deg": 1.0},
    }
    write_config(workdir, {**datasets, "scan": scan})
    try:
        snakemake(workdir, "acom_comparison")
    finally:
        write_config(workdir, datasets)
    summary = json.loads((workdir / "results/scan/comparison/summary.json").read_text())
    assert all("truth" not in entry for entry in summary["preparations"].values())
    fig5 = pd.read_csv(workdir / "results/scan/figures/fig5_preparations.csv")
    assert "within_2_deg" not in fig5.columns and len(fig5) == 6
    for name in ("fig2_overview", "fig6_raw_and_reconstructed", "fig7_masks"):
        assert (workdir / f"results/scan/figures/{name}.png").is_file()
