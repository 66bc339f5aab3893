"""Figures written by the pipeline: matplotlib without a display, saved atomically as PNG."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

from .provenance import atomic_path  # noqa: E402


def subplots(rows: int, cols: int, size: tuple[float, float]):
    """A figure of rows x cols axes, `size` (width, height) inches, constrained layout."""
    return plt.subplots(rows, cols, figsize=size, layout="constrained")


def save(figure, path, dpi: int = 110) -> None:
    """Write `figure` to `path` as PNG (temporary name, then rename) and close it."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=dpi, format="png")
    plt.close(figure)
