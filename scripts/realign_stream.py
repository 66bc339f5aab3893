"""Snakemake entry point of rule `realign_stream`: a flat stream onto its scan grid."""

from pathlib import Path

from acomflow.logs import log_to
from acomflow.prepare.realign import realign_stream

with log_to(snakemake.log[0]):
    realign_stream(Path(snakemake.input.sidecar).parent, Path(snakemake.output.sidecar).parent,
                   scan_shape=snakemake.params.scan_shape, block_frames=snakemake.params.block_frames,
                   **snakemake.params.realign)
