"""Snakemake entry point of rule `orientation_accuracy`: a synthetic dataset's orientations
against its truth."""

import pandas as pd

from acomflow.acom.accuracy import pattern_errors, summarise
from acomflow.acom.library import proper_symmetry
from acomflow.crystal.phase import read_cif
from acomflow.figures.acom import figure_accuracy
from acomflow.figures.common import figure_provenance
from acomflow.provenance import write_json
from acomflow.workflow import job

with job(snakemake):
    symmetries = {
        name: proper_symmetry(read_cif(cif, name))
        for name, cif in zip(snakemake.params.phases, snakemake.input.cifs)
    }
    errors = pattern_errors(
        pd.read_parquet(snakemake.input.orientations),
        pd.read_parquet(snakemake.input.truth),
        symmetries,
    )
    provenance = figure_provenance(dict(snakemake.params.items()), snakemake.input)
    write_json(
        snakemake.output.summary, {**summarise(errors, snakemake.params.min_spots), **provenance}
    )
    figure_accuracy(errors, snakemake.params.min_spots, snakemake.output.plot, provenance)
