# Synthetic datasets: the canonical raw store plus ground truth (SPEC §1; issue 2).


def synthetic_settings(wildcards):
    ds = DATASETS[wildcards.dataset]
    return {**ds["synthetic"], "scan_shape": ds["scan_shape"], "stream": ds["stream"]}


rule simulate:
    output:
        data="results/{dataset}/raw/data.npy",
        sidecar="results/{dataset}/raw/data.json",
        spots="results/{dataset}/truth/spots.parquet",
        patterns="results/{dataset}/truth/patterns.parquet",
        frames="results/{dataset}/truth/frames.parquet",
    wildcard_constraints:
        dataset=one_of(SYNTHETIC),
    params:
        settings=synthetic_settings,
        code=code_of("simulate"),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=runtime_minutes(frames_per_second=20),
    log:
        "logs/{dataset}/simulate.log",
    benchmark:
        "benchmarks/{dataset}/simulate.tsv"
    script:
        "../scripts/simulate.py"
