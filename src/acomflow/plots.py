"""Figures written by the pipeline: matplotlib without a display, saved atomically as PNG."""

from __future__ import annotations

import json

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar  # noqa: E402

from .provenance import atomic_path, to_builtin  # noqa: E402


def subplots(rows: int, cols: int, size: tuple[float, float]):
    """A figure of rows x cols axes, `size` (width, height) inches, constrained layout."""
    return plt.subplots(rows, cols, figsize=size, layout="constrained")


def save(figure, path, dpi: int = 110, provenance: dict | None = None) -> None:
    """Write `figure` to `path` as PNG (temporary name, then rename) and close it; `provenance`
    goes into the PNG's text chunk "acomflow" as JSON."""
    metadata = (
        {"acomflow": json.dumps(to_builtin(provenance), sort_keys=True)} if provenance else None
    )
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=dpi, format="png", metadata=metadata)
    plt.close(figure)


def nice_length(target: float) -> float:
    """The largest 1, 2 or 5 x 10^n not above `target` (> 0): a scale bar's length."""
    power = 10.0 ** np.floor(np.log10(target))
    return max(step * power for step in (1.0, 2.0, 5.0) if step * power <= target)


def scale_bar(ax, scan_step_nm: float, width_positions: int) -> None:
    """A scale bar of about a fifth of the map width in the lower left corner of `ax`."""
    length_nm = nice_length(width_positions * scan_step_nm / 5.0)
    text = f"{length_nm / 1000:g} µm" if length_nm >= 1000 else f"{length_nm:g} nm"
    ax.add_artist(
        AnchoredSizeBar(
            ax.transData,
            length_nm / scan_step_nm,
            text,
            "lower left",
            pad=0.4,
            color="white",
            frameon=False,
            size_vertical=max(width_positions / 100, 0.3),
        )
    )


MISSING = "#b0b0b0"  # the colour of a scan position without a value (NaN)


def scan_image(
    figure, ax, image, title: str, label: str, scan_step_nm: float | None = None, **imshow
) -> None:
    """A scan map on `ax`: positions on the axes, positions without a value (NaN) in MISSING, a
    colour bar labelled `label`, and a scale bar when the scan step is known."""
    if image.ndim == 2:
        imshow["cmap"] = plt.get_cmap(imshow.get("cmap")).with_extremes(bad=MISSING)
    shown = ax.imshow(image, interpolation="nearest", **imshow)
    ax.set(title=title, xlabel="scan x (positions)", ylabel="scan y (positions)")
    if image.ndim == 2:
        figure.colorbar(shown, ax=ax, label=label, shrink=0.85)
    if scan_step_nm:
        scale_bar(ax, scan_step_nm, image.shape[1])
