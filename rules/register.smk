# Spot registration in shards of scan lines, merged into one Parquet table (method.md §3-4).
# No checkpoint: the shard count is known when the DAG is built, each shard finds its lines from
# the sidecar at run time, and the merged table is byte-identical whatever the count. The count
# belongs to the platform, not to the science: 2 here (a laptop's cores); a profile raises it with
# `set-scatter` (profiles/slurm), and so does `--set-scatter register=N` on the command line.


scattergather:
    register=2,


rule register_shard:
    input:
        **centres_table(),
        data=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.npy",
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
    output:
        **shard_centres(),
        spots=temp("results/{dataset}/registration/shards/{scatteritem}.spots.parquet"),
        patterns=temp("results/{dataset}/registration/shards/{scatteritem}.patterns.parquet"),
    log:
        "logs/{dataset}/register/{scatteritem}.log",
    benchmark:
        "benchmarks/{dataset}/register/{scatteritem}.tsv"
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=runtime_minutes(frames_per_second=20, jobs=len(scatter.register("{scatteritem}"))),
    params:
        settings=config["registration"],
        average=config["neighbour_averaging"]["size"],
        code=code_of("register_shard"),
    script:
        "../scripts/register_shard.py"


rule register_merge:
    input:
        **centres_table(),
        **measured_centres(),
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        spots=gather.register("results/{{dataset}}/registration/shards/{scatteritem}.spots.parquet"),
        patterns=gather.register(
            "results/{{dataset}}/registration/shards/{scatteritem}.patterns.parquet"
        ),
    output:
        **merge_centres_outputs(),
        spots="results/{dataset}/registration/spots.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
    log:
        "logs/{dataset}/register/merge.log",
    benchmark:
        "benchmarks/{dataset}/register/merge.tsv"
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=config["registration"],
        reference=config["centring"]["reference"],
        outlier_px=config["centring"]["outlier_px"],
        code=code_of("register_merge"),
    script:
        "../scripts/register_merge.py"


rule export_epattern_csv:
    input:
        spots="results/{dataset}/registration/spots.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
    output:
        "results/{dataset}/registration/Results_All.csv",
    log:
        "logs/{dataset}/register/export_epattern_csv.log",
    benchmark:
        "benchmarks/{dataset}/register/export_epattern_csv.tsv"
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_of("export_epattern_csv"),
    script:
        "../scripts/export_epattern_csv.py"
