"""Snakemake entry point of rule `mask`: every frame masked into results/{dataset}/masked/."""

from pathlib import Path

from acomflow.reconstruct.mask import mask_dataset
from acomflow.reconstruct.settings import MaskingSettings
from acomflow.register.settings import RegistrationSettings
from acomflow.workflow import job

with job(snakemake):
    mask_dataset(
        Path(snakemake.input.sidecar).parent,
        Path(snakemake.output[0]).parent,
        snakemake.wildcards.dataset,
        MaskingSettings.from_config(snakemake.params.settings),
        RegistrationSettings.from_config(snakemake.params.registration),
    )
