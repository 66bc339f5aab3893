# Conversion of microscope files into the canonical raw store (method.md §2.1).


rule convert:
    input:
        convert_inputs,
    output:
        data="results/{dataset}/raw/data.npy",
        sidecar="results/{dataset}/raw/data.json",
    log:
        "logs/{dataset}/convert.log",
    benchmark:
        "benchmarks/{dataset}/convert.tsv"
    wildcard_constraints:
        dataset=one_of(CONVERTED),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=runtime_minutes(frames_per_second=200),
    params:
        dataset=lambda wildcards: DATASETS[wildcards.dataset],
        block_frames=config["convert"]["block_frames"],
        in_place=config["convert"]["in_place"],
        code=code_of("convert"),
    script:
        "../scripts/convert.py"
