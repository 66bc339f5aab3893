"""All maps of a registered dataset, written as float32 TIFF (ImageJ calibration) and PNG.

Outputs in `out_dir`: {name}.tif for every map in MAP_NAMES (scan step as the TIFF resolution,
in nm, and the provenance as JSON in the ImageJ "Info" field), combined.tif (RGB), and
png/{name}.png with a colour bar and, when the scan step is known, a scale bar. Positions whose
frame could not be registered (not finite, or constant: the patterns table's flags) are NaN in
every map, drawn in `plots.MISSING`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from .. import plots
from ..logs import logger
from ..provenance import atomic_path, record, to_builtin
from ..store import SIDECAR_NAME, read_sidecar
from .detectors import detector_maps
from .names import MAP_NAMES
from .settings import MapSettings
from .table import table_maps

# name -> (title, colour-bar label, colour map)
STYLE = {
    "spot_count": ("spot count", "spots per pattern", "magma"),
    "vbf": ("virtual bright field (direct-beam mean)", "counts / px", "gray"),
    "full_vbf": ("full virtual bright field (sum of spot means)", "counts / px", "gray"),
    "vdf": ("virtual dark field (table)", "sum of spot means (counts / px)", "inferno"),
    "noise_sigma": ("noise sigma at high angle", "counts", "viridis"),
    "prominence_min": ("prominence threshold", "counts", "viridis"),
    "crystalline": ("crystalline ROI", "1: crystalline", "gray"),
    "bf": ("BF detector", "counts", "gray"),
    "adf": ("ADF detector", "counts", "inferno"),
    "amorphous": ("amorphous (annulus, spots masked)", "mean counts / px", "cividis"),
}


def stretched(image: np.ndarray) -> np.ndarray:
    """`image` mapped linearly from its 1st..99th percentile onto [0, 1] (NaN: 0)."""
    finite = image[np.isfinite(image)]
    if finite.size == 0:
        return np.zeros_like(image)
    low, high = np.percentile(finite, [1, 99])
    scaled = (image - low) / (high - low) if high > low else image * 0.0
    return np.clip(np.nan_to_num(scaled), 0.0, 1.0)


def combined_rgb(maps: dict) -> np.ndarray:
    """The paper's Fig. 2d view as (ny, nx, 3) uint8: red the spot count, green the amorphous
    signal (each stretched over its 1st..99th percentile), blue the crystalline ROI."""
    rgb = np.stack(
        [
            stretched(maps["spot_count"]),
            stretched(maps["amorphous"]),
            np.nan_to_num(maps["crystalline"]),
        ],
        axis=-1,
    )
    return np.rint(rgb * 255).astype(np.uint8)


def write_tiff(path, image: np.ndarray, scan_step_nm: float | None, provenance: dict) -> None:
    """`image` as an ImageJ TIFF (float32 maps; uint8 RGB) with the scan step in nm and the
    provenance."""
    image = image if image.dtype == np.uint8 else image.astype(np.float32)
    options = {
        "metadata": {
            "unit": "nm" if scan_step_nm else "pixel",
            "Info": json.dumps(to_builtin(provenance)),
        }
    }
    if scan_step_nm:
        options["resolution"] = (1.0 / scan_step_nm, 1.0 / scan_step_nm)
    with atomic_path(path) as tmp:
        tifffile.imwrite(
            tmp,
            image,
            imagej=True,
            photometric="rgb" if image.ndim == 3 else "minisblack",
            **options,
        )


def read_tiff_provenance(path) -> dict:
    """The provenance written by `write_tiff`."""
    with tifffile.TiffFile(path) as tiff:
        return json.loads(tiff.imagej_metadata["Info"])


def _titles(settings: MapSettings, radii: dict, px_per_unit: float) -> dict:
    if settings.vdf_g_vectors:
        tolerance = settings.vdf_tolerance * px_per_unit
        aperture = f"{len(settings.vdf_g_vectors)} g-vectors ± {tolerance:.1f} px"
    else:
        aperture = "|g| {:.1f}-{:.1f} px".format(*(r * px_per_unit for r in settings.vdf_annulus))
    return {
        "vdf": f"virtual dark field ({aperture})",
        "crystalline": f"crystalline ROI (spot count ≥ {settings.crystalline_min_spots})",
        "bf": f"BF detector (r ≤ {radii['bf']:.1f} px)",
        "adf": f"ADF detector ({radii['adf_inner']:.1f}-{radii['adf_outer']:.1f} px)",
        "amorphous": f"amorphous ({radii['amorphous_inner']:.1f}-{radii['amorphous_outer']:.1f} "
        f"px, spots masked)",
    }


def map_dataset(store_dir, spots_path, patterns_path, out_dir, settings: MapSettings) -> dict:
    """Compute and write every map of one dataset; returns the detector radii (px)."""
    out_dir = Path(out_dir)
    sidecar = read_sidecar(store_dir)
    scan_shape, frame_shape = sidecar["scan_shape"], sidecar["frame_shape"]
    calibration = sidecar["calibration"]
    patterns = pd.read_parquet(patterns_path)
    maps = table_maps(
        spots_path,
        patterns,
        scan_shape,
        frame_shape,
        settings,
        calibration.get("inv_angstrom_per_px"),
    )
    detectors, radii = detector_maps(store_dir, spots_path, patterns, settings)
    maps.update(detectors)
    unusable = (patterns["flags"].to_numpy() != 0).reshape(scan_shape)
    maps = {  # a frame that is not finite, or constant, shows no value
        name: np.where(unusable, np.float32(np.nan), image) for name, image in maps.items()
    }
    provenance = record(
        {**settings.as_dict(), "detector_radii_px": radii},
        inputs=[Path(store_dir) / SIDECAR_NAME, spots_path, patterns_path],
    )
    step = calibration.get("scan_step_nm")
    titles = {name: style[0] for name, style in STYLE.items()}
    titles.update(
        _titles(
            settings,
            radii,
            settings.px_per_unit(frame_shape, calibration.get("inv_angstrom_per_px")),
        )
    )
    for name in MAP_NAMES:
        write_tiff(out_dir / f"{name}.tif", maps[name], step, {**provenance, "map": name})
        figure, ax = plots.subplots(1, 1, (5.2, 4.2))
        plots.scan_image(
            figure, ax, maps[name], titles[name], STYLE[name][1], step, cmap=STYLE[name][2]
        )
        plots.save(figure, out_dir / "png" / f"{name}.png", provenance={**provenance, "map": name})
    rgb = combined_rgb(maps)
    write_tiff(out_dir / "combined.tif", rgb, step, {**provenance, "map": "combined"})
    figure, ax = plots.subplots(1, 1, (5.2, 4.2))
    plots.scan_image(
        figure, ax, rgb, "red: spot count, green: amorphous, blue: crystalline", "", step
    )
    plots.save(
        figure, out_dir / "png" / "combined.png", provenance={**provenance, "map": "combined"}
    )
    crystalline = maps["crystalline"].astype(bool)
    logger.info(
        "maps of %s: %d of %d patterns crystalline (spot count >= %d)",
        out_dir,
        crystalline.sum(),
        crystalline.size,
        settings.crystalline_min_spots,
    )
    return radii
