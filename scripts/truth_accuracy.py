"""Snakemake entry point of rule `truth_accuracy`: a synthetic dataset's registration against its truth."""

from pathlib import Path

from acomflow.logs import log_to
from acomflow.metrics.accuracy import accuracy_dataset

with log_to(snakemake.log[0]):
    accuracy_dataset(snakemake.input.spots, snakemake.input.truth_spots, snakemake.input.truth_patterns,
                     Path(snakemake.input.sidecar).parent, Path(snakemake.output.summary).parent)
