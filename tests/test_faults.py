"""Faults a beamtime meets: a job killed mid-way, a full disk, a read-only results folder, two
runs on one folder. Nothing half-written is left under a final name, earlier results stay as
they were, and every failure says what happened and where. The disk and mount cases need root
(a small tmpfs, a read-only bind mount) and are skipped elsewhere."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import copy_workflow, snakemake, write_config

from acomflow.convert import convert
from acomflow.readers.formats import open_source
from acomflow.register.dataset import register_shard
from acomflow.register.settings import RegistrationSettings
from acomflow.simulate.dataset import simulate
from acomflow.simulate.settings import SyntheticSettings


def _mount(*args):
    """Run mount (root only); False where it is not allowed here."""
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


TINY = {"source": "synthetic", "scan_shape": [3, 4], "synthetic": {"frame_size": 64}}


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    """A synthetic 16 x 24 scan of 128 px frames (about 2 s to register), stored."""
    out = tmp_path_factory.mktemp("scan")
    simulate(SyntheticSettings(scan_shape=(16, 24), frame_size=128, seed=2), out)
    return out / "raw"


def test_a_registration_killed_mid_shard_reruns_to_the_same_bytes(scan, tmp_path):
    """SIGKILL a shard while it registers: no table under its final name, and the re-run's
    tables byte-identical to an uninterrupted run's, with no temporary file left."""
    settings = RegistrationSettings()
    reference = [tmp_path / "ref.spots.parquet", tmp_path / "ref.patterns.parquet"]
    register_shard(scan, 0, 1, settings, *reference)
    out = tmp_path / "run"
    out.mkdir()
    paths = [out / "spots.parquet", out / "patterns.parquet"]
    code = (
        "from acomflow.register.dataset import register_shard;"
        "from acomflow.register.settings import RegistrationSettings;"
        "print('started', flush=True);"
        f"register_shard({str(scan)!r}, 0, 1, RegistrationSettings(), "
        f"{str(paths[0])!r}, {str(paths[1])!r})"
    )
    job = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert job.stdout.readline() == "started\n"  # imported: the shard registers now
    time.sleep(0.5)
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    assert job.returncode == -signal.SIGKILL
    assert not any(path.exists() for path in paths)
    register_shard(scan, 0, 1, settings, *paths)
    for path, expected in zip(paths, reference):
        assert path.read_bytes() == expected.read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["patterns.parquet", "spots.parquet"]


def test_a_full_disk_is_named_and_leaves_earlier_results(scan, tmp_path):
    """Converting 12 MiB into a 1 MiB tmpfs: an error naming the file and the full disk, no
    partial store, and the earlier result beside it intact."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)):
        pytest.skip("mounting a tmpfs needs root")
    try:
        earlier = disk / "earlier.json"
        earlier.write_text('{"kept": true}')
        source = open_source(scan / "data.npy")
        with pytest.raises(OSError, match=r"raw/data\.npy: no space left on the device"):
            convert(source, disk / "raw", in_place=False)
        assert earlier.read_text() == '{"kept": true}'
        assert not (disk / "raw" / "data.npy").exists()
        assert [p.name for p in (disk / "raw").iterdir()] == []
    finally:
        subprocess.run(["umount", str(disk)], check=True)


@pytest.fixture
def tiny_workflow(tmp_path):
    workdir = copy_workflow(tmp_path / "acomflow")
    write_config(workdir, {"tiny": TINY})
    return workdir


@pytest.mark.workflow
def test_a_read_only_results_folder_is_reported_before_any_job(tiny_workflow):
    results = tiny_workflow / "results"
    results.mkdir()
    if _mount("--bind", str(results), str(results)):
        mounted = _mount("-o", "remount,ro,bind", str(results))
    else:
        results.chmod(0o555)
        mounted = False
    try:
        if not mounted and os.access(results, os.W_OK):
            pytest.skip("no read-only folder can be made here (root without mount)")
        run = snakemake(tiny_workflow, check=False)
        assert run.returncode != 0
        assert "results/: cannot be written (Read-only file system)" in run.stderr + run.stdout
        assert not (tiny_workflow / "logs/tiny").exists()
    finally:
        if mounted or Path(results).is_mount():
            subprocess.run(["umount", str(results)], check=True)
        results.chmod(0o755)


@pytest.mark.workflow
def test_a_second_run_on_the_same_folder_is_refused(tiny_workflow):
    """Snakemake's lock: a run started while another runs in the folder stops at once, and the
    first goes on."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tiny_workflow.parent / "numba-cache")}
    first = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "1"],
        cwd=tiny_workflow,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its jobs with it, killed as one group
    )
    try:
        deadline = time.monotonic() + 120
        while not any((tiny_workflow / ".snakemake/locks").glob("*")):
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        second = snakemake(tiny_workflow, check=False)
        assert second.returncode != 0 and "cannot be locked" in second.stdout + second.stderr
        assert first.poll() is None
    finally:
        # The folder is this test's alone: no need to wait for a graceful stop.
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=120)
