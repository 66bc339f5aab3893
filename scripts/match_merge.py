"""Snakemake entry point of rule `match_merge`: the shards into acom/orientations.parquet, with
its .ang and HDF5 exports."""

from acomflow.acom.dataset import merge_orientations, phase_banks, write_exports
from acomflow.acom.settings import MatchSettings
from acomflow.crystal.phase import read_phases
from acomflow.store import read_sidecar
from acomflow.workflow import job

with job(snakemake):
    phases = snakemake.params.phases
    banks = phase_banks(phases, snakemake.input)
    table = merge_orientations(
        list(snakemake.input.shards),
        snakemake.input.spots,
        banks,
        snakemake.input.calibration,
        MatchSettings.from_config(snakemake.params.settings),
        snakemake.output.orientations,
    )
    write_exports(
        table,
        read_phases(phases, snakemake.input.cifs),
        read_sidecar(snakemake.input.sidecar.rsplit("/", 1)[0])["calibration"]["scan_step_nm"],
        snakemake.output.ang,
        snakemake.output.hdf5,
    )
