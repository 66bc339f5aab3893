# Scan maps (method.md §6): from the registered table and from virtual detectors on the frames.


rule maps:
    input:
        data=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.npy",
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        spots="results/{dataset}/registration/spots.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
    output:
        tiffs=expand("results/{{dataset}}/maps/{name}.tif", name=MAP_FILES),
        png=report(
            directory("results/{dataset}/maps/png"),
            patterns=["{map}.png"],
            caption="../report/maps.rst",
            category="Maps",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "map": "{map}"},
        ),
    log:
        "logs/{dataset}/maps.log",
    benchmark:
        "benchmarks/{dataset}/maps.tsv"
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=runtime_minutes(frames_per_second=200),
    params:
        settings=config["maps"],
        code=code_of("maps"),
    script:
        "../scripts/maps.py"
