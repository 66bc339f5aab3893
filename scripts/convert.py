"""Snakemake entry point of rule `convert`: a microscope file into results/{dataset}/raw/."""

from pathlib import Path

from acomflow.convert import convert
from acomflow.readers.formats import open_source
from acomflow.workflow import job

with job(snakemake):
    ds = snakemake.params.dataset
    source = open_source(
        ds["source"],
        ds["format"],
        ds.get("scan_shape"),
        ds["stream"],
        ds["calibration"],
        ds["keep_complete_frames"],
    )
    convert(
        source,
        Path(snakemake.output.sidecar).parent,
        parameters=ds,
        block_frames=snakemake.params.block_frames,
        in_place=snakemake.params.in_place,
    )
