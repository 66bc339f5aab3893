"""Snakemake entry point of rule `image_index`: ASTAR's index on one preparation's frames
(results/{dataset}/comparison/{preparation}.parquet)."""

from pathlib import Path

from acomflow.acom.dataset import phase_banks
from acomflow.acom.preparations import index_store
from acomflow.acom.settings import MatchSettings
from acomflow.workflow import job

with job(snakemake):
    index_store(
        Path(snakemake.input.sidecar).parent,
        snakemake.input.spots,
        snakemake.input.patterns,
        phase_banks(snakemake.params.phases, snakemake.input),
        MatchSettings.from_config(snakemake.params.settings),
        snakemake.params.centred,
        snakemake.output[0],
    )
