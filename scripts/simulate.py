"""Snakemake entry point of rule `simulate`: generate a synthetic dataset and its ground truth."""

from pathlib import Path

from acomflow.logs import log_to
from acomflow.simulate import SyntheticSettings, simulate

with log_to(snakemake.log[0]):
    simulate(SyntheticSettings.from_config(snakemake.params.settings), Path(snakemake.output.sidecar).parents[1])
