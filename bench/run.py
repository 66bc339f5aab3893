"""Benchmark of the stages built so far: frames/s and peak resident memory per stage, and for
registration on 1 core and on 2 (two shard processes at once) and overall (the 2-core shards,
then their merge into one table), spots per pattern and the compression factor (raw bytes /
table bytes). "stream" writes the simulated scan as an
unsynchronised stream (3 blanked frames before each line, 2 frames dropped from every other
line); "realign" puts it back on the scan grid; "centre" measures the beam centres;
"reconstruct" renders the merged table into the default outputs (.blo and .npy), "write only"
writes the same outputs from blank frames (the floor set by writing), "mask" masks every
frame into a .blo, "maps" computes and writes every map (virtual detectors included) and
"metrics" the per-frame PSNR/SSIM/RMSE and the round trip (in shards, on 1 core and on 2);
"bank" builds and writes the template banks of the demo's phases (1 deg, 1 core), "match" matches
patterns of 40 template spots against one bank (patterns/s on 1 core, JIT warm-up excluded).

    make bench                       # 2,000 frames of 512 x 512 uint16 (scan 40 x 50)
    python bench/run.py --scan 20 25 --frame-size 256

Each stage runs in its own process, which imports only what the stage's workflow job imports:
its start-up time and peak memory are its own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path


def _simulate(args, shard, n_shards):
    from acomflow.simulate.dataset import simulate
    from acomflow.simulate.settings import SyntheticSettings

    simulate(
        SyntheticSettings(
            scan_shape=tuple(args.scan), frame_size=args.frame_size, dtype=args.dtype
        ),
        args.work / "sim",
    )


def _convert(args, shard, n_shards):
    from acomflow.convert import convert
    from acomflow.readers.formats import open_source

    # a copy, as for every format but a native .npy (which is linked: bench/workflow.py)
    convert(open_source(args.work / "sim/raw/data.npy"), args.work / "converted", in_place=False)


def _stream(args, shard, n_shards):
    write_stream(args.work / "sim/raw", args.work / "stream")


def _realign(args, shard, n_shards):
    from acomflow.prepare.realign import realign_stream

    realign_stream(args.work / "stream", args.work / "prepared")


def _centre(args, shard, n_shards):
    from acomflow.prepare.centring import centre_dataset

    centre_dataset(args.work / "sim/raw", args.work / "centres.parquet")


def _register(args, shard, n_shards):
    from acomflow.register.dataset import register_shard
    from acomflow.register.settings import RegistrationSettings

    tag = f"{n_shards}-{shard}"
    register_shard(
        args.work / "sim/raw",
        shard,
        n_shards,
        RegistrationSettings(),
        args.work / f"{tag}.spots.parquet",
        args.work / f"{tag}.patterns.parquet",
    )


def _reconstruct(args, shard, n_shards):
    from acomflow.reconstruct.dataset import reconstruct_dataset
    from acomflow.reconstruct.settings import ReconstructionSettings

    reconstruct_dataset(
        args.work / "2.spots.parquet",
        args.work / "2.patterns.parquet",
        args.work / "rec",
        "bench",
        ReconstructionSettings(),
    )


def _mask(args, shard, n_shards):
    from acomflow.reconstruct.mask import mask_dataset
    from acomflow.reconstruct.settings import MaskingSettings
    from acomflow.register.settings import RegistrationSettings

    mask_dataset(
        args.work / "sim/raw",
        args.work / "masked",
        "bench",
        MaskingSettings(),
        RegistrationSettings(),
    )


def _maps(args, shard, n_shards):
    from acomflow.maps.dataset import map_dataset
    from acomflow.maps.settings import MapSettings

    map_dataset(
        args.work / "sim/raw",
        args.work / "2.spots.parquet",
        args.work / "2.patterns.parquet",
        args.work / "maps",
        MapSettings(),
    )


def _metrics(args, shard, n_shards):
    from acomflow.metrics.dataset import metrics_shard
    from acomflow.reconstruct.settings import ReconstructionSettings
    from acomflow.register.settings import RegistrationSettings

    tag = f"{n_shards}-{shard}"
    metrics_shard(
        args.work / "sim/raw",
        shard,
        n_shards,
        args.work / "2.spots.parquet",
        args.work / "2.patterns.parquet",
        RegistrationSettings(),
        ReconstructionSettings(),
        args.work / f"{tag}.quality.parquet",
        args.work / f"{tag}.pairs.parquet",
    )


PHASES = Path(__file__).resolve().parents[1] / "config/phases"


def _bank(phase):
    def build(args, shard, n_shards):
        from acomflow.crystal.bank import write_bank
        from acomflow.crystal.phase import read_cif
        from acomflow.crystal.settings import TemplateSettings

        settings = TemplateSettings()
        write_bank(
            read_cif(PHASES / f"{phase}.cif"),
            settings,
            settings.diffraction(200.0, 1.0),
            args.work / f"{phase}.directions.parquet",
            args.work / f"{phase}.spots.parquet",
        )

    return build


MATCH_PATTERNS = 300
MATCH_SPOTS = 40


def _match(phase):
    def match(args, shard, n_shards):
        """Match `MATCH_PATTERNS` patterns of 40 spots against the phase's bank alone: its
        strongest template spots at a random orientation (0.1 px position noise at 0.01 1/Å per
        px), made up to 40 with faint spots at random; writes the in-process matching time (JIT
        warm-up excluded)."""
        import numpy as np

        from acomflow.acom.library import load_library
        from acomflow.acom.match import match_pattern, pattern_spots
        from acomflow.acom.settings import MatchSettings
        from acomflow.crystal.orientations import random_orientations, rotation_matrices
        from acomflow.crystal.phase import read_cif
        from acomflow.crystal.reflections import reflections
        from acomflow.crystal.settings import TemplateSettings
        from acomflow.crystal.templates import template

        settings = MatchSettings()
        library = load_library(
            phase,
            PHASES / f"{phase}.cif",
            args.work / f"{phase}.directions.parquet",
            args.work / f"{phase}.spots.parquet",
            (0.0, 1.25),
            settings,
        )
        lattice = reflections(read_cif(PHASES / f"{phase}.cif"), 1.25)
        diffraction = TemplateSettings().diffraction(200.0, 1.0)
        rng = np.random.default_rng(0)
        patterns = []
        for q in random_orientations(MATCH_PATTERNS, rng):
            spots = template(lattice, rotation_matrices(q)[0], diffraction)
            strongest = np.argsort(-spots.intensity)[:MATCH_SPOTS]
            px = spots.g[strongest, :2] / 0.01 + rng.normal(0, 0.1, (len(strongest), 2))
            intensity = spots.intensity[strongest]
            extra = MATCH_SPOTS - len(px)  # spots no template explains make up the 40
            radius = rng.uniform(settings.min_g, 1.2, extra) / 0.01
            angle = rng.uniform(0, 2 * np.pi, extra)
            px = np.vstack([px, np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])])
            intensity = np.concatenate([intensity, rng.uniform(0.01, 0.1, extra) * intensity.max()])
            patterns.append(
                pattern_spots(
                    px[:, 0],
                    -px[:, 1],
                    intensity,
                    np.full(len(px), 50.0),
                    0.01,
                    settings,
                    library.window,
                )
            )
        match_pattern(*patterns[0], [library], settings)
        start = time.perf_counter()
        for spots, weight in patterns:
            match_pattern(spots, weight, [library], settings)
        seconds = time.perf_counter() - start
        n_spots = np.mean([len(s) for s, _ in patterns])
        (args.work / f"match {phase}.txt").write_text(f"{seconds} {n_spots}")

    return match


STAGES = {
    "simulate": _simulate,
    "convert": _convert,
    "stream": _stream,
    "realign": _realign,
    "centre": _centre,
    "register": _register,
    "reconstruct": _reconstruct,
    "write only": lambda args, *_: write_blank(args),
    "mask": _mask,
    "maps": _maps,
    "metrics": _metrics,
    "bank Al": _bank("Al"),
    "bank PbI2": _bank("PbI2"),
    "match Al": _match("Al"),
    "match PbI2": _match("PbI2"),
}


def _stage(name, args, queue, shard=0, n_shards=1):
    """One stage (or shard) in this process, which imports only what the stage's own job
    imports in the workflow; reports the process's peak resident memory (MiB)."""
    STAGES[name](args, shard, n_shards)
    queue.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def write_stream(store_dir, out_dir):
    """The store as a camera stream: 3 blanked frames before each line and after the last, and
    every other line 2 frames short."""
    import numpy as np

    from acomflow.store import StoreWriter, read_sidecar, store_frames

    sidecar = read_sidecar(store_dir)
    ny, nx = sidecar["scan_shape"]
    lines = store_frames(store_dir)
    blank = np.zeros((3, *lines.shape[2:]), dtype=lines.dtype)
    n = ny * (nx + 3) - 2 * (ny // 2) + 3
    stream_sidecar = {
        "stream": True,
        "nominal_scan_shape": [ny, nx],
        "calibration": sidecar["calibration"],
    }
    with StoreWriter(out_dir, (1, n, *lines.shape[2:]), lines.dtype, stream_sidecar) as store:
        start = 0
        for y in range(ny):
            line = lines[y : y + 1][0]
            line = np.concatenate([blank, line if y % 2 == 0 else line[1:-1]])
            store.write(start, line)
            start += len(line)
        store.write(start, blank)


def write_blank(args):
    """The reconstruction's default outputs written from blank frames, line by line."""
    import numpy as np

    from acomflow.export.sinks import FrameOutputs
    from acomflow.reconstruct.settings import ReconstructionSettings

    ny, nx = args.scan
    size = args.frame_size
    with FrameOutputs(
        args.work / "blank", "bench", ReconstructionSettings().formats, (ny, nx), size
    ) as outputs:
        for y in range(ny):
            outputs.write(y * nx, np.zeros((nx, size, size), np.float32), np.ones(nx), np.zeros(nx))


def run_stage(name, args, n_processes=1):
    """Run a stage in `n_processes` processes at once (shards); wall seconds and the largest peak
    RSS."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [
        context.Process(target=_stage, args=(name, args, queue, i, n_processes))
        for i in range(n_processes)
    ]
    start = time.perf_counter()
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    return time.perf_counter() - start, max(results)


def merge(args, n_shards):
    from acomflow.register.dataset import merge_shards

    tags = [f"{n_shards}-{i}" for i in range(n_shards)]
    return merge_shards(
        args.work / "sim/raw",
        [args.work / f"{t}.spots.parquet" for t in tags],
        [args.work / f"{t}.patterns.parquet" for t in tags],
        args.work / f"{n_shards}.spots.parquet",
        args.work / f"{n_shards}.patterns.parquet",
    )


def report(name, processes, args, frames):
    """Run a stage and print its frames/s, wall time and peak memory (sharded stages: per core
    count); returns its wall time (s)."""
    seconds, peak_mb = run_stage(name, args, processes)
    label = (
        f"{name} ({processes} core{'s' if processes > 1 else ''})"
        if name in ("register", "metrics")
        else name
    )
    print(
        f"{label:20s} {frames / seconds:8.1f} frames/s  {seconds:7.1f} s  peak RSS {peak_mb:7.0f} "
        f"MiB",
        flush=True,
    )
    return seconds


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scan", type=int, nargs=2, default=[40, 50], metavar=("NY", "NX"))
    parser.add_argument("--frame-size", type=int, default=512)
    parser.add_argument("--dtype", default="uint16")
    args = parser.parse_args()
    frames = args.scan[0] * args.scan[1]
    with tempfile.TemporaryDirectory() as work:
        args.work = Path(work)
        print(f"{frames} frames of {args.frame_size}x{args.frame_size} {args.dtype}")
        for name, processes in (
            ("simulate", 1),
            ("convert", 1),
            ("stream", 1),
            ("realign", 1),
            ("centre", 1),
            ("register", 1),
        ):
            report(name, processes, args, frames)
        shards = report("register", 2, args, frames)
        start = time.perf_counter()
        summary = merge(args, 2)
        seconds = shards + time.perf_counter() - start
        print(
            f"{'registration overall':20s} {frames / seconds:8.1f} frames/s  {seconds:7.1f} s  (2 "
            f"cores: shards, then their merge)"
        )
        raw = (args.work / "sim/raw/data.npy").stat().st_size
        print(
            f"raw data {raw / 2**20:.0f} MiB; {summary['spots_per_pattern']:.1f} spots per "
            f"pattern; "
            f"compression factor {summary['compression_factor']:.0f}"
        )
        for name, processes in (
            ("reconstruct", 1),
            ("write only", 1),
            ("mask", 1),
            ("maps", 1),
            ("metrics", 1),
            ("metrics", 2),
        ):
            report(name, processes, args, frames)
        for phase in ("Al", "PbI2"):  # 1 deg, 1.5 1/Å, 200 kV, precession 1 deg, 1 core
            seconds, peak_mb = run_stage(f"bank {phase}", args)
            size = sum(
                (args.work / f"{phase}.{t}.parquet").stat().st_size for t in ("directions", "spots")
            )
            print(
                f"{'bank ' + phase:20s} {seconds:8.1f} s (process included)  "
                f"{size / 2**20:6.2f} MiB on disk  peak RSS {peak_mb:7.0f} MiB",
                flush=True,
            )
        for phase in ("Al", "PbI2"):  # its bank alone, 1 core
            _, peak_mb = run_stage(f"match {phase}", args)
            seconds, n_spots = map(float, (args.work / f"match {phase}.txt").read_text().split())
            print(
                f"{'match ' + phase:20s} {MATCH_PATTERNS / seconds:8.1f} patterns/s  "
                f"({n_spots:.0f} spots each, 1 core)  peak RSS {peak_mb:7.0f} MiB",
                flush=True,
            )


if __name__ == "__main__":
    main()
