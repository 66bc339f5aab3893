"""Shared fixtures and helpers: the real microscope files in ../shared (skipped cleanly when
absent), and copies of the workflow run with Snakemake in a temporary folder."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from numba.core import config as numba_config
from numba.core.caching import _CacheLocator

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"
# Austenite, for the real steel patterns of subset_data.hspy (written from published facts).
AUSTENITE_CIF = """# Austenite (gamma-Fe): Fm-3m, a = 3.59 A, Fe at 4a (published lattice facts).
data_austenite
_cell_length_a 3.59
_cell_length_b 3.59
_cell_length_c 3.59
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_space_group_name_H-M_alt 'F m -3 m'
_space_group_IT_number 225
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Fe1 Fe 0 0 0 1
"""


@pytest.fixture
def real():
    """Folder of real test files; skips the test when ../shared is not there."""
    if not REAL.is_dir():
        pytest.skip(f"real test data not found at {REAL}")
    return REAL


def copy_workflow(workdir):
    """A runnable copy of the workflow (Snakefile, rules, scripts, config, package, profiles) in
    `workdir`, its numba cache seeded (`seed_numba_cache`)."""
    workdir.mkdir(parents=True)
    shutil.copy(REPO / "Snakefile", workdir)
    for name in ("rules", "scripts", "config", "src", "envs", "profiles", "report"):
        shutil.copytree(
            REPO / name, workdir / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
        )
    seed_numba_cache(workdir)
    return workdir


def seed_numba_cache(workdir):
    """Copy what this test process has compiled of the package into the numba cache of the
    copy's jobs (`snakemake`), so that they do not compile it again. numba files a cache by the
    source file's folder and checks each entry against the source's content hash, so an entry
    of a file the copy has changed is never used."""
    subpath = _CacheLocator.get_suitable_cache_subpath
    for source in (REPO / "src").rglob("*.py"):
        here = (
            Path(numba_config.CACHE_DIR, subpath(str(source)))
            if numba_config.CACHE_DIR
            else source.parent / "__pycache__"
        )
        there = workdir.parent / "numba-cache" / subpath(str(workdir / source.relative_to(REPO)))
        for entry in [*here.glob(f"{source.stem}.*.nbi"), *here.glob(f"{source.stem}.*.nbc")]:
            there.mkdir(parents=True, exist_ok=True)
            shutil.copy2(entry, there)


def write_config(workdir, datasets, **sections):
    """The copy's config.yaml: these datasets, every export and frame format, masking on, the
    demo's phases with coarse (5 deg) template banks."""
    config = {
        "datasets": datasets,
        "phases": {name: {"cif": f"config/phases/{name}.cif"} for name in ("Al", "PbI2")},
        "templates": {"resolution_deg": 5.0},
        "exports": {"epattern_csv": True},
        "reconstruction": {"formats": ["blo", "bmp", "tiff", "npy"]},
        "masking": {"enabled": True, "formats": ["blo", "npy"]},
    }
    (workdir / "config/config.yaml").write_text(yaml.safe_dump({**config, **sections}))


def snakemake(workdir, *args, cores=2, check=True, timeout=900):
    """Run Snakemake in `workdir` on `cores` local cores (None: as a profile says); the numba
    cache beside `workdir`. A run longer than `timeout` seconds is killed and fails the test."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(workdir.parent / "numba-cache")}
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", *(["--cores", str(cores)] if cores else []), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def jobs(result):
    """{rule: count} from a dry run's job table."""
    table = result.stdout.split("Job stats:")[-1] if "Job stats:" in result.stdout else ""
    return {
        rule: int(n)
        for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)
        if rule not in ("total", "all")
    }
