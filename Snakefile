# acomflow: 4D-STEM / SPED data preparation, spot registration and ACOM.
# Run from the repository root: `make run` (or `snakemake --cores 2`). See README.md.

import os
import sys

from snakemake.utils import min_version

min_version("8.10")

# The workflow runs the package from its own source tree, so the code hashed for caching is the
# code that runs: jobs, local or on a cluster, are given PYTHONPATH. numba caches outside the tree.
SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.abspath(".snakemake/numba-cache"))

from acomflow.workflow import compile_shared_kernels


envvars:
    "PYTHONPATH",
    "NUMBA_CACHE_DIR",


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/simulate.smk"
include: "rules/convert.smk"
include: "rules/prepare.smk"
include: "rules/register.smk"
include: "rules/reconstruct.smk"
include: "rules/mask.smk"
include: "rules/maps.smk"
include: "rules/metrics.smk"
include: "rules/figures.smk"
include: "rules/acom.smk"
include: "rules/comparison.smk"


# Jobs started together would compile the same numba gufuncs at once; compile them here first,
# where jobs may run them: they are orix's, for the generator's grains and orientation matching
# (loading them costs a second).
onstart:
    if SYNTHETIC or ACOM:
        compile_shared_kernels()


# Jobs that take seconds run in the main Snakemake process, never as cluster jobs (a SLURM job
# costs >= 7 s of fixed overhead): merges, exports and small aggregations of the table.
localrules:
    all,
    register_merge,
    export_epattern_csv,
    metrics,
    truth_accuracy,
    figure_3,
    figure_s11,
    figures,


rule all:
    default_target: True
    input:
        all_targets(),
