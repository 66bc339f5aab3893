"""Registration on the hard test bed: recall over every spot of SNR >= 5 (overlapping discs as
one group), by SNR, by the distance to the nearest other spot and by dose, with precision and
the false spots per amorphous and vacuum pattern, and the median position error against an
oracle centroid's and the Cramer-Rao bound's by SNR (`metrics.synthetic`), for the paper's
prominence detection and positions (no disc fit) and the matched filter (`detection: matched`,
its disc's radius measured, `matched_radius: auto`) with the disc fit, at full resolution and,
where it sums blocks (`matched_bin: auto`, discs of 5 px and more), on the blocks (the
default); and the default without the disc fit (`fit_edge: 0`, the refinement's centroids).

The test bed (`simulate.settings.HARD_TEST_BED`) is the project's generator made hard the ways
real data are: dense 2D lattices (first basis vector 8-14 px at 256 px, so neighbours 2-7 spot
radii apart), a 25x dose range (dose_variation 0.97), most spots at SNR 5-15, strong halo and
support-film rings under the crystals, amorphous and vacuum regions; at 256 and 512 px, in
uint8, uint16 and float32, over several seeds. Up to 500 spots per pattern are kept.

It also times one frame's registration (one core, after the JIT warm-up) with each detection
against a floor, reading the frame from its memory-mapped .npy and one 2 px
`scipy.ndimage.gaussian_filter`, on the demo's kind of frame (512 px uint16, the generator's
defaults) and on the test bed's crowded ones.

    python bench/detection.py                      # 3 seeds x 2 sizes x 3 dtypes, 8 x 10 scans
    python bench/detection.py --seeds 0 --sizes 256 --dtypes uint16
    python bench/detection.py --plot docs/recall_vs_snr.png   # recall against SNR, pooled
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from acomflow import plots
from acomflow.metrics.summary import plot_recall_against_limit
from acomflow.metrics.synthetic import registration_accuracy
from acomflow.register.frame import register_frame
from acomflow.register.matched import bin_factor
from acomflow.register.measured import measured_settings
from acomflow.register.settings import RegistrationSettings
from acomflow.simulate.dataset import simulate
from acomflow.simulate.settings import HARD_TEST_BED, SyntheticSettings
from acomflow.tables import read_metadata

PASSES = 7
DETECTIONS = {
    "prominence": {"detection": "prominence", "fit_edge": 0.0},
    "matched": {"detection": "matched", "matched_bin": 1},  # full resolution
    "matched-binned": {"detection": "matched", "matched_bin": "auto"},  # the default
    "centroids": {"detection": "matched", "matched_bin": "auto", "fit_edge": 0.0},
}


def per_frame_ms(scan_dir: Path, frame_size: int, saturation: float) -> dict:
    """Milliseconds per frame (the fastest of `PASSES` passes over up to 40 frames: other work
    on the machine only ever adds time) of the floor and of `register_frame` with each
    detection."""
    data = np.load(scan_dir / "raw" / "data.npy", mmap_mode="r")
    frames = data.reshape(-1, frame_size, frame_size)[:40]
    settings = {
        name: measured_settings(
            scan_dir / "raw", RegistrationSettings(**detection, n_spots_max=500)
        )
        for name, detection in DETECTIONS.items()
    }
    tasks = {
        "floor": lambda frame: ndimage.gaussian_filter(np.asarray(frame, np.float32), 2.0),
        **{
            detection: lambda frame, s=s: register_frame(frame, s, saturation)
            for detection, s in settings.items()
        },
    }
    passes = {name: [] for name in tasks}
    for task in tasks.values():
        task(frames[0])  # the JIT warm-up
    for _ in range(PASSES):  # interleaved, so that a slow spell of the machine hits every task
        for name, task in tasks.items():
            start = time.perf_counter()
            for frame in frames:
                task(frame)
            passes[name].append((time.perf_counter() - start) / len(frames) * 1e3)
    return {name: min(times) for name, times in passes.items()}


def pooled(cases: dict, size: int, detection: str) -> dict:
    """The recall by SNR bin over every scan of one size and detection (groups added)."""
    bins = {}
    for name, summary in cases.items():
        if name.startswith(f"{size}px ") and name.endswith(f" {detection}"):
            for label, cell in summary["recall_all"]["snr"].items():
                groups, found = bins.get(label, (0, 0.0))
                bins[label] = groups + cell["groups"], found + cell["recall"] * cell["groups"]
    return {"snr": {b: {"groups": g, "recall": f / g} for b, (g, f) in bins.items() if g}}


def plot_pooled(cases: dict, sizes, path: Path) -> None:
    """Recall against SNR, pooled over seeds and dtypes, for each size and detection, beside
    the matched-filter limit."""
    figure, axis = plots.subplots(1, 1, (6.5, 4.5))
    plot_recall_against_limit(
        axis,
        {
            f"{detection}, {size} px": pooled(cases, size, detection)
            for size in sizes
            for detection in DETECTIONS
            if pooled(cases, size, detection)["snr"]
        },
    )
    plots.save(figure, path)


def time_frames() -> None:
    """Print `per_frame_ms` on the demo's kind of frame and on the test bed's at 512 px."""
    beds = {
        "demo frames": SyntheticSettings(scan_shape=(5, 8), frame_size=512, dtype="uint16"),
        "test-bed frames": SyntheticSettings(
            **HARD_TEST_BED, frame_size=512, dtype="uint16", seed=0
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, settings in beds.items():
            work = Path(tmp) / name.replace(" ", "-")
            simulate(settings, work)
            costs = per_frame_ms(work, 512, settings.saturation_level)
            timed = ", ".join(
                f"{detection} {costs[detection]:.1f} ({costs[detection] / costs['floor']:.1f}x)"
                for detection in DETECTIONS
            )
            print(
                f"{name}, 512 px uint16, ms per frame: floor {costs['floor']:.1f}, {timed}",
                flush=True,
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--dtypes", nargs="+", default=["uint8", "uint16", "float32"])
    parser.add_argument("--out", type=Path, help="write every case's summary as JSON here")
    parser.add_argument("--plot", type=Path, help="draw the pooled recall against SNR here")
    args = parser.parse_args()
    time_frames()
    cases = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            for dtype in args.dtypes:
                for seed in args.seeds:
                    work = Path(tmp) / f"{size}-{dtype}-{seed}"
                    simulate(
                        SyntheticSettings(**HARD_TEST_BED, frame_size=size, dtype=dtype, seed=seed),
                        work,
                    )
                    radius = None  # the disc "matched" measures, before "matched-binned"
                    for detection, chosen in DETECTIONS.items():
                        # where the disc sums no block, the same case as "matched"
                        if detection == "matched-binned" and bin_factor("auto", radius) == 1:
                            continue
                        name = f"{size}px {dtype} seed {seed} {detection}"
                        registration = RegistrationSettings(**chosen, n_spots_max=500)
                        start = time.perf_counter()
                        summary = registration_accuracy(work, registration, size, bound=True)
                        cases[name] = summary
                        recall = summary["recall_all"]
                        radius = read_metadata(work / "spots.parquet")["parameters"][
                            "matched_radius"
                        ]
                        print(
                            f"{name} (disc {radius} px): {recall['groups']} groups of SNR "
                            f">= 5, recall "
                            f"{recall['recall']:.3f} ({recall['recall_snr_10']:.3f} at SNR >= "
                            f"10), precision {summary['precision_crystal']:.4f}, false spots "
                            f"per amorphous pattern "
                            f"{summary['false_spots_per_amorphous_pattern']:.2f}, per vacuum "
                            f"pattern {summary['false_spots_per_vacuum_pattern']:.2f}, beam "
                            f"{summary['direct_beam_flagged']:.2f}, median position error "
                            f"{summary['position_error_median_px']:.3f} px "
                            f"({time.perf_counter() - start:.1f} s)",
                            flush=True,
                        )
    for axis in ("snr", "neighbour_radii", "dose"):
        print(f"\nrecall by {axis} (bin, groups, recall):")
        for name, summary in cases.items():
            bins = summary["recall_all"][axis]
            cells = ", ".join(f"{b} {v['groups']} {v['recall']:.2f}" for b, v in bins.items())
            print(f"  {name}: {cells}")
    print(
        "\nmedian position error of the isolated spots found, px (bin: spots, ours / oracle / "
        "Cramer-Rao bound):"
    )
    for name, summary in cases.items():
        cells = ", ".join(
            f"{b} {v['spots']} {v['error_median']:.3f} / {v['oracle_median']:.3f} / "
            f"{v['bound_median']:.3f}"
            for b, v in summary["position_error_by_snr"].items()
            if v["spots"]
        )
        print(f"  {name}: {cells}")
    if args.plot:
        plot_pooled(cases, args.sizes, args.plot)
    if args.out:
        args.out.write_text(json.dumps(cases, indent=1, default=float))


if __name__ == "__main__":
    main()
