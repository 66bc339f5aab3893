"""Snakemake entry point of rule `centre_beam`: beam centres and the descan plane of a dataset."""

from pathlib import Path

from acomflow.prepare.centring import centre_dataset
from acomflow.workflow import job

with job(snakemake):
    centre_dataset(
        Path(snakemake.input.sidecar).parent,
        snakemake.output.table,
        snakemake.output.plot,
        search=snakemake.params.search,
        r_start=snakemake.params.r_start,
        outlier_px=snakemake.params.outlier_px,
    )
