"""Registration as a user meets it: one `snakemake` call from an .npy source to
`registration/spots.parquet`, on 2 cores, timed whole and per rule (Snakemake's benchmark
files). The scan is the demo's generator's (uint16), written once as an .npy; the call runs
twice in a fresh work folder: first with an empty numba cache (a first run: every kernel
compiles), then again on the same cache (every later run).

    python bench/workflow.py                             # 2,000 frames of 512 x 512 (40 x 50)
    python bench/workflow.py --scan 20 25 --frame-size 256 --cores 1
    python bench/workflow.py --later 3                   # three later calls: the machine's spread
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TARGET = "results/scan/registration/spots.parquet"


def snakemake_call(work: Path, cores: int, numba_cache: Path) -> float:
    """Seconds of one `snakemake` call to the registered table in `work`, from no results."""
    shutil.rmtree(work / "results", ignore_errors=True)
    shutil.rmtree(work / "benchmarks", ignore_errors=True)
    shutil.rmtree(work / ".snakemake", ignore_errors=True)
    command = [
        *(sys.executable, "-m", "snakemake", TARGET, "--snakefile", str(REPO / "Snakefile")),
        *("--directory", str(work), "--cores", str(cores), "--quiet", "all"),
    ]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache)}
    start = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"snakemake failed:\n{result.stderr[-3000:]}")
    return seconds


def rule_seconds(work: Path) -> dict[str, list[float]]:
    """{rule: [seconds of each of its jobs]} from the benchmark files of the last call
    (benchmarks/scan/{rule}.tsv, register/{shard}.tsv, register/merge.tsv)."""
    root = work / "benchmarks/scan"
    seconds = {}
    for path in sorted(root.rglob("*.tsv")):
        if path.parent == root:
            rule = path.stem
        else:
            rule = f"{path.parent.name}_{'merge' if path.stem == 'merge' else 'shard'}"
        with open(path) as handle:
            seconds.setdefault(rule, []).append(
                float(next(csv.DictReader(handle, delimiter="\t"))["s"])
            )
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scan", type=int, nargs=2, default=[40, 50], metavar=("NY", "NX"))
    parser.add_argument("--frame-size", type=int, default=512)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--detection", default="matched", choices=["prominence", "matched"])
    parser.add_argument(
        "--matched-bin",
        default="auto",
        type=lambda v: v if v == "auto" else int(v),
        metavar="N|auto",
    )
    parser.add_argument("--later", type=int, default=1, help="later calls on numba's cache")
    args = parser.parse_args()

    from acomflow.simulate.dataset import simulate
    from acomflow.simulate.settings import SyntheticSettings

    with tempfile.TemporaryDirectory(prefix="acomflow-bench-") as folder:
        folder = Path(folder)
        simulate(
            SyntheticSettings(scan_shape=tuple(args.scan), frame_size=args.frame_size),
            folder / "sim",
        )
        source = folder / "scan.npy"
        (folder / "sim/raw/data.npy").rename(source)
        shutil.rmtree(folder / "sim")
        work = folder / "work"
        (work / "config").mkdir(parents=True)
        config = {
            "datasets": {"scan": {"source": str(source)}},
            "registration": {"detection": args.detection, "matched_bin": args.matched_bin},
        }
        (work / "config/config.yaml").write_text(yaml.safe_dump(config))
        frames = args.scan[0] * args.scan[1]
        print(
            f"{frames} frames of {args.frame_size} x {args.frame_size} uint16 (.npy), "
            f"{args.detection} detection (matched_bin {args.matched_bin}), {args.cores} cores: "
            f"snakemake to {TARGET}"
        )
        labels = ["first run (numba compiles)"] + ["later run (numba cache)"] * args.later
        for label in labels:
            seconds = snakemake_call(work, args.cores, folder / "numba-cache")
            rules = "  ".join(
                f"{rule} {'/'.join(f'{s:.1f}' for s in times)} s"
                for rule, times in rule_seconds(work).items()
            )
            print(f"{label:28s} {frames / seconds:7.1f} frames/s  {seconds:6.1f} s  ({rules})")


if __name__ == "__main__":
    main()
