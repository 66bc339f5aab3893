"""The paper's Fig. 2: the method on one dataset, from a raw pattern to the combined map of
spot count, orientations and amorphous phase (method.md §12)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.patches import Circle

from .. import plots
from ..crystal.phase import Phase
from ..maps.dataset import stretched
from ..metrics.comparison import RELIABLE
from .acom import ipf_colours
from .common import frame_spots


def combined_map(
    table: pd.DataFrame, spot_count: np.ndarray, amorphous: np.ndarray, phases, min_spots: int
) -> np.ndarray:
    """(ny, nx, 3) RGB: the IPF-Z colour where at least `min_spots` spots and R >= RELIABLE,
    elsewhere the amorphous signal in grey (stretched over its 1st..99th percentile)."""
    shape = spot_count.shape
    rgb = ipf_colours(table, phases).reshape(*shape, 3)
    crystalline = (np.nan_to_num(spot_count) >= min_spots) & (
        table["reliability"].to_numpy(np.float64).reshape(shape) >= RELIABLE
    )
    grey = np.repeat(stretched(amorphous)[..., None], 3, axis=-1)
    return np.where(crystalline[..., None], rgb, grey)


def examples(
    patterns: pd.DataFrame, amorphous: np.ndarray, min_spots: int
) -> tuple[pd.Series, pd.Series]:
    """A crystalline pattern (the median spot count among those with at least `min_spots`)
    and a non-crystalline one (fewer spots, the strongest signal of the `amorphous` map)."""
    usable = patterns.assign(amorphous=np.ravel(amorphous))[patterns["flags"] == 0]
    crystalline = usable[usable["n_spots"] >= min_spots].sort_values(["n_spots", "scan_y"])
    other = usable[usable["n_spots"] < min_spots].sort_values("amorphous", ascending=False)
    crystal = crystalline.iloc[len(crystalline) // 2] if len(crystalline) else usable.iloc[0]
    return crystal, other.iloc[0] if len(other) else usable.iloc[-1]


def figure_2(
    raw_frames: tuple[np.ndarray, np.ndarray],
    reconstructed: np.ndarray,
    picked: tuple[pd.Series, pd.Series],
    spots: pd.DataFrame,
    maps: dict[str, np.ndarray],
    amorphous_radii_px: tuple[float, float],
    table: pd.DataFrame,
    phases: dict[str, Phase],
    min_spots: int,
    scan_step_nm: float | None,
    path,
    provenance: dict,
) -> None:
    """The paper's Fig. 2: (a) a raw crystalline pattern, (b) its registered spots, (c) the
    spot count map, (d) the combined map (`combined_map`), (e) the pattern reconstructed,
    (f, g) orientation and reliability from the reconstructed frames (`table`), (h) a
    non-crystalline pattern with the amorphous annulus and (i) the amorphous map. `raw_frames`
    and `picked` the crystalline and non-crystalline patterns (`examples`)."""
    crystal, other = picked
    figure, axes = plots.subplots(3, 3, (15, 13))
    shape = maps["spot_count"].shape
    frame = raw_frames[0]
    for ax, title in ((axes[0, 0], "(a) raw pattern"), (axes[0, 1], "(b) registered spots")):
        ax.imshow(np.log1p(np.maximum(frame, 0)), cmap="gray", interpolation="nearest")
        ax.set(
            title=f"{title}, scan ({crystal.scan_y:.0f}, {crystal.scan_x:.0f})",
            xticks=[],
            yticks=[],
        )
    found = frame_spots(spots, crystal.scan_y, crystal.scan_x)
    for x, y, r in zip(found["x"], found["y"], found["radius"], strict=True):
        axes[0, 1].add_patch(Circle((x, y), r + 1.5, fill=False, color="tab:red", lw=0.8))
    axes[0, 1].set_xlabel(f"{len(found['x'])} spots, the direct beam included")
    plots.scan_image(
        figure,
        axes[0, 2],
        maps["spot_count"],
        "(c) spot count",
        "spots",
        scan_step_nm,
        cmap="magma",
    )
    plots.scan_image(
        figure,
        axes[1, 0],
        combined_map(table, maps["spot_count"], maps["amorphous"], phases, min_spots),
        f"(d) IPF-Z where >= {min_spots} spots and R >= {RELIABLE:g};\namorphous signal in grey",
        "",
        scan_step_nm,
    )
    axes[1, 1].imshow(np.log1p(np.maximum(reconstructed, 0)), cmap="gray", interpolation="nearest")
    axes[1, 1].set(title="(e) reconstructed pattern", xticks=[], yticks=[])
    rgb = ipf_colours(table, phases).reshape(*shape, 3)
    plots.scan_image(figure, axes[1, 2], rgb, "(f) IPF-Z, reconstructed frames", "", scan_step_nm)
    plots.scan_image(
        figure,
        axes[2, 0],
        table["reliability"].to_numpy(np.float64).reshape(shape),
        "(g) reliability, reconstructed frames",
        "R",
        scan_step_nm,
        cmap="viridis",
        vmin=0,
    )
    ax = axes[2, 1]
    ax.imshow(np.log1p(np.maximum(raw_frames[1], 0)), cmap="gray", interpolation="nearest")
    centre = (other.centre_x, other.centre_y)
    for radius in amorphous_radii_px:
        ax.add_patch(Circle(centre, radius, fill=False, color="tab:green", lw=1.0, ls="--"))
    ax.set(
        title=f"(h) non-crystalline, scan ({other.scan_y:.0f}, {other.scan_x:.0f}): "
        f"{other.n_spots:.0f} spots;\namorphous annulus dashed",
        xticks=[],
        yticks=[],
    )
    plots.scan_image(
        figure, axes[2, 2], maps["amorphous"], "(i) amorphous map", "mean counts", scan_step_nm
    )
    plots.save(figure, path, provenance=provenance)
