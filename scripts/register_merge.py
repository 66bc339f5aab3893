"""Snakemake entry point of rule `register_merge`: the shards into
registration/{spots,patterns}.parquet."""

from pathlib import Path

from acomflow.register.dataset import merge_shards
from acomflow.register.settings import RegistrationSettings
from acomflow.workflow import job

with job(snakemake):
    merge_shards(
        Path(snakemake.input.sidecar).parent,
        list(snakemake.input.spots),
        list(snakemake.input.patterns),
        RegistrationSettings.from_config(snakemake.params.settings),
        snakemake.output.spots,
        snakemake.output.patterns,
        centres_path=snakemake.input.centres,
        reference=snakemake.params.reference,
    )
