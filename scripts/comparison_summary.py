"""Snakemake entry point of rule `comparison_summary`: the preparations of a dataset compared
(results/{dataset}/comparison/summary.json)."""

from acomflow.crystal.phase import read_phases
from acomflow.metrics.comparison import compare_preparations
from acomflow.workflow import job

with job(snakemake):
    compare_preparations(
        dict(zip(snakemake.params.preparations, snakemake.input.tables, strict=True)),
        snakemake.input.matched,
        snakemake.input.patterns,
        read_phases(snakemake.params.phases, snakemake.input.cifs),
        list(snakemake.input.truth),
        snakemake.output[0],
    )
