"""ASTAR's image filters, as the paper describes them (Folastre et al. 2024, "The Astar filters";
SPEC §7), for the comparison of preparations: a frame as ASTAR would index it after its filters.

On an 8-bit frame (grey levels 0-255; float within, rounded back to grey levels before the
threshold):
- softening loop, `softening` times: every pixel minus the mean of its 3 x 3 neighbourhood
  (itself included; ImageJ's mean, edge pixels repeated), set to 0 where negative;
- spot enhance, `spot_enhance` times: the 3 x 3 kernel [[1, 1, 1], [1, 8, 1], [1, 1, 1]] / 16
  on every pixel (edge pixels repeated);
- noise threshold: grey levels below `threshold` set to 0.
The paper's parameter sets (softening, spot enhance, threshold), the config's defaults
(`comparison.astar`): "default" (1, 2, 0), which it finds over-fits amorphous regions, and
"optimised" (1, 4, 10).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from ..kernels import mean3x3
from ..logs import Progress, logger
from ..provenance import record
from ..store import SIDECAR_NAME, StoreWriter, read_sidecar, store_frames
from ..tables import brightest_diffracted_mean

SPOT_ENHANCE = np.array([[1.0, 1.0, 1.0], [1.0, 8.0, 1.0], [1.0, 1.0, 1.0]], np.float32) / 16.0


def grey_scale(dtype, spots_path) -> float:
    """Grey levels per count for a store's frames: 1 for 8-bit frames, else 255 over the
    brightest diffracted spot's registered mean (the reconstruction's 8-bit reference), so that
    every preparation of a dataset shares one grey scale."""
    if np.dtype(dtype) == np.uint8:
        return 1.0
    return 255.0 / brightest_diffracted_mean(spots_path)


def to_grey(frame: np.ndarray, scale: float) -> np.ndarray:
    """An 8-bit frame as ASTAR receives it: clip(rint(frame x `scale`), 0, 255), float32."""
    return np.clip(np.rint(np.asarray(frame, np.float32) * np.float32(scale)), 0, 255)


def astar_filters(
    grey: np.ndarray, softening: int, spot_enhance: int, threshold: float
) -> np.ndarray:
    """The uint8 frame ASTAR indexes after its filters (see the module), from an 8-bit frame
    `grey` (any numeric dtype holding 0-255)."""
    image = np.asarray(grey, np.float32)
    for _ in range(softening):
        image = np.maximum(image - mean3x3(image), np.float32(0.0))
    for _ in range(spot_enhance):
        image = ndimage.convolve(image, SPOT_ENHANCE, mode="nearest")
    out = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    out[out < threshold] = 0
    return out


def filter_store(store_dir, spots_path, out_dir, parameters) -> dict:
    """Every frame of the store in `store_dir` as 8-bit grey levels (`to_grey` at `grey_scale`,
    from the registered table at `spots_path`) after ASTAR's filters `parameters` (softening,
    spot enhance, threshold), written as a uint8 store in `out_dir`, one scan line at a time;
    returns its sidecar."""
    store_dir = Path(store_dir)
    sidecar = read_sidecar(store_dir)
    scale = grey_scale(sidecar["dtype"], spots_path)
    ny, nx = sidecar["scan_shape"]
    frames = store_frames(store_dir)
    softening, spot_enhance, threshold = parameters
    settings = {"softening": softening, "spot_enhance": spot_enhance, "threshold": threshold}
    out_sidecar = {
        "source": {"format": "astar-filtered", "store": str(store_dir)},
        "calibration": sidecar.get("calibration", {}),
        **record({**settings, "scale": scale}, inputs=[store_dir / SIDECAR_NAME, spots_path]),
    }
    logger.info("ASTAR filters %s on %s at %.4g grey levels per count", settings, store_dir, scale)
    progress = Progress(f"ASTAR filters {store_dir}", ny * nx)
    shape = (ny, nx, *sidecar["frame_shape"])
    with StoreWriter(out_dir, shape, np.uint8, out_sidecar) as store:
        for y in range(ny):
            line = frames[y : y + 1][0]
            store.write(
                y * nx, np.stack([astar_filters(to_grey(f, scale), *parameters) for f in line])
            )
            progress.update(nx)
    return store.sidecar
