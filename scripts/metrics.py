"""Snakemake entry point of rule `metrics`: the shards merged, the summary and plots into
results/{dataset}/metrics/."""

from pathlib import Path

from acomflow.metrics.dataset import metrics_dataset
from acomflow.reconstruct.settings import ReconstructionSettings
from acomflow.register.settings import RegistrationSettings
from acomflow.workflow import job

with job(snakemake):
    metrics_dataset(
        Path(snakemake.input.sidecar).parent,
        snakemake.input.spots,
        snakemake.input.patterns,
        list(zip(snakemake.input.quality, snakemake.input.pairs)),
        Path(snakemake.output.summary).parent,
        RegistrationSettings.from_config(snakemake.params.registration),
        ReconstructionSettings.from_config(snakemake.params.reconstruction),
        snakemake.params.crystalline_min_spots,
    )
