"""The files each output format writes, named once for the writers and the workflow's rules."""

from __future__ import annotations

from pathlib import Path

FORMATS = ("blo", "bmp", "tiff", "npy")
OUTPUT_NAMES = {
    "blo": ["{name}.blo"],
    "bmp": ["bmp"],
    "tiff": ["{name}.tif"],
    "npy": ["data.npy", "data.json"],
}


def output_files(out_dir, name: str, formats) -> list[str]:
    """Every file (the BMP folder for bmp) the formats write under `out_dir`, e.g. for Snakemake."""
    return [f"{out_dir}/{file.format(name=name)}" for fmt in formats for file in OUTPUT_NAMES[fmt]]


def output_paths(out_dir, name: str, formats) -> dict[str, Path]:
    """The main file (or folder, for bmp) each format writes under `out_dir`."""
    return {fmt: Path(out_dir) / OUTPUT_NAMES[fmt][0].format(name=name) for fmt in formats}
