"""What every Snakemake script does around its one package call."""

from __future__ import annotations

import contextlib
import os
import tempfile

from .logs import log_to
from .provenance import running


@contextlib.contextmanager
def job(snakemake):
    """Within the block, log to the job's log file and record the rule's code hash
    (`params.code`, its script's `provenance.script_hash`) in the provenance of every output."""
    with log_to(snakemake.log[0] if snakemake.log else None), running(snakemake.params.get("code")):
        yield


def compile_shared_kernels() -> None:
    """Compile, in the one process that starts the workflow, the cached numba gufuncs that
    jobs would otherwise compile at the same time: orix's quaternion product, conjugate and
    vector rotation. numba caches a gufunc's kernel and its wrapper in two files, and two
    processes writing them at once can pair one's wrapper with the other's kernel, which
    crashes every later job (method.md §11). Loading a written cache is safe."""
    from orix.quaternion import Quaternion
    from orix.vector import Vector3d

    turn = Quaternion([0.0, 1.0, 0.0, 0.0])
    (~turn * turn) * Vector3d([0.0, 0.0, 1.0])


def check_writable(*folders: str) -> None:
    """Stop, before any job, when one of the folders the workflow writes into cannot be written
    (a read-only mount, no permission), naming it; a missing folder is created."""
    for folder in folders:
        try:
            os.makedirs(folder, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            raise ValueError(
                f"{folder}/: cannot be written ({error.strerror}); the workflow writes its "
                "outputs there: make it writable, or run the workflow from another folder"
            ) from None
