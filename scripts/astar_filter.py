"""Snakemake entry point of rule `astar_filter`: a dataset's frames after ASTAR's filters, one
parameter set, into results/{dataset}/astar/{parameters}/."""

from pathlib import Path

from acomflow.prepare.astar import filter_store
from acomflow.workflow import job

with job(snakemake):
    filter_store(
        Path(snakemake.input.sidecar).parent,
        snakemake.input.spots,
        Path(snakemake.output.sidecar).parent,
        snakemake.params.parameters,
    )
