"""Snakemake entry point of rule `simulate`: generate a synthetic dataset and its ground truth."""

from pathlib import Path

from acomflow.crystal.phase import read_cif
from acomflow.simulate.dataset import simulate
from acomflow.simulate.settings import SyntheticSettings
from acomflow.workflow import job

with job(snakemake):
    simulate(
        SyntheticSettings.from_config(snakemake.params.settings),
        Path(snakemake.output.sidecar).parents[1],
        {
            name: read_cif(cif, name)
            for name, cif in zip(snakemake.params.phases, snakemake.input.cifs, strict=True)
        },
    )
