"""Orientation and phase maps of a dataset (method.md §10): IPF colours along the beam with
orix's TSL colour key and its legend per phase, the phase, index and reliability maps, each
also masked by spot count and reliability, and the histograms of index and reliability."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from .. import plots
from ..acom.match import PSEUDO_180
from ..calibration import ellipse
from ..crystal.orientations import QUATERNION, point_group
from ..crystal.phase import Phase

GREY = (0.5, 0.5, 0.5)


def ipf_colours(table: pd.DataFrame, phases: dict[str, Phase]) -> np.ndarray:
    """(n, 3) RGB of each row's orientation: the crystal direction along the beam (lab z) in
    orix's TSL key of its phase's Laue group; grey where no phase."""
    from orix.plot import IPFColorKeyTSL
    from orix.quaternion import Orientation
    from orix.vector import Vector3d

    rgb = np.tile(GREY, (len(table), 1))
    for name, phase in phases.items():
        rows = (table["phase"] == name).to_numpy()
        if rows.any():
            laue = point_group(phase).laue
            key = IPFColorKeyTSL(laue, direction=Vector3d.zvector())
            orientations = Orientation(table.loc[rows, list(QUATERNION)].to_numpy(), laue)
            rgb[rows] = key.orientation2color(orientations)
    return rgb


def _legend(figure, spec, name: str, phase: Phase) -> None:
    """The IPF colour key of a phase's Laue group, drawn on its fundamental sector."""
    from orix.plot import IPFColorKeyTSL
    from orix.sampling import sample_S2
    from orix.vector import Vector3d

    laue = point_group(phase).laue
    key = IPFColorKeyTSL(laue, direction=Vector3d.zvector())
    directions = sample_S2(1.0)
    directions = directions[directions <= laue.fundamental_sector]
    ax = figure.add_subplot(spec, projection="ipf", symmetry=laue)
    ax.scatter(directions, c=key.direction_color_key.direction2color(directions), s=4)
    ax.set_title(f"{name}: IPF-Z key", fontsize=9)


def figure_orientations(
    table: pd.DataFrame,
    phases: dict[str, Phase],
    scan_shape,
    scan_step_nm: float | None,
    min_spots: int,
    min_reliability: float,
    path,
    provenance: dict,
    undistortion=None,
) -> None:
    """The orientation figure of an orientation table (`acom.dataset`), masked where fewer
    than `min_spots` spots or a reliability below `min_reliability`; the elliptical distortion
    the spots were undone from (the table's `undistortion` map) named in its title."""
    ny, nx = scan_shape
    figure = plots.plt.figure(figsize=(17, 8.5), layout="constrained")
    ratio, angle = ellipse(np.eye(2) if undistortion is None else np.asarray(undistortion))
    figure.suptitle(
        f"spots undone from an elliptical distortion of {ratio:.4f} along {angle:.1f} deg"
        if ratio > 1.0
        else "spots as registered (no distortion undone)",
        fontsize=10,
    )
    grid = figure.add_gridspec(2, 4 + len(phases))
    shape = (ny, nx)
    rgb = ipf_colours(table, phases).reshape(ny, nx, 3)
    spots_ok = (table["n_spots"] >= min_spots).to_numpy().reshape(shape)
    reliable = spots_ok & (table["reliability"] >= min_reliability).to_numpy().reshape(shape)
    masked_rgb = np.where(reliable[..., None], rgb, 0.0)
    names = ["none", *phases]
    colours = np.array([(0.0, 0.0, 0.0), *plots.plt.get_cmap("tab10").colors[: len(phases)]])
    phase_rgb = colours[[names.index(p or "none") for p in table["phase"].fillna("")]]
    panels = [
        (0, 0, rgb, "IPF-Z (beam direction)", None, {}),
        (0, 1, masked_rgb, f"IPF-Z, >= {min_spots} spots and R >= {min_reliability:g}", None, {}),
        (0, 2, phase_rgb.reshape(ny, nx, 3), "phase", None, {}),
        (0, 3, table["index"].to_numpy().reshape(shape), "index", "index (0-1)", {"cmap": "magma"}),
        (
            1,
            0,
            table["reliability"].to_numpy().reshape(shape),
            "reliability",
            "R = 100 (1 - Q2/Q1)",
            {"cmap": "viridis", "vmin": 0},
        ),
        (
            1,
            1,
            np.where(spots_ok, table["reliability"].to_numpy().reshape(shape), np.nan),
            f"reliability, >= {min_spots} spots",
            "R",
            {"cmap": "viridis", "vmin": 0},
        ),
    ]
    for row, col, image, title, label, style in panels:
        ax = figure.add_subplot(grid[row, col])
        plots.scan_image(figure, ax, image, title, label, scan_step_nm, **style)
        if title == "phase":
            legend = [Patch(color=c, label=n) for c, n in zip(colours, names, strict=True)]
            ax.legend(handles=legend, fontsize=8, loc="upper right", framealpha=0.8)
    matched = table["phase"].fillna("") != ""
    for col, column, xlabel, bins in (
        (2, "index", "index (0-1)", np.linspace(0, 1, 41)),
        (3, "reliability", "reliability R", np.linspace(0, 100, 41)),
    ):
        ax = figure.add_subplot(grid[1, col])
        for name in phases:
            values = table.loc[table["phase"] == name, column]
            ax.hist(values, bins=bins, histtype="step", label=f"{name} ({len(values)})")
        ax.set(xlabel=xlabel, ylabel="patterns", title=f"{column}, {int(matched.sum())} matched")
        ax.legend(fontsize=8)
    for k, (name, phase) in enumerate(phases.items()):
        _legend(figure, grid[0, 4 + k], name, phase)
    plots.save(figure, path, provenance=provenance)


