"""Snakemake entry point of rule `orientation_figure`: a dataset's orientation and phase maps."""

import pandas as pd

from acomflow.crystal.phase import read_phases
from acomflow.figures.acom import figure_orientations
from acomflow.figures.common import figure_provenance
from acomflow.store import read_sidecar
from acomflow.tables import read_metadata
from acomflow.workflow import job

with job(snakemake):
    sidecar = read_sidecar(snakemake.input.sidecar.rsplit("/", 1)[0])
    figure_orientations(
        pd.read_parquet(snakemake.input.orientations),
        read_phases(snakemake.params.phases, snakemake.input.cifs),
        sidecar["scan_shape"],
        sidecar["calibration"]["scan_step_nm"],
        snakemake.params.min_spots,
        snakemake.params.min_reliability,
        snakemake.output[0],
        figure_provenance(dict(snakemake.params.items()), snakemake.input),
        read_metadata(snakemake.input.orientations).get("undistortion"),
    )
