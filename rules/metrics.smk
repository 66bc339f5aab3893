# Quality metrics (method.md §7): reconstruction against the data, the round trip, compression;
# for synthetic datasets, registration against the truth.


# The per-frame work (reconstruction, SSIM, re-registration: ~25 frames/s at 512 px) runs in
# shards of scan lines like registration; the merge, summary and plots are a local job.
scattergather:
    metrics=2,


rule metrics_shard:
    input:
        data=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.npy",
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        spots="results/{dataset}/registration/spots.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
    output:
        quality=temp("results/{dataset}/metrics/shards/{scatteritem}.quality.parquet"),
        pairs=temp("results/{dataset}/metrics/shards/{scatteritem}.spot_pairs.parquet"),
    log:
        "logs/{dataset}/metrics/{scatteritem}.log",
    benchmark:
        "benchmarks/{dataset}/metrics/{scatteritem}.tsv"
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=runtime_minutes(frames_per_second=15, jobs=len(scatter.metrics("{scatteritem}"))),
    params:
        registration=config["registration"],
        reconstruction=drawing_settings(),
        code=code_of("metrics_shard"),
    script:
        "../scripts/metrics_shard.py"


rule metrics:
    input:
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        spots="results/{dataset}/registration/spots.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
        quality=gather.metrics("results/{{dataset}}/metrics/shards/{scatteritem}.quality.parquet"),
        pairs=gather.metrics("results/{{dataset}}/metrics/shards/{scatteritem}.spot_pairs.parquet"),
    output:
        quality="results/{dataset}/metrics/quality.parquet",
        pairs="results/{dataset}/metrics/spot_pairs.parquet",
        summary="results/{dataset}/metrics/summary.json",
        maps=report(
            "results/{dataset}/metrics/quality_maps.png",
            caption="../report/quality_maps.rst",
            category="Metrics",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "PSNR, SSIM, RMSE"},
        ),
        intensity=report(
            "results/{dataset}/metrics/intensity.png",
            caption="../report/intensity.rst",
            category="Metrics",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "intensity conservation"},
        ),
    log:
        "logs/{dataset}/metrics/merge.log",
    benchmark:
        "benchmarks/{dataset}/metrics/merge.tsv"
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        registration=config["registration"],
        reconstruction=drawing_settings(),
        crystalline_min_spots=config["maps"]["crystalline_min_spots"],
        code=code_of("metrics"),
    script:
        "../scripts/metrics.py"


rule truth_accuracy:
    input:
        sidecar="results/{dataset}/raw/data.json",
        spots="results/{dataset}/registration/spots.parquet",
        truth_spots="results/{dataset}/truth/spots.parquet",
        truth_patterns="results/{dataset}/truth/patterns.parquet",
    output:
        summary="results/{dataset}/metrics/accuracy.json",
        plot=report(
            "results/{dataset}/metrics/accuracy.png",
            caption="../report/accuracy.rst",
            category="Metrics",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "accuracy against the truth"},
        ),
    log:
        "logs/{dataset}/truth_accuracy.log",
    benchmark:
        "benchmarks/{dataset}/truth_accuracy.tsv"
    wildcard_constraints:
        dataset=one_of(SYNTHETIC),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_of("truth_accuracy"),
    script:
        "../scripts/truth_accuracy.py"
