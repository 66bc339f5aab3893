"""Snakemake entry point of rule `realign_stream`: a flat stream onto its scan grid."""

from pathlib import Path

from acomflow.prepare.realign import realign_stream
from acomflow.workflow import job

with job(snakemake):
    realign_stream(
        Path(snakemake.input.sidecar).parent,
        Path(snakemake.output.sidecar).parent,
        scan_shape=snakemake.params.scan_shape,
        block_frames=snakemake.params.block_frames,
        **snakemake.params.realign,
    )
