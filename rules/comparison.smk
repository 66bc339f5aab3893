# The comparison of preparations for orientation mapping (method.md §12), on request
# (`snakemake acom_comparison`) or in every run (`comparison.enabled`): ASTAR's image index on
# the raw frames, the frames after ASTAR's filters (each parameter set of `comparison.astar`),
# the reconstruction and the masked frames (where their formats hold npy), beside the spot
# matcher; the paper's Fig. 2, 5, 6 and 7.


rule astar_filter:
    input:
        data=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.npy",
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        spots="results/{dataset}/registration/spots.parquet",
    output:
        data="results/{dataset}/astar/{parameters}/data.npy",
        sidecar="results/{dataset}/astar/{parameters}/data.json",
    log:
        "logs/{dataset}/astar_filter/{parameters}.log",
    benchmark:
        "benchmarks/{dataset}/astar_filter/{parameters}.tsv"
    wildcard_constraints:
        parameters=one_of(config["comparison"]["astar"]),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=runtime_minutes(frames_per_second=100),
    params:
        parameters=lambda wildcards: config["comparison"]["astar"][wildcards.parameters],
        code=code_of("astar_filter"),
    script:
        "../scripts/astar_filter.py"


rule image_index:
    input:
        unpack(acom_inputs),
        data=lambda wildcards: f"{preparation_store(wildcards)}/data.npy",
        sidecar=lambda wildcards: f"{preparation_store(wildcards)}/data.json",
    output:
        "results/{dataset}/comparison/{preparation}.parquet",
    log:
        "logs/{dataset}/comparison/{preparation}.log",
    benchmark:
        "benchmarks/{dataset}/comparison/{preparation}.tsv"
    wildcard_constraints:
        dataset=one_of(ACOM),
        preparation=one_of(preparations()),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=runtime_minutes(frames_per_second=2),
    params:
        settings={
            **config["matching"],
            "intensity_exponent": config["comparison"]["intensity_exponent"],
        },
        phases=acom_phases,
        centred=lambda wildcards: wildcards.preparation == "reconstruction"
        and config["reconstruction"]["centred"],
        code=code_of("image_index"),
    script:
        "../scripts/image_index.py"


rule comparison_summary:
    input:
        tables=expand(
            "results/{{dataset}}/comparison/{preparation}.parquet", preparation=preparations()
        ),
        matched="results/{dataset}/acom/orientations.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
        truth=lambda wildcards: (
            [
                f"results/{wildcards.dataset}/truth/orientations.parquet",
                f"results/{wildcards.dataset}/registration/spots.parquet",
                f"results/{wildcards.dataset}/truth/spots.parquet",
            ]
            if wildcards.dataset in SYNTHETIC
            else []
        ),
        cifs=lambda wildcards: [config["phases"][name]["cif"] for name in acom_phases(wildcards)],
    output:
        "results/{dataset}/comparison/summary.json",
    log:
        "logs/{dataset}/comparison/summary.log",
    wildcard_constraints:
        dataset=one_of(ACOM),
    conda:
        "../envs/acomflow.yaml"
    params:
        preparations=preparations(),
        phases=acom_phases,
        code=code_of("comparison_summary"),
    script:
        "../scripts/comparison_summary.py"


rule comparison_figures:
    input:
        tables=expand(
            "results/{{dataset}}/comparison/{preparation}.parquet", preparation=preparations()
        ),
        matched="results/{dataset}/acom/orientations.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
        summary="results/{dataset}/comparison/summary.json",
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        cifs=lambda wildcards: [config["phases"][name]["cif"] for name in acom_phases(wildcards)],
    output:
        fig5=report(
            "results/{dataset}/figures/fig5_preparations.png",
            caption="../report/fig5.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "Fig. 5"},
        ),
        fig5_table=report(
            "results/{dataset}/figures/fig5_preparations.csv",
            caption="../report/fig5_table.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "Fig. 5, table: the paper's and ours"},
        ),
        fig7=report(
            "results/{dataset}/figures/fig7_masks.png",
            caption="../report/fig7.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "Fig. 7"},
        ),
        fig7_table="results/{dataset}/figures/fig7_masks.csv",
    log:
        "logs/{dataset}/comparison_figures.log",
    wildcard_constraints:
        dataset=one_of(ACOM),
    conda:
        "../envs/acomflow.yaml"
    params:
        preparations=preparations(),
        phases=acom_phases,
        code=code_of("comparison_figures"),
    script:
        "../scripts/comparison_figures.py"


rule figure_6:
    input:
        raw=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        rebuilt="results/{dataset}/reconstruction/data.json",
        raw_table="results/{dataset}/comparison/raw.parquet",
        rebuilt_table="results/{dataset}/comparison/reconstruction.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
        cifs=lambda wildcards: [config["phases"][name]["cif"] for name in acom_phases(wildcards)],
    output:
        figure=report(
            "results/{dataset}/figures/fig6_raw_and_reconstructed.png",
            caption="../report/fig6.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "Fig. 6"},
        ),
        table="results/{dataset}/figures/fig6_reliability.csv",
    log:
        "logs/{dataset}/figure_6.log",
    wildcard_constraints:
        dataset=one_of(ACOM),
    conda:
        "../envs/acomflow.yaml"
    params:
        phases=acom_phases,
        min_spots=config["maps"]["crystalline_min_spots"],
        code=code_of("figure_6"),
    script:
        "../scripts/figure_6.py"


rule figure_2:
    input:
        raw=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        rebuilt="results/{dataset}/reconstruction/data.json",
        spots="results/{dataset}/registration/spots.parquet",
        patterns="results/{dataset}/registration/patterns.parquet",
        spot_count="results/{dataset}/maps/spot_count.tif",
        amorphous="results/{dataset}/maps/amorphous.tif",
        table="results/{dataset}/comparison/reconstruction.parquet",
        cifs=lambda wildcards: [config["phases"][name]["cif"] for name in acom_phases(wildcards)],
    output:
        report(
            "results/{dataset}/figures/fig2_overview.png",
            caption="../report/fig2.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "Fig. 2"},
        ),
    log:
        "logs/{dataset}/figure_2.log",
    wildcard_constraints:
        dataset=one_of(ACOM),
    conda:
        "../envs/acomflow.yaml"
    params:
        phases=acom_phases,
        min_spots=config["maps"]["crystalline_min_spots"],
        code=code_of("figure_2"),
    script:
        "../scripts/figure_2.py"


rule acom_comparison:
    input:
        [path for name in ACOM for path in comparison_files(name)],
