"""Snakemake entry point of rule `figure_6`: the paper's Fig. 6 (raw against reconstructed
frames: orientations, reliabilities and example patterns) for a dataset, with its table."""

from pathlib import Path

import pandas as pd

from acomflow.crystal.phase import read_cif
from acomflow.figures.common import figure_provenance, read_frame
from acomflow.figures.comparison import figure_6
from acomflow.figures.prominence import noise_levels
from acomflow.provenance import atomic_path
from acomflow.store import read_sidecar
from acomflow.workflow import job

with job(snakemake):
    stores = {
        "raw": Path(snakemake.input.raw).parent,
        "reconstruction": Path(snakemake.input.rebuilt).parent,
    }
    sidecar = read_sidecar(stores["raw"])
    scan_shape = sidecar["scan_shape"]
    patterns = pd.read_parquet(snakemake.input.patterns)
    examples = noise_levels(patterns, snakemake.params.min_spots)
    frames = {
        name: [read_frame(store, scan_shape, e.scan_y, e.scan_x) for e in examples.itertuples()]
        for name, store in stores.items()
    }
    result = figure_6(
        {
            "raw": pd.read_parquet(snakemake.input.raw_table),
            "reconstruction": pd.read_parquet(snakemake.input.rebuilt_table),
        },
        patterns["n_spots"].to_numpy(),
        frames,
        examples,
        {
            name: read_cif(cif, name)
            for name, cif in zip(snakemake.params.phases, snakemake.input.cifs, strict=True)
        },
        scan_shape,
        sidecar["calibration"]["scan_step_nm"],
        snakemake.output.figure,
        figure_provenance(dict(snakemake.params.items()), snakemake.input),
    )
    with atomic_path(snakemake.output.table) as tmp:
        result.to_csv(tmp, index=False)
