"""Snakemake entry point of rule `figure_6`: the paper's Fig. 6 (raw against reconstructed
frames: orientations, reliabilities and example patterns) for a dataset, with its table."""

from pathlib import Path

import pandas as pd

from acomflow.crystal.phase import read_phases
from acomflow.figures.common import figure_provenance, read_frame
from acomflow.figures.comparison import Indexed, figure_6
from acomflow.figures.prominence import noise_levels
from acomflow.provenance import atomic_path
from acomflow.workflow import job

with job(snakemake):
    stores = {
        "raw": Path(snakemake.input.raw).parent,
        "reconstruction": Path(snakemake.input.rebuilt).parent,
    }
    indexed = Indexed.read(
        {"raw": snakemake.input.raw_table, "reconstruction": snakemake.input.rebuilt_table},
        snakemake.input.patterns,
        read_phases(snakemake.params.phases, snakemake.input.cifs),
        stores["raw"],
    )
    examples = noise_levels(pd.read_parquet(snakemake.input.patterns), snakemake.params.min_spots)
    frames = {
        name: [
            read_frame(store, indexed.scan_shape, e.scan_y, e.scan_x) for e in examples.itertuples()
        ]
        for name, store in stores.items()
    }
    result = figure_6(
        indexed,
        frames,
        examples,
        snakemake.output.figure,
        figure_provenance(dict(snakemake.params.items()), snakemake.input),
    )
    with atomic_path(snakemake.output.table) as tmp:
        result.to_csv(tmp, index=False)
