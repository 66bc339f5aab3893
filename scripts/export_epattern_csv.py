"""Snakemake entry point of rule `export_epattern_csv`: the registered table as Results_All.csv."""

import pandas as pd

from acomflow.epattern_csv import write_results_all
from acomflow.logs import logger
from acomflow.workflow import job

with job(snakemake):
    spots = pd.read_parquet(snakemake.input.spots)
    write_results_all(spots, pd.read_parquet(snakemake.input.patterns), snakemake.output[0])
    logger.info("wrote %d spots to %s", len(spots), snakemake.output[0])
