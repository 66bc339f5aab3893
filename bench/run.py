"""Benchmark of the stages built so far: prints frames/s and peak resident memory per stage.

    make bench                       # 2,000 frames of 512 x 512 uint16 (scan 40 x 50)
    python bench/run.py --scan 20 25 --frame-size 256

Each stage runs in its own process so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path


def _stage(name, args, queue):
    from acomflow.convert import convert
    from acomflow.readers import open_source
    from acomflow.simulate import SyntheticSettings, simulate

    start = time.perf_counter()
    if name == "simulate":
        simulate(SyntheticSettings(scan_shape=tuple(args.scan), frame_size=args.frame_size, dtype=args.dtype), args.work / "sim")
    else:
        source = open_source(args.work / "sim/raw/data.npy")
        convert(source, args.work / "converted")
    seconds = time.perf_counter() - start
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def run_stage(name, args):
    queue = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(target=_stage, args=(name, args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scan", type=int, nargs=2, default=[40, 50], metavar=("NY", "NX"))
    parser.add_argument("--frame-size", type=int, default=512)
    parser.add_argument("--dtype", default="uint16")
    args = parser.parse_args()
    frames = args.scan[0] * args.scan[1]
    with tempfile.TemporaryDirectory() as work:
        args.work = Path(work)
        print(f"{frames} frames of {args.frame_size}x{args.frame_size} {args.dtype}")
        for name in ("simulate", "convert"):
            seconds, peak_mb = run_stage(name, args)
            print(f"{name:10s} {frames / seconds:8.1f} frames/s  {seconds:7.1f} s  peak RSS {peak_mb:7.0f} MiB")
        raw = (args.work / "sim/raw/data.npy").stat().st_size
        print(f"raw data   {raw / 2**20:8.0f} MiB")


if __name__ == "__main__":
    main()
