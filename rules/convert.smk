# Conversion of microscope files into the canonical raw store (SPEC §1.1; issue 2).


def convert_inputs(wildcards):
    """Every file of the source, so that a changed file re-runs conversion."""
    return [str(path) for path in source_files(DATASETS[wildcards.dataset]["source"])]


rule convert:
    input:
        convert_inputs,
    output:
        data="results/{dataset}/raw/data.npy",
        sidecar="results/{dataset}/raw/data.json",
    wildcard_constraints:
        dataset=one_of(CONVERTED),
    params:
        dataset=lambda wildcards: DATASETS[wildcards.dataset],
        block_frames=config["convert"]["block_frames"],
        code=code_of("convert"),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=runtime_minutes(frames_per_second=200),
    log:
        "logs/{dataset}/convert.log",
    benchmark:
        "benchmarks/{dataset}/convert.tsv"
    script:
        "../scripts/convert.py"
