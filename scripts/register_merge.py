"""Snakemake entry point of rule `register_merge`: the shards into registration/{spots,patterns}.parquet."""

from pathlib import Path

from acomflow.logs import log_to
from acomflow.register import RegistrationSettings
from acomflow.register.dataset import merge_shards

with log_to(snakemake.log[0]):
    merge_shards(Path(snakemake.input.sidecar).parent, list(snakemake.input.spots), list(snakemake.input.patterns),
                 RegistrationSettings.from_config(snakemake.params.settings),
                 snakemake.output.spots, snakemake.output.patterns,
                 centres_path=snakemake.input.centres, reference=snakemake.params.reference)
