# Shared helpers: the validated config, the dataset table, code hashes and resource estimates.

import math
import re

from acomflow.config import validate_config
from acomflow.crystal.phase import dataset_phases
from acomflow.export.names import output_files
from acomflow.maps.settings import MapSettings
from acomflow.maps.names import MAP_NAMES
from acomflow.simulate.settings import SyntheticSettings
from acomflow.provenance import script_hash
from acomflow.readers.formats import source_files
from acomflow.workflow import check_writable

# Fails with every problem listed before any job is scheduled; fills in the schema's defaults.
validate_config(config, os.path.join(workflow.basedir, "config/schema/config.schema.yaml"))

MapSettings.from_config(config["maps"])  # checks what the schema cannot (inner < outer radii)

check_writable("results", "logs", "benchmarks")

DATASETS = config["datasets"]
SYNTHETIC = [name for name, ds in DATASETS.items() if ds["source"] == "synthetic"]
CONVERTED = [name for name, ds in DATASETS.items() if ds["source"] != "synthetic"]
STREAMS = [name for name, ds in DATASETS.items() if ds["stream"]]
ACOM = [name for name, ds in DATASETS.items() if ds["acom"]["phases"]]
# Frames averaged before registration need the descan plane first: their beam centres are
# measured in a pass of their own (rule centre_beam). Otherwise each registration shard measures
# them on the frames it reads, and the merge fits the plane: the data are read once.
CENTRED_FIRST = config["neighbour_averaging"]["size"] > 1
# every CIF a dataset names is read now: a bad file stops the run before any job
PHASES = dataset_phases(config)


def code_of(script):
    """A rule's `code` param: the hash of scripts/{script}.py and the package modules it imports,
    which its outputs record as their code hash."""
    return script_hash(os.path.join(workflow.basedir, "scripts", f"{script}.py"))


def store_dir(name):
    """The store registration reads: the realigned one for a stream, else the raw one."""
    return f"results/{name}/{'prepared' if name in STREAMS else 'raw'}"


def one_of(names):
    """A wildcard regex matching exactly these names (and nothing if there are none)."""
    return "|".join(re.escape(name) for name in names) or "(?!)"


def dataset_frames(name):
    """Frames a dataset is expected to hold (nominal; for resource estimates only)."""
    ds = DATASETS[name]
    return math.prod(ds.get("scan_shape") or [1000, 1])


def runtime_minutes(frames_per_second, jobs=1):
    """A `resources: runtime` function: generous minutes for one of `jobs` equal parts of a
    dataset at a given rate (frames/s on one core)."""
    return lambda wildcards: max(
        10, math.ceil(3 * dataset_frames(wildcards.dataset) / jobs / frames_per_second / 60)
    )


def frame_outputs(stage, formats, dataset="{dataset}"):
    """The files a frame-writing stage ("reconstruction", "masked") writes for these formats,
    all directly under results/{dataset}/{stage}/."""
    return output_files(f"results/{dataset}/{stage}", dataset, formats)


def as_outputs(paths):
    """Snakemake outputs: the BMP folder marked as a directory."""
    return [directory(path) if os.path.basename(path) == "bmp" else path for path in paths]


def convert_inputs(wildcards):
    """Every file of the source, so that a changed file re-runs conversion."""
    return [str(path) for path in source_files(DATASETS[wildcards.dataset]["source"])]


def synthetic_settings(name):
    """The generator's settings of a synthetic dataset (its scan shape, stream flag and
    precession angle included)."""
    ds = DATASETS[name]
    return {
        **ds["synthetic"],
        "scan_shape": ds["scan_shape"],
        "stream": ds["stream"],
        "precession_deg": ds["acom"]["precession_deg"],
    }


for synthetic in SYNTHETIC:  # what the schema cannot check: the electrons adding up
    SyntheticSettings.from_config(synthetic_settings(synthetic))


def synthetic_cifs(wildcards):
    """The CIF of every phase a synthetic dataset is made of, by phase name."""
    names = DATASETS[wildcards.dataset]["synthetic"]["phases"]
    return {name: config["phases"][name]["cif"] for name in names}


def acom_inputs(wildcards):
    """The registered table and, per phase of the dataset, its CIF and bank tables."""
    phases = DATASETS[wildcards.dataset]["acom"]["phases"]
    bank = f"results/{wildcards.dataset}/acom/banks"
    return {
        "spots": f"results/{wildcards.dataset}/registration/spots.parquet",
        "patterns": f"results/{wildcards.dataset}/registration/patterns.parquet",
        "cifs": [config["phases"][name]["cif"] for name in phases],
        "directions": [f"{bank}/{name}/directions.parquet" for name in phases],
        "banks": [f"{bank}/{name}/spots.parquet" for name in phases],
    }


