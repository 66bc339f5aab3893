"""The workflow on a real single-node SLURM cluster through profiles/slurm (issue 7): every job
but the localrules goes through sbatch, and the registered table is byte-identical to a local
run's. Runs as root on Debian, where SLURM can be installed; skipped with the reason elsewhere."""

import re
import shutil
import subprocess

import pytest
import slurm_cluster
import yaml
from conftest import REPO, copy_workflow, jobs, snakemake, write_config

pytestmark = pytest.mark.workflow

DATASETS = {
    "tiny": {
        "source": "synthetic",
        "scan_shape": [4, 6],
        "synthetic": {"frame_size": 64, "n_grains": 3},
    }
}
TABLES = ("spots.parquet", "patterns.parquet")
LOCAL_RULES = {
    "all",
    "register_merge",
    "export_epattern_csv",
    "metrics",
    "truth_accuracy",
    "figure_3",
    "figure_s11",
    "figures",
}


def test_slurm_profile_documents_every_key_and_sets_cluster_shards(tmp_path):
    text = (REPO / "profiles/slurm/config.yaml").read_text()
    undocumented = [
        line for line in text.splitlines() if re.match(r"\s*[\w-]+:", line) and "#" not in line
    ]
    assert not undocumented
    profile = yaml.safe_load(text)
    assert (profile["executor"], profile["scheduler"], profile["slurm-status-command"]) == (
        "slurm",
        "greedy",
        "squeue",
    )
    workdir = copy_workflow(tmp_path / "acomflow")
    write_config(workdir, DATASETS)
    dry_run = snakemake(workdir, "--profile", "profiles/slurm", "-n")
    assert jobs(dry_run)["register_shard"] == jobs(dry_run)["metrics_shard"] == 32
    assert profile["set-scatter"] == {"register": 32, "metrics": 32}
    shard = dry_run.stdout[dry_run.stdout.index("rule register_shard:") :].split("\n\n")[0]
    assert "mem_mb=1500," in shard and "cpus_per_task=1" in shard


@pytest.fixture(scope="module")
def slurm_installed():
    reason = slurm_cluster.unavailable()
    if reason:
        pytest.skip(reason)
    try:
        slurm_cluster.install()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        pytest.skip(
            f"could not install {' '.join(slurm_cluster.PACKAGES)}: {str(error.stderr)[-1000:]}"
        )


def test_workflow_on_slurm_equals_a_local_run(slurm_installed, tmp_path):
    """One copy of the workflow (one numba cache): registered locally, then everything again on
    SLURM."""
    workdir = copy_workflow(tmp_path / "acomflow")
    write_config(workdir, DATASETS)
    snakemake(workdir, "--until", "register_merge")
    registration = workdir / "results/tiny/registration"
    local = {table: (registration / table).read_bytes() for table in TABLES}
    shutil.rmtree(workdir / "results")
    with slurm_cluster.cluster(tmp_path / "slurm") as started:
        # The README's command, with three shards instead of 32 (a 4-line scan) and quick status
        # checks.
        result = snakemake(
            workdir,
            "--profile",
            "profiles/slurm",
            "--set-scatter",
            "register=3",
            "metrics=3",
            "--slurm-init-seconds-before-status-checks",
            "2",
            cores=None,
        )
        accounting = subprocess.run(
            ["squeue", "--states=all", "--noheader", "--format=%i %T %k"],
            capture_output=True,
            text=True,
        )
    assert started["pids"] and not any(slurm_cluster.alive(pid) for pid in started["pids"])
    assert not slurm_cluster.CONF.exists()
    assert {table: (registration / table).read_bytes() for table in TABLES} == local
    jobs = [line.split() for line in accounting.stdout.splitlines()]
    assert jobs and all(state == "COMPLETED" for _, state, _ in jobs)
    rules_on_slurm = {
        comment.split("_wildcards_")[0].removeprefix("rule_") for _, _, comment in jobs
    }
    assert rules_on_slurm == {
        "simulate",
        "register_shard",
        "reconstruct",
        "mask",
        "maps",
        "metrics_shard",
        "figure_4",
    }
    assert len(jobs) == len(rules_on_slurm) + 4  # three shards of each sharded rule
    assert not rules_on_slurm & LOCAL_RULES
    assert (workdir / "results/tiny/figures/fig4_registration.png").is_file(), result.stderr[-2000:]
