"""Snakemake entry point of rule `figure_3`: the paper's Fig. 3 (adaptive prominence) for a
dataset."""

from pathlib import Path

import pandas as pd

from acomflow.figures.common import figure_provenance
from acomflow.figures.prominence import figure_3
from acomflow.register.settings import RegistrationSettings
from acomflow.store import read_sidecar
from acomflow.workflow import job

with job(snakemake):
    store = Path(snakemake.input.sidecar).parent
    figure_3(
        store,
        pd.read_parquet(snakemake.input.spots),
        pd.read_parquet(snakemake.input.patterns),
        read_sidecar(store)["scan_shape"],
        RegistrationSettings.from_config(snakemake.params.registration),
        snakemake.params.crystalline_min_spots,
        snakemake.output[0],
        figure_provenance(dict(snakemake.params.items()), snakemake.input),
    )
