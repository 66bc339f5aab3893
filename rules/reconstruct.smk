# Reconstruction of clean patterns from the registered table (method.md §5): .blo for ASTAR,
# BMP sequences, TIFF stacks and the pipeline's own .npy store, streamed line by line.


rule reconstruct:
    input:
        spots="results/{dataset}/registration/spots.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
    output:
        as_outputs(frame_outputs("reconstruction", config["reconstruction"]["formats"])),
    log:
        "logs/{dataset}/reconstruct.log",
    benchmark:
        "benchmarks/{dataset}/reconstruct.tsv"
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=runtime_minutes(frames_per_second=100),
    params:
        settings={k: v for k, v in config["reconstruction"].items() if k != "enabled"},
        code=code_of("reconstruct"),
    script:
        "../scripts/reconstruct.py"
