"""Snakemake entry point of rule `figure_2`: the paper's Fig. 2 (the method on one dataset,
from a raw pattern to the combined map) for a dataset."""

from pathlib import Path

import pandas as pd
import tifffile

from acomflow.crystal.phase import read_phases
from acomflow.figures.common import figure_provenance, read_frame
from acomflow.figures.overview import examples, figure_2
from acomflow.maps.dataset import read_tiff_provenance
from acomflow.store import read_sidecar
from acomflow.workflow import job

with job(snakemake):
    raw, rebuilt = Path(snakemake.input.raw).parent, Path(snakemake.input.rebuilt).parent
    sidecar = read_sidecar(raw)
    scan_shape = sidecar["scan_shape"]
    patterns = pd.read_parquet(snakemake.input.patterns)
    maps = {
        "spot_count": tifffile.imread(snakemake.input.spot_count),
        "amorphous": tifffile.imread(snakemake.input.amorphous),
    }
    picked = examples(patterns, maps["amorphous"], snakemake.params.min_spots)
    radii = read_tiff_provenance(snakemake.input.amorphous)["parameters"]["detector_radii_px"]
    figure_2(
        tuple(read_frame(raw, scan_shape, p.scan_y, p.scan_x) for p in picked),
        read_frame(rebuilt, scan_shape, picked[0].scan_y, picked[0].scan_x),
        picked,
        pd.read_parquet(snakemake.input.spots),
        maps,
        (radii["amorphous_inner"], radii["amorphous_outer"]),
        pd.read_parquet(snakemake.input.table),
        read_phases(snakemake.params.phases, snakemake.input.cifs),
        snakemake.params.min_spots,
        sidecar["calibration"]["scan_step_nm"],
        snakemake.output[0],
        figure_provenance(dict(snakemake.params.items()), snakemake.input),
    )