def acom_phases(wildcards):
    return DATASETS[wildcards.dataset]["acom"]["phases"]


MAP_FILES = [*MAP_NAMES, "combined"]


def drawing_settings():
    """The reconstruction settings that shape a drawn spot (all the metrics and figures use)."""
    return {k: config["reconstruction"][k] for k in ("renderer", "radius", "direct_beam_radius")}


def figure_files(name):
    return [
        f"results/{name}/figures/{figure}"
        for figure in (
            "fig3_adaptive_prominence.png",
            "fig4_registration.png",
            "figS11_compression.png",
        )
    ]


def all_targets():
    targets = [f"results/{name}/registration/spots.parquet" for name in DATASETS]
    targets += [f"results/{name}/truth/spots.parquet" for name in SYNTHETIC]
    if config["exports"]["epattern_csv"]:
        targets += [f"results/{name}/registration/Results_All.csv" for name in DATASETS]
    for stage, section in (("reconstruction", "reconstruction"), ("masked", "masking")):
        if config[section]["enabled"]:
            targets += [
                path
                for name in DATASETS
                for path in frame_outputs(stage, config[section]["formats"], name)
            ]
    for name in DATASETS:
        targets += [
            f"results/{name}/maps/spot_count.tif",
            f"results/{name}/metrics/summary.json",
            *figure_files(name),
        ]
    targets += [f"results/{name}/metrics/accuracy.json" for name in SYNTHETIC]
    targets += [
        f"results/{name}/acom/banks/{phase}/spots.parquet"
        for name, ds in DATASETS.items()
        for phase in ds["acom"]["phases"]
    ]
    for name in ACOM:
        targets += [
            f"results/{name}/acom/orientations.parquet",
            f"results/{name}/figures/acom_orientations.png",
        ]
        if name in SYNTHETIC:
            targets.append(f"results/{name}/metrics/orientation_accuracy.json")
        if config["comparison"]["enabled"]:
            targets += comparison_files(name)
    return targets


def preparations():
    """The preparations compared: raw, each ASTAR filter set, and the reconstruction and the
    masked frames where they are written as stores (npy)."""
    names = ["raw", *(f"astar_{name}" for name in config["comparison"]["astar"])]
    names += [
        stage
        for stage, section in (("reconstruction", "reconstruction"), ("masked", "masking"))
        if "npy" in config[section]["formats"]
    ]
    return names


def comparison_files(name):
    """The comparison's summary and figures of an ACOM dataset (Fig. 2 and 6 need the
    reconstruction as a store)."""
    files = [
        f"results/{name}/comparison/summary.json",
        f"results/{name}/figures/fig5_preparations.png",
        f"results/{name}/figures/fig7_masks.png",
    ]
    if "reconstruction" in preparations():
        files += [
            f"results/{name}/figures/fig6_raw_and_reconstructed.png",
            f"results/{name}/figures/fig2_overview.png",
        ]
    return files


def preparation_store(wildcards):
    """The store a preparation is indexed on."""
    name, dataset = wildcards.preparation, wildcards.dataset
    if name == "raw":
        return store_dir(dataset)
    if name.startswith("astar_"):
        return f"results/{dataset}/astar/{name[len('astar_'):]}"
    return f"results/{dataset}/{name}"


# Beam centres: measured before registration (CENTRED_FIRST) or by its shards.
CENTRES = "results/{dataset}/centring/centres.parquet"


def shard_centres():
    """register_shard's outputs beyond its spots and patterns: its measured centres."""
    if CENTRED_FIRST:
        return {}
    return {"centres": temp("results/{dataset}/registration/shards/{scatteritem}.centres.parquet")}


def centres_table():
    """The centres table as an input, where it is measured before registration."""
    return {"centres": CENTRES} if CENTRED_FIRST else {}


def measured_centres():
    """register_merge's input of the centres the shards measured, where they measure them."""
    if CENTRED_FIRST:
        return {}
    return {
        "measured": gather.register(
            "results/{{dataset}}/registration/shards/{scatteritem}.centres.parquet"
        )
    }


def merge_centres_outputs():
    """register_merge's outputs beyond the registered tables: the centres table and its plot,
    where the shards measured the centres."""
    if CENTRED_FIRST:
        return {}
    return {
        "centres": CENTRES,
        "plot": report(
            "results/{dataset}/centring/centres.png",
            caption="../report/centres.rst",
            category="Preparation",
        ),
    }
