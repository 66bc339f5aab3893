"""Snakemake entry point of rule `maps`: every scan map of a dataset into
results/{dataset}/maps/."""

from pathlib import Path

from acomflow.maps.dataset import map_dataset
from acomflow.maps.settings import MapSettings
from acomflow.workflow import job

with job(snakemake):
    map_dataset(
        Path(snakemake.input.sidecar).parent,
        snakemake.input.spots,
        snakemake.input.patterns,
        Path(snakemake.output.tiffs[0]).parent,
        MapSettings.from_config(snakemake.params.settings),
    )
