"""Snakemake entry point of rule `template_bank`: one phase's template bank for one dataset."""

from pathlib import Path

from acomflow.crystal.bank import dataset_bank
from acomflow.crystal.settings import TemplateSettings
from acomflow.workflow import job

with job(snakemake):
    dataset_bank(
        Path(snakemake.input.sidecar).parent,
        snakemake.input.cif,
        snakemake.wildcards.phase,
        TemplateSettings.from_config(snakemake.params.settings),
        snakemake.params.precession,
        snakemake.output.directions,
        snakemake.output.spots,
    )
