"""Snakemake entry point of rule `comparison_figures`: the paper's Fig. 5 (the preparations
compared) and Fig. 7 (masks of non-crystalline points) for a dataset, with their tables."""

import json
from pathlib import Path

from acomflow.crystal.phase import read_phases
from acomflow.figures.common import figure_provenance
from acomflow.figures.comparison import Indexed, figure_5, figure_7
from acomflow.provenance import atomic_path
from acomflow.workflow import job

with job(snakemake):
    names = [*snakemake.params.preparations, "matcher"]
    paths = [*snakemake.input.tables, snakemake.input.matched]
    indexed = Indexed.read(
        dict(zip(names, paths, strict=True)),
        snakemake.input.patterns,
        read_phases(snakemake.params.phases, snakemake.input.cifs),
        Path(snakemake.input.sidecar).parent,
    )
    summary = json.loads(Path(snakemake.input.summary).read_text())["preparations"]
    provenance = figure_provenance(dict(snakemake.params.items()), snakemake.input)
    for draw, figure, table in (
        (figure_5, snakemake.output.fig5, snakemake.output.fig5_table),
        (figure_7, snakemake.output.fig7, snakemake.output.fig7_table),
    ):
        result = draw(indexed, summary, figure, provenance)
        with atomic_path(table) as tmp:
            result.to_csv(tmp, index=False)
