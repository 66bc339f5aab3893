# Masking (method.md §5): the fast alternative to reconstruction, no table needed. Detection
# uses the registration settings; frames keep the detector geometry.


rule mask:
    input:
        data=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.npy",
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
    output:
        as_outputs(frame_outputs("masked", config["masking"]["formats"])),
    log:
        "logs/{dataset}/mask.log",
    benchmark:
        "benchmarks/{dataset}/mask.tsv"
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=runtime_minutes(frames_per_second=40),
    params:
        settings={k: v for k, v in config["masking"].items() if k != "enabled"},
        registration=config["registration"],
        code=code_of("mask"),
    script:
        "../scripts/mask.py"
