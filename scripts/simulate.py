"""Snakemake entry point of rule `simulate`: generate a synthetic dataset and its ground truth."""

from pathlib import Path

from acomflow.crystal.phase import read_phases
from acomflow.simulate.dataset import simulate
from acomflow.simulate.settings import SyntheticSettings
from acomflow.workflow import job

with job(snakemake):
    simulate(
        SyntheticSettings.from_config(snakemake.params.settings),
        Path(snakemake.output.sidecar).parents[1],
        read_phases(snakemake.params.phases, snakemake.input.cifs),
    )
