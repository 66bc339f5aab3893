"""Snakemake entry point of rule `relrod_width`: the relrod width each phase is matched at,
measured on a sample of the dataset's patterns (acom/relrod_width.json)."""

from acomflow.acom.dataset import phase_banks, relrod_widths
from acomflow.acom.settings import MatchSettings
from acomflow.workflow import job

with job(snakemake):
    relrod_widths(
        snakemake.input.spots,
        snakemake.input.patterns,
        phase_banks(
            snakemake.params.phases,
            snakemake.input.cifs,
            snakemake.input.directions,
            snakemake.input.banks,
        ),
        MatchSettings.from_config(snakemake.params.settings),
        snakemake.output[0],
    )
