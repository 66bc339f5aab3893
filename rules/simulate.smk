# Synthetic datasets: the canonical raw store plus ground truth (method.md §2).


rule simulate:
    input:
        cifs=lambda wildcards: list(synthetic_cifs(wildcards).values()),
    output:
        data="results/{dataset}/raw/data.npy",
        sidecar="results/{dataset}/raw/data.json",
        spots="results/{dataset}/truth/spots.parquet",
        patterns="results/{dataset}/truth/patterns.parquet",
        frames="results/{dataset}/truth/frames.parquet",
        orientations="results/{dataset}/truth/orientations.parquet",
    log:
        "logs/{dataset}/simulate.log",
    benchmark:
        "benchmarks/{dataset}/simulate.tsv"
    wildcard_constraints:
        dataset=one_of(SYNTHETIC),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=runtime_minutes(frames_per_second=20),
    params:
        settings=lambda wildcards: synthetic_settings(wildcards.dataset),
        phases=lambda wildcards: list(synthetic_cifs(wildcards)),
        code=code_of("simulate"),
    script:
        "../scripts/simulate.py"
