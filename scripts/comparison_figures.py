"""Snakemake entry point of rule `comparison_figures`: the paper's Fig. 5 (the preparations
compared) and Fig. 7 (masks of non-crystalline points) for a dataset, with their tables."""

import json
from pathlib import Path

import pandas as pd

from acomflow.crystal.phase import read_cif
from acomflow.figures.common import figure_provenance
from acomflow.figures.comparison import figure_5, figure_7
from acomflow.provenance import atomic_path
from acomflow.store import read_sidecar
from acomflow.workflow import job

with job(snakemake):
    sidecar = read_sidecar(Path(snakemake.input.sidecar).parent)
    names = [*snakemake.params.preparations, "matcher"]
    paths = [*snakemake.input.tables, snakemake.input.matched]
    tables = {name: pd.read_parquet(path) for name, path in zip(names, paths, strict=True)}
    common = dict(
        registered_spots=pd.read_parquet(snakemake.input.patterns)["n_spots"].to_numpy(),
        summary=json.loads(Path(snakemake.input.summary).read_text())["preparations"],
        phases={
            name: read_cif(cif, name)
            for name, cif in zip(snakemake.params.phases, snakemake.input.cifs, strict=True)
        },
        scan_shape=sidecar["scan_shape"],
        scan_step_nm=sidecar["calibration"]["scan_step_nm"],
        provenance=figure_provenance(dict(snakemake.params.items()), snakemake.input),
    )
    for draw, figure, table in (
        (figure_5, snakemake.output.fig5, snakemake.output.fig5_table),
        (figure_7, snakemake.output.fig7, snakemake.output.fig7_table),
    ):
        result = draw(tables, path=figure, **common)
        with atomic_path(table) as tmp:
            result.to_csv(tmp, index=False)
