"""Snakemake entry point of rule `orientation_accuracy`: a synthetic dataset's orientations
against its truth."""

import pandas as pd

from acomflow.acom.library import proper_symmetry, zone_half_turns
from acomflow.crystal.phase import read_phases
from acomflow.figures.acom import figure_accuracy
from acomflow.figures.common import figure_provenance
from acomflow.metrics.orientations import grain_spots, pattern_errors, summarise, window_px
from acomflow.provenance import write_json
from acomflow.tables import read_metadata
from acomflow.workflow import job

with job(snakemake):
    phases = read_phases(snakemake.params.phases, snakemake.input.cifs)
    symmetries = {name: proper_symmetry(phase) for name, phase in phases.items()}
    zone_turns = {name: zone_half_turns(phases[name], s) for name, s in symmetries.items()}
    truth = pd.read_parquet(snakemake.input.truth)
    counts = grain_spots(
        pd.read_parquet(
            snakemake.input.spots,
            columns=["scan_y", "scan_x", "x", "y", "x_c", "y_c", "is_direct_beam"],
        ),
        pd.read_parquet(snakemake.input.truth_spots),
        window_px(read_metadata(snakemake.input.orientations)),
    )
    errors = pattern_errors(
        pd.read_parquet(snakemake.input.orientations),
        truth,
        symmetries,
        zone_turns,
        counts,
        snakemake.params.min_spots,
    )
    provenance = figure_provenance(dict(snakemake.params.items()), snakemake.input)
    write_json(
        snakemake.output.summary, {**summarise(errors, snakemake.params.min_spots), **provenance}
    )
    figure_accuracy(errors, snakemake.params.min_spots, snakemake.output.plot, provenance)
