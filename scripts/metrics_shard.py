"""Snakemake entry point of rule `metrics_shard`: quality and round trip of one block of scan lines
("{i}-of-{n}")."""

from pathlib import Path

from acomflow.metrics.dataset import metrics_shard
from acomflow.reconstruct.settings import ReconstructionSettings
from acomflow.register.settings import RegistrationSettings
from acomflow.workflow import job

with job(snakemake):
    shard, n_shards = (int(v) for v in snakemake.wildcards.scatteritem.split("-of-"))
    metrics_shard(
        Path(snakemake.input.sidecar).parent,
        shard - 1,
        n_shards,
        snakemake.input.spots,
        snakemake.input.patterns,
        RegistrationSettings.from_config(snakemake.params.registration),
        ReconstructionSettings.from_config(snakemake.params.reconstruction),
        snakemake.output.quality,
        snakemake.output.pairs,
    )
