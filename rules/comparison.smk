# The comparison of preparations for orientation mapping (method.md §12), on request
# (`snakemake acom_comparison`): ASTAR's image index on the raw frames, the frames after
# ASTAR's filters (each parameter set of `comparison.astar`), the reconstruction and the
# masked frames (where their formats hold npy), beside the spot matcher.


rule astar_filter:
    input:
        data=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.npy",
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        spots="results/{dataset}/registration/spots.parquet",
    output:
        data="results/{dataset}/astar/{parameters}/data.npy",
        sidecar="results/{dataset}/astar/{parameters}/data.json",
    log:
        "logs/{dataset}/astar_filter/{parameters}.log",
    benchmark:
        "benchmarks/{dataset}/astar_filter/{parameters}.tsv"
    wildcard_constraints:
        parameters=one_of(config["comparison"]["astar"]),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=runtime_minutes(frames_per_second=100),
    params:
        parameters=lambda wildcards: config["comparison"]["astar"][wildcards.parameters],
        code=code_of("astar_filter"),
    script:
        "../scripts/astar_filter.py"


rule image_index:
    input:
        unpack(acom_inputs),
        data=lambda wildcards: f"{preparation_store(wildcards)}/data.npy",
        sidecar=lambda wildcards: f"{preparation_store(wildcards)}/data.json",
    output:
        "results/{dataset}/comparison/{preparation}.parquet",
    log:
        "logs/{dataset}/comparison/{preparation}.log",
    benchmark:
        "benchmarks/{dataset}/comparison/{preparation}.tsv"
    wildcard_constraints:
        dataset=one_of(ACOM),
        preparation=one_of(preparations()),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=runtime_minutes(frames_per_second=2),
    params:
        settings=config["matching"],
        phases=acom_phases,
        centred=lambda wildcards: wildcards.preparation == "reconstruction"
        and config["reconstruction"]["centred"],
        code=code_of("image_index"),
    script:
        "../scripts/image_index.py"


rule comparison_summary:
    input:
        tables=expand(
            "results/{{dataset}}/comparison/{preparation}.parquet", preparation=preparations()
        ),
        matched="results/{dataset}/acom/orientations.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
        truth=lambda wildcards: (
            [
                f"results/{wildcards.dataset}/truth/orientations.parquet",
                f"results/{wildcards.dataset}/registration/spots.parquet",
                f"results/{wildcards.dataset}/truth/spots.parquet",
            ]
            if wildcards.dataset in SYNTHETIC
            else []
        ),
        cifs=lambda wildcards: [config["phases"][name]["cif"] for name in acom_phases(wildcards)],
    output:
        "results/{dataset}/comparison/summary.json",
    log:
        "logs/{dataset}/comparison/summary.log",
    wildcard_constraints:
        dataset=one_of(ACOM),
    conda:
        "../envs/acomflow.yaml"
    params:
        preparations=preparations(),
        phases=acom_phases,
        code=code_of("comparison_summary"),
    script:
        "../scripts/comparison_summary.py"


rule acom_comparison:
    input:
        [f"results/{name}/comparison/summary.json" for name in ACOM],
