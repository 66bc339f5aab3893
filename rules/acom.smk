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


# Orientation and phase mapping (method.md §10): the matcher calibrated on a sample of the
# patterns (the detector's distortion and each phase's relrod width), then every pattern
# matched in shards of scan lines, as registration; the shard count belongs to the platform
# (`--set-scatter match=N`).


rule matching_calibration:
    input:
        unpack(acom_inputs),
    output:
        "results/{dataset}/acom/matching_calibration.json",
    log:
        "logs/{dataset}/match/calibration.log",
    benchmark:
        "benchmarks/{dataset}/match/calibration.tsv"
    wildcard_constraints:
        dataset=one_of(ACOM),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        # a measured distortion matches the 200 sample patterns once per round (up to 12)
        runtime=lambda wildcards: 60 if config["matching"]["distortion"] == "measured" else 10,
    params:
        settings=config["matching"],
        phases=acom_phases,
        code=code_of("matching_calibration"),
    script:
        "../scripts/matching_calibration.py"


scattergather:
    match=2,


rule match_shard:
    input:
        unpack(acom_inputs),
        calibration="results/{dataset}/acom/matching_calibration.json",
    output:
        temp("results/{dataset}/acom/shards/{scatteritem}.parquet"),
    log:
        "logs/{dataset}/match/{scatteritem}.log",
    benchmark:
        "benchmarks/{dataset}/match/{scatteritem}.tsv"
    wildcard_constraints:
        dataset=one_of(ACOM),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=runtime_minutes(frames_per_second=20, jobs=len(scatter.match("{scatteritem}"))),
    params:
        settings=config["matching"],
        phases=acom_phases,
        code=code_of("match_shard"),
    script:
        "../scripts/match_shard.py"


rule match_merge:
    input:
        unpack(acom_inputs),
        calibration="results/{dataset}/acom/matching_calibration.json",
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        shards=gather.match("results/{{dataset}}/acom/shards/{scatteritem}.parquet"),
    output:
        orientations="results/{dataset}/acom/orientations.parquet",
        ang="results/{dataset}/acom/orientations.ang",
        hdf5="results/{dataset}/acom/orientations.h5",
    log:
        "logs/{dataset}/match/merge.log",
    benchmark:
        "benchmarks/{dataset}/match/merge.tsv"
    wildcard_constraints:
        dataset=one_of(ACOM),
    conda:
        "../envs/acomflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=config["matching"],
        phases=acom_phases,
        code=code_of("match_merge"),
    script:
        "../scripts/match_merge.py"


rule orientation_figure:
    input:
        sidecar=lambda wildcards: f"{store_dir(wildcards.dataset)}/data.json",
        orientations="results/{dataset}/acom/orientations.parquet",
        cifs=lambda wildcards: [config["phases"][name]["cif"] for name in acom_phases(wildcards)],
    output:
        report(
            "results/{dataset}/figures/acom_orientations.png",
            caption="../report/acom_orientations.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "orientation and phase maps"},
        ),
    log:
        "logs/{dataset}/orientation_figure.log",
    wildcard_constraints:
        dataset=one_of(ACOM),
    conda:
        "../envs/acomflow.yaml"
    params:
        phases=acom_phases,
        min_spots=config["maps"]["crystalline_min_spots"],
        min_reliability=15.0,
        code=code_of("orientation_figure"),
    script:
        "../scripts/orientation_figure.py"


rule orientation_accuracy:
    input:
        orientations="results/{dataset}/acom/orientations.parquet",
        truth="results/{dataset}/truth/orientations.parquet",
        spots="results/{dataset}/registration/spots.parquet",
        truth_spots="results/{dataset}/truth/spots.parquet",
        cifs=lambda wildcards: [config["phases"][name]["cif"] for name in acom_phases(wildcards)],
    output:
        summary="results/{dataset}/metrics/orientation_accuracy.json",
        plot=report(
            "results/{dataset}/metrics/orientation_accuracy.png",
            caption="../report/orientation_accuracy.rst",
            category="Metrics",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "figure": "orientations against the truth"},
        ),
    log:
        "logs/{dataset}/orientation_accuracy.log",
    wildcard_constraints:
        dataset=one_of([name for name in ACOM if name in SYNTHETIC]),
    conda:
        "../envs/acomflow.yaml"
    params:
        phases=acom_phases,
        min_spots=8,
        code=code_of("orientation_accuracy"),
    script:
        "../scripts/orientation_accuracy.py"
