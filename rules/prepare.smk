# Preparation before registration (method.md §2.2-2.4): realignment of unsynchronised streams,
# and the direct-beam centres and descan plane in a pass of their own where frames are averaged
# before registration (elsewhere the registration shards measure them: rules/register.smk).


rule realign_stream:
    input:
        data="results/{dataset}/raw/data.npy",
        sidecar="results/{dataset}/raw/data.json",
    output:
        data="results/{dataset}/prepared/data.npy",
        sidecar="results/{dataset}/prepared/data.json",
        report="results/{dataset}/prepared/realignment.json",
        plot=report(
            "results/{dataset}/prepared/realignment.png",
            caption="../report/realignment.rst",
            category="Preparation",
        ),
    log:
        "logs/{dataset}/realign_stream.log",
    benchmark:
        "benchmarks/{dataset}/realign_stream.tsv"
    wildcard_constraints:
        dataset=one_of(STREAMS),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=runtime_minutes(frames_per_second=200),
    params:
        scan_shape=lambda wildcards: DATASETS[wildcards.dataset]["scan_shape"],
        realign=lambda wildcards: DATASETS[wildcards.dataset]["realign"],
        block_frames=config["convert"]["block_frames"] or 256,
        code=code_of("realign_stream"),
    script:
        "../scripts/realign_stream.py"


rule centre_beam:
    input:
        data=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.npy",
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
    output:
        table="results/{dataset}/centring/centres.parquet",
        plot=report(
            "results/{dataset}/centring/centres.png",
            caption="../report/centres.rst",
            category="Preparation",
        ),
    log:
        "logs/{dataset}/centre_beam.log",
    benchmark:
        "benchmarks/{dataset}/centre_beam.tsv"
    wildcard_constraints:
        dataset=one_of(DATASETS if CENTRED_FIRST else []),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=runtime_minutes(frames_per_second=100),
    params:
        search=config["registration"]["direct_beam_search"],
        r_start=config["registration"]["r_start"],
        outlier_px=config["centring"]["outlier_px"],
        code=code_of("centre_beam"),
    script:
        "../scripts/centre_beam.py"