def figure_accuracy(errors: pd.DataFrame, min_spots: int, path, provenance: dict) -> None:
    """The orientation error against the truth (deg, log scale) over the reliability, for
    crystalline patterns with at least `min_spots` spots of their own grain, by true phase;
    flagged zero-order patterns (crosses) at their error to the nearer of the truth and its zone
    twin."""
    figure, (ax_error, ax_parts) = plots.subplots(1, 2, (11, 4.5))
    crystal = errors[(errors["region"] == "crystal") & (errors["grain_spots"] >= min_spots)]
    for k, (name, rows) in enumerate(crystal.groupby("phase_true")):
        flagged = rows["flags"].to_numpy() & PSEUDO_180 > 0
        error = np.where(flagged, np.fmin(rows["error"], rows["twin_error"]), rows["error"])
        shown = np.clip(np.nan_to_num(error, nan=180.0), 1e-3, None)
        reliability = rows["reliability"].to_numpy()
        for marks, label, style in (
            (~flagged, name, {"s": 6}),
            (flagged, f"{name}, flag 1", {"s": 12, "marker": "x", "linewidths": 0.6}),
        ):
            ax_error.scatter(
                reliability[marks],
                shown[marks],
                color=f"C{k}",
                label=f"{label} ({marks.sum()})",
                **style,
            )
        ax_parts.scatter(
            rows["in_plane"].clip(lower=1e-4), rows["tilt"].clip(lower=1e-4), s=6, label=name
        )
    for ax in (ax_error, ax_parts):
        ax.legend(fontsize=8)
    ax_error.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax_error.set(
        xlabel="reliability R",
        ylabel="disorientation to the truth (deg)\nx: or to its zone twin; wrong phase: 180",
        yscale="log",
        title=f"error against reliability, >= {min_spots} own spots",
    )
    ax_parts.set(
        xscale="log",
        yscale="log",
        xlabel="in-plane error (deg)",
        ylabel="tilt error (deg)",
        title="the two parts of the error",
    )
    plots.save(figure, path, provenance=provenance)
