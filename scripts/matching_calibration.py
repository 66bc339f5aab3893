"""Snakemake entry point of rule `matching_calibration`: the detector's elliptical distortion
and the relrod width each phase is matched at, on a sample of the dataset's patterns
(acom/matching_calibration.json)."""

from acomflow.acom.dataset import calibrate_matching, phase_banks
from acomflow.acom.settings import MatchSettings
from acomflow.workflow import job

with job(snakemake):
    calibrate_matching(
        snakemake.input.spots,
        snakemake.input.patterns,
        phase_banks(snakemake.params.phases, snakemake.input),
        MatchSettings.from_config(snakemake.params.settings),
        snakemake.output[0],
    )
