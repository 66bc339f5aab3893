"""Every real microscope file in ../shared/data/real/ through the default workflow, as a user
would give it (the file, and a scan shape where the file has none): each reaches the end, maps,
metrics and the report included, whatever its frame shape (non-square, odd, 4 x 5 px) or its
frames (one frame, no direct beam, float or integer). Skipped when ../shared is absent."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import AUSTENITE_CIF, REAL, copy_workflow, snakemake

pytestmark = pytest.mark.workflow

# name: (file under real/, scan shape where the file holds a flat stack of frames)
FILES = {
    "blo_test1": ("blockfile/test1.blo", None),
    "blo_test2": ("blockfile/test2.blo", None),
    "mib_4x2": ("mib/001_4x2_6bit.mib", None),
    "mib_roi": ("mib/002_4x2_6bit_roi128.mib", None),
    "mib_single": ("mib/Single_9_Frame_CounterDepth_12_Rows_256.mib", [3, 3]),
    "mib_quad": ("mib/Quad_9_Frame_CounterDepth_6_Rows_256.mib", [3, 3]),
    "app5_a": ("app5/topspin_test_A.app5", None),
    "app5_b": ("app5/topspin_test_B.app5", None),
    "app5_c": ("app5/topspin_test_C.app5", None),
    "dm3": ("dm/test_diffraction_pattern.dm3", None),
    "dm4_2d": ("dm/dmTest_float32_nonSquare_diffPixelSize.dm4", None),
    "dm4_3d": ("dm/dmTest_3D_int16_64,65,66.dm4", [6, 11]),
    "tif_au": ("tiff/au_xgrating_20cm.tif", None),
    "tif_moo3": ("tiff/moo3_20cm.tif", None),
    "tif_stack": ("tiff/test_loading_image_saved_with_DM_stack.tif", [1, 2]),
    "hspy": ("hspy/subset_data.hspy", None),
    "emd": ("emd/py4DSTEM_size2x3x4x5.h5", None),
    "empad": ("empad/map4x4.xml", None),
}


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """The default workflow (one shard per stage) over every real file, run once; the steel
    of subset_data.hspy also mapped against austenite, its distortion measured."""
    if not REAL.is_dir():
        pytest.skip(f"real test data not found at {REAL}")
    workdir = copy_workflow(tmp_path_factory.mktemp("real") / "acomflow")
    empad = workdir / "empad"  # the EMPAD header names a raw file no repository holds
    empad.mkdir()
    shutil.copy(REAL / "empad/map4x4.xml", empad)
    np.arange(4 * 4 * 130 * 128, dtype="<f4").tofile(empad / "scan_x4_y4.raw")
    datasets = {}
    for name, (path, scan_shape) in FILES.items():
        source = empad / "map4x4.xml" if name == "empad" else REAL / path
        datasets[name] = {"source": str(source)}
        if scan_shape:
            datasets[name]["scan_shape"] = scan_shape
    # the steel of subset_data.hspy mapped against austenite, the distortion measured
    (workdir / "config/phases/austenite.cif").write_text(AUSTENITE_CIF)
    datasets["hspy"].update(
        calibration={"beam_energy_kev": 200.0},
        acom={"phases": ["austenite"], "precession_deg": 1.0},
    )
    config = {
        "datasets": datasets,
        "phases": {"austenite": {"cif": "config/phases/austenite.cif"}},
        "matching": {"distortion": "measured"},
    }
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config))
    snakemake(workdir, "--set-scatter", "register=1", "metrics=1", "match=1", timeout=1500)
    snakemake(workdir, "--report", "results/report.html", cores=1)
    return workdir


@pytest.mark.parametrize("name", FILES)
def test_every_real_file_reaches_the_maps_and_metrics(real_run, name):
    """The registered tables, a map per scan position and the metrics summary, which counts
    every frame as registered or not."""
    results = real_run / "results" / name
    patterns = pd.read_parquet(results / "registration/patterns.parquet")
    summary = json.loads((results / "metrics/summary.json").read_text())
    assert summary["patterns"] == len(patterns) > 0
    unusable = summary["unusable_patterns"]
    assert unusable["not_finite"] + unusable["constant"] == int((patterns["flags"] != 0).sum())
    assert (results / "maps/png/spot_count.png").stat().st_size > 5_000
    assert (results / "figures/fig4_registration.png").stat().st_size > 10_000


def test_the_report_holds_every_real_file(real_run):
    report = (real_run / "results/report.html").read_text(errors="replace")
    assert all(f"results/{name}/maps/png" in report for name in FILES)


def test_the_steel_s_distortion_is_measured_and_its_spots_explained(real_run):
    """subset_data.hspy through the workflow, `matching.distortion: measured`: the ellipse
    within the range its Friedel pairs give by hand (1.047-1.073 along 39-44.5 deg,
    validation.md), and every pattern austenite with at least 10 spots explained (5 without
    the correction)."""
    acom = real_run / "results/hspy/acom"
    distortion = json.loads((acom / "matching_calibration.json").read_text())["distortion"]
    assert distortion["measured"] and distortion["source"] == "measured"
    assert 1.047 <= distortion["ratio"] <= 1.073 and 39.0 <= distortion["angle_deg"] <= 44.5
    orientations = pd.read_parquet(acom / "orientations.parquet")
    assert (orientations["phase"] == "austenite").all() and (orientations["matched"] >= 10).all()
