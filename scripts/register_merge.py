"""Snakemake entry point of rule `register_merge`: the shards into
registration/{spots,patterns}.parquet, and, where the shards measured the beam centres, the
centring table and its plot."""

from pathlib import Path

from acomflow.prepare.centre import MEASURED_DTYPES
from acomflow.prepare.centring import write_centres
from acomflow.register.dataset import centre_settings, merge_shards
from acomflow.register.settings import RegistrationSettings
from acomflow.tables import concat_shards
from acomflow.workflow import job

with job(snakemake):
    store_dir = Path(snakemake.input.sidecar).parent
    settings = RegistrationSettings.from_config(snakemake.params.settings)
    centres = snakemake.input.get("centres")
    measured = snakemake.input.get("measured")  # Namedlist: `in` tests values, not names
    if measured:
        centres = snakemake.output.centres
        write_centres(
            concat_shards(list(measured), MEASURED_DTYPES),
            store_dir,
            centres,
            snakemake.output.plot,
            outlier_px=snakemake.params.outlier_px,
            measured_with=centre_settings(settings),
        )
    merge_shards(
        store_dir,
        list(snakemake.input.spots),
        list(snakemake.input.patterns),
        snakemake.output.spots,
        snakemake.output.patterns,
        centres_path=centres,
        reference=snakemake.params.reference,
    )
