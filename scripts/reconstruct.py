"""Snakemake entry point of rule `reconstruct`: the registered table rendered into
results/{dataset}/reconstruction/."""

from pathlib import Path

from acomflow.reconstruct.dataset import reconstruct_dataset
from acomflow.reconstruct.settings import ReconstructionSettings
from acomflow.workflow import job

with job(snakemake):
    reconstruct_dataset(
        snakemake.input.spots,
        snakemake.input.patterns,
        Path(snakemake.output[0]).parent,
        snakemake.wildcards.dataset,
        ReconstructionSettings.from_config(snakemake.params.settings),
    )
