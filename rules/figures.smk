# The paper's figures for any dataset: Fig. 3, Fig. 4 and Fig. S11; `snakemake figures` builds all.


rule figure_3:
    input:
        data=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.npy",
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        spots="results/{dataset}/registration/spots.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
    output:
        report(
            "results/{dataset}/figures/fig3_adaptive_prominence.png",
            caption="../report/fig3.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "Fig. 3"},
        ),
    log:
        "logs/{dataset}/figure_3.log",
    conda:
        "../envs/acomflow.yaml"
    params:
        registration=config["registration"],
        crystalline_min_spots=config["maps"]["crystalline_min_spots"],
        code=code_of("figure_3"),
    script:
        "../scripts/figure_3.py"


rule figure_4:
    input:
        unpack(
            lambda wildcards: (
                {"truth": f"results/{wildcards.dataset}/truth/spots.parquet"}
                if wildcards.dataset in SYNTHETIC
                else {}
            )
        ),
        data=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.npy",
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        spots="results/{dataset}/registration/spots.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
        pairs="results/{dataset}/metrics/spot_pairs.parquet",
    output:
        figure=report(
            "results/{dataset}/figures/fig4_registration.png",
            caption="../report/fig4.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "Fig. 4"},
        ),
        table="results/{dataset}/figures/fig4_accuracy_by_blur.csv",
    log:
        "logs/{dataset}/figure_4.log",
    conda:
        "../envs/acomflow.yaml"
    params:
        registration=config["registration"],
        reconstruction=drawing_settings(),
        crystalline_min_spots=config["maps"]["crystalline_min_spots"],
        code=code_of("figure_4"),
    script:
        "../scripts/figure_4.py"


rule figure_s11:
    input:
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        spots="results/{dataset}/registration/spots.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
        summary="results/{dataset}/metrics/summary.json",
    output:
        figure=report(
            "results/{dataset}/figures/figS11_compression.png",
            caption="../report/figS11.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "Fig. S11"},
        ),
        table="results/{dataset}/figures/figS11_compression.csv",
    log:
        "logs/{dataset}/figure_s11.log",
    conda:
        "../envs/acomflow.yaml"
    params:
        code=code_of("figure_s11"),
    script:
        "../scripts/figure_s11.py"


rule figures:
    input:
        [figure_files(name) for name in DATASETS],
