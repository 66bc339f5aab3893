"""Snakemake entry point of rule `figure_4`: the paper's Fig. 4 (registration and reconstruction)
for a dataset."""

from pathlib import Path

import pandas as pd

from acomflow.figures.common import figure_provenance
from acomflow.figures.registration import figure_4
from acomflow.provenance import atomic_path
from acomflow.reconstruct.settings import ReconstructionSettings
from acomflow.register.settings import RegistrationSettings
from acomflow.store import read_sidecar
from acomflow.workflow import job

with job(snakemake):
    store = Path(snakemake.input.sidecar).parent
    truth = pd.read_parquet(snakemake.input.truth) if hasattr(snakemake.input, "truth") else None
    by_blur = figure_4(
        store,
        pd.read_parquet(snakemake.input.spots),
        pd.read_parquet(snakemake.input.patterns),
        pd.read_parquet(snakemake.input.pairs),
        read_sidecar(store)["scan_shape"],
        RegistrationSettings.from_config(snakemake.params.registration),
        ReconstructionSettings.from_config(snakemake.params.reconstruction),
        snakemake.params.crystalline_min_spots,
        snakemake.output.figure,
        truth,
        provenance=figure_provenance(dict(snakemake.params.items()), snakemake.input),
    )
    with atomic_path(snakemake.output.table) as tmp:
        by_blur.to_csv(tmp, index=False)
