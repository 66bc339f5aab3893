# Orientation and phase mapping (method.md §9.5): the template bank of every phase a dataset
# names, at the dataset's beam energy and precession angle.


rule template_bank:
    input:
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        cif=lambda wildcards: config["phases"][wildcards.phase]["cif"],
    output:
        directions="results/{dataset}/acom/banks/{phase}/directions.parquet",
        spots="results/{dataset}/acom/banks/{phase}/spots.parquet",
    log:
        "logs/{dataset}/template_bank/{phase}.log",
    benchmark:
        "benchmarks/{dataset}/template_bank/{phase}.tsv"
    wildcard_constraints:
        phase=one_of(PHASES),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=config["templates"],
        precession=lambda wildcards: DATASETS[wildcards.dataset]["acom"]["precession_deg"],
        code=code_of("template_bank"),
    script:
        "../scripts/template_bank.py"
