"""Snakemake entry point of rule `truth_accuracy`: a synthetic dataset's registration against its
truth."""

from pathlib import Path

from acomflow.metrics.accuracy import accuracy_dataset
from acomflow.workflow import job

with job(snakemake):
    accuracy_dataset(
        snakemake.input.spots,
        snakemake.input.truth_spots,
        snakemake.input.truth_patterns,
        Path(snakemake.input.sidecar).parent,
        Path(snakemake.output.summary).parent,
    )
