"""Snakemake entry point of rule `match_shard`: orientations of one block of scan lines
("{i}-of-{n}")."""

from acomflow.acom.dataset import match_shard, phase_banks
from acomflow.acom.settings import MatchSettings
from acomflow.workflow import job

with job(snakemake):
    shard, n_shards = (int(v) for v in snakemake.wildcards.scatteritem.split("-of-"))
    phases = snakemake.params.phases
    match_shard(
        snakemake.input.spots,
        snakemake.input.patterns,
        phase_banks(phases, snakemake.input),
        snakemake.input.calibration,
        MatchSettings.from_config(snakemake.params.settings),
        shard - 1,
        n_shards,
        snakemake.output[0],
    )
