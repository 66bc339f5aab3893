"""Snakemake entry point of rule `register_shard`: one block of scan lines ("{i}-of-{n}")."""

from pathlib import Path

from acomflow.register.dataset import register_shard
from acomflow.register.settings import RegistrationSettings
from acomflow.workflow import job

with job(snakemake):
    shard, n_shards = (int(v) for v in snakemake.wildcards.scatteritem.split("-of-"))
    register_shard(
        Path(snakemake.input.sidecar).parent,
        shard - 1,
        n_shards,
        RegistrationSettings.from_config(snakemake.params.settings),
        snakemake.output.spots,
        snakemake.output.patterns,
        centres_path=snakemake.input.get("centres"),
        average=snakemake.params.average,
        measured_centres_path=snakemake.output.get("centres"),
    )
