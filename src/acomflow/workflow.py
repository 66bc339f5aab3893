"""What every Snakemake script does around its one package call."""

from __future__ import annotations

import contextlib

from .logs import log_to
from .provenance import running


@contextlib.contextmanager
def job(snakemake):
    """Within the block, log to the job's log file and record the rule's code hash
    (`params.code`, its script's `provenance.script_hash`) in the provenance of every output."""
    with log_to(snakemake.log[0] if snakemake.log else None), running(snakemake.params.get("code")):
        yield
