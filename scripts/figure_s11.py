"""Snakemake entry point of rule `figure_s11`: the paper's Fig. S11 (compression vs spots per
pattern)."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from acomflow.figures.common import figure_provenance
from acomflow.figures.compression import figure_s11
from acomflow.provenance import atomic_path
from acomflow.store import read_sidecar
from acomflow.workflow import job

with job(snakemake):
    sidecar = read_sidecar(Path(snakemake.input.sidecar).parent)
    frame_bytes = np.dtype(sidecar["dtype"]).itemsize * math.prod(sidecar["frame_shape"])
    factor = json.loads(Path(snakemake.input.summary).read_text())["compression_factor"]
    groups = figure_s11(
        pd.read_parquet(snakemake.input.spots),
        pd.read_parquet(snakemake.input.patterns),
        frame_bytes,
        factor,
        snakemake.output.figure,
        figure_provenance(dict(snakemake.params.items()), snakemake.input),
    )
    with atomic_path(snakemake.output.table) as tmp:
        groups.to_csv(tmp, index=False)
