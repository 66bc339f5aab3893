"""The paper's comparison figures (method.md §12): Fig. 5, the preparations side by side;
Fig. 7, the masks of non-crystalline points; Fig. 6, raw against reconstructed frames (a liquid
cell in the paper). Each returns the table its panels summarise, with the paper's figures where
it gives them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .. import plots
from ..crystal.phase import Phase
from ..metrics.comparison import RELIABLE, ROI_SPOTS, masks
from .acom import ipf_colours

# The paper's Fig. 5n: mean reliability in the grain ROI and over the full map (NMVP, real data;
# the ASTAR filter set of 20.7 and 11.1 is not stated).
PAPER_FIG5 = {
    "raw": {"mean_reliability_roi": 15.0},
    "astar": {"mean_reliability_roi": 20.7, "mean_reliability_map": 11.1},
    "reconstruction": {"mean_reliability_roi": 29.4, "mean_reliability_map": 9.1},
}
MASK_TITLES = {
    "index": "index > Otsu",
    "reliability": f"R >= {RELIABLE:g}",
    "index_and_reliability": f"index > Otsu, R >= {RELIABLE:g}",
    "spot_count": f">= {ROI_SPOTS} spots",
}


@dataclasses.dataclass(frozen=True)
class Indexed:
    """A dataset's orientation tables by preparation (scan order) and what drawing them needs:
    the registered spot count of each pattern, the phases and the scan (shape, step in nm)."""

    tables: dict[str, pd.DataFrame]
    registered_spots: np.ndarray
    phases: dict[str, Phase]
    scan_shape: tuple[int, int]
    scan_step_nm: float | None

    @classmethod
    def read(cls, table_paths: dict, patterns_path, phases: dict[str, Phase], store_dir):
        """From the tables' files ({name: path}), the registered patterns table and the
        store's sidecar (scan shape and step)."""
        from ..store import read_sidecar

        sidecar = read_sidecar(store_dir)
        return cls(
            tables={name: pd.read_parquet(path) for name, path in table_paths.items()},
            registered_spots=pd.read_parquet(patterns_path, columns=["n_spots"])[
                "n_spots"
            ].to_numpy(),
            phases=phases,
            scan_shape=tuple(sidecar["scan_shape"]),
            scan_step_nm=sidecar["calibration"]["scan_step_nm"],
        )

    @property
    def roi(self) -> np.ndarray:
        """The grain ROI: patterns of at least ROI_SPOTS registered spots."""
        return np.asarray(self.registered_spots) >= ROI_SPOTS

    def orientation_rgb(self, name: str, keep=None) -> np.ndarray:
        """IPF-Z colours of table `name` on the scan, black where `keep` is False."""
        rgb = ipf_colours(self.tables[name], self.phases).reshape(*self.scan_shape, 3)
        if keep is None:
            return rgb
        return np.where(np.asarray(keep).reshape(self.scan_shape)[..., None], rgb, 0.0)


def label(name: str) -> str:
    """A preparation's name as a figure shows it."""
    if name.startswith("astar_"):
        return f"ASTAR filters, {name[len('astar_') :]}"
    return {"matcher": "spot matcher (table)"}.get(name, name)


def paper_value(name: str, key: str) -> float:
    """The paper's Fig. 5n value of a preparation (NaN where it gives none)."""
    family = "astar" if name.startswith("astar_") else name
    return PAPER_FIG5.get(family, {}).get(key, np.nan)


def figure_5_table(summary: dict) -> pd.DataFrame:
    """One row per preparation: mean R in the grain ROI and over the map (ours and the
    paper's), the index quartiles and, with the truth, the accuracy and false orientations."""
    rows = []
    for name, entry in summary.items():
        row = {
            "preparation": name,
            "roi_patterns": entry["roi_patterns"],
            "mean_reliability_roi": entry["mean_reliability_roi"],
            "mean_reliability_map": entry["mean_reliability_map"],
            "paper_mean_reliability_roi": paper_value(name, "mean_reliability_roi"),
            "paper_mean_reliability_map": paper_value(name, "mean_reliability_map"),
            "index_median": entry["index_quartiles"][1],
        }
        if "truth" in entry:
            truth = entry["truth"]
            row.update(
                within_1_deg=truth["within_1_deg"],
                within_2_deg=truth["within_2_deg"],
                false_orientations_per_100=truth["false_orientations_per_100"],
            )
        rows.append(row)
    return pd.DataFrame(rows)


def figure_5(indexed: Indexed, summary: dict, path, provenance: dict) -> pd.DataFrame:
    """The paper's Fig. 5 for every preparation of `indexed` (the spot matcher last):
    orientation maps in the grain ROI, reliability maps raw and in the ROI, the index histograms
    of the image-index preparations, the mean reliabilities beside the paper's and, with the
    truth, the accuracy. Returns `figure_5_table(summary)`."""
    shape, roi = indexed.scan_shape, indexed.roi
    names = list(indexed.tables)
    figure = plots.plt.figure(figsize=(3.4 * len(names), 13.5), layout="constrained")
    grid = figure.add_gridspec(4, len(names))
    for col, name in enumerate(names):
        reliability = indexed.tables[name]["reliability"].to_numpy(np.float64).reshape(shape)
        for row, image, title, style in (
            (0, indexed.orientation_rgb(name, roi), "IPF-Z, grain ROI", {}),
            (1, reliability, "reliability", {"cmap": "viridis", "vmin": 0, "vmax": 50}),
            (
                2,
                np.where(roi.reshape(shape), reliability, np.nan),
                "reliability, grain ROI",
                {"cmap": "viridis", "vmin": 0, "vmax": 50},
            ),
        ):
            ax = figure.add_subplot(grid[row, col])
            title = f"{label(name)}\n{title}" if row == 0 else title
            plots.scan_image(figure, ax, image, title, "R", indexed.scan_step_nm, **style)
    result = figure_5_table(summary)
    half = max(len(names) // 2, 1)
    ax = figure.add_subplot(grid[3, :half])
    for name in names[:-1]:
        index = indexed.tables[name]["index"].to_numpy(np.float64)
        ax.hist(index, bins=50, histtype="step", label=label(name))
    ax.set(xlabel="image index Q (grey levels)", ylabel="patterns", title="index, full map")
    ax.legend(fontsize=7)
    ax = figure.add_subplot(grid[3, half:])
    x = np.arange(len(result))
    for offset, key, paper_key, colour in (
        (-0.3, "mean_reliability_roi", "paper_mean_reliability_roi", "tab:blue"),
        (0.0, "mean_reliability_map", "paper_mean_reliability_map", "tab:orange"),
    ):
        ax.bar(x + offset, result[key], 0.28, color=colour, label=key.replace("_", " "))
        ax.scatter(x + offset, result[paper_key], color="k", marker="_", s=200, zorder=3)
    if "within_2_deg" in result:
        ax.bar(
            x + 0.3, 100 * result["within_2_deg"], 0.28, color="tab:green", label="% within 2 deg"
        )
    ax.scatter([], [], color="k", marker="_", s=200, label="paper (NMVP)")
    ax.set_xticks(x, [label(n) for n in result["preparation"]], rotation=20, fontsize=8)
    ax.set(ylabel="mean R  /  %", title="reliability in the grain ROI and over the map")
    ax.legend(fontsize=7)
    plots.save(figure, path, provenance=provenance)
    return result


def figure_7_table(summary: dict, preparations) -> pd.DataFrame:
    """One row per preparation and mask (`metrics.comparison.masks`): the patterns kept and,
    with the truth, the crystalline ones kept, the non-crystalline ones kept per 100 and the
    right (2 deg) among the crystalline ones kept."""
    rows = []
    for name in preparations:
        entry = summary[name]
        for mask in MASK_TITLES:
            row = {"preparation": name, "mask": mask, "kept": entry["masks_kept"][mask]}
            if "truth" in entry:
                row.update(entry["truth"]["masks"][mask])
            rows.append(row)
    return pd.DataFrame(rows)


def figure_7(indexed: Indexed, summary: dict, path, provenance: dict) -> pd.DataFrame:
    """The paper's Fig. 7 for the preparations of `indexed` (one row each): the orientation map,
    then masked by index, reliability, both and spot count (`metrics.comparison.masks`), each
    titled with the fraction kept and, with the truth, what it keeps. Returns
    `figure_7_table`."""
    step, rows = indexed.scan_step_nm, len(indexed.tables)
    result = figure_7_table(summary, indexed.tables)
    cols = 1 + len(MASK_TITLES)
    figure, axes = plots.subplots(rows, cols, (3.6 * cols, 3.4 * rows))
    axes = np.atleast_2d(axes)
    for row, (name, table) in enumerate(indexed.tables.items()):
        rgb = indexed.orientation_rgb(name)
        plots.scan_image(figure, axes[row, 0], rgb, label(name), "", step)
        kept = masks(table, indexed.registered_spots, summary[name]["index_threshold"])
        for col, (mask, title) in enumerate(MASK_TITLES.items(), start=1):
            line = result[(result["preparation"] == name) & (result["mask"] == mask)].iloc[0]
            title = f"{title}: {100 * line['kept']:.0f} % kept"
            if "crystal_kept" in line:
                title += (
                    f"\ncrystal {100 * line['crystal_kept']:.0f} %, "
                    f"other {line['non_crystal_kept_per_100']:.0f} %, "
                    f"right {100 * line['right_of_kept']:.0f} %"
                )
            image = indexed.orientation_rgb(name, kept[mask])
            plots.scan_image(figure, axes[row, col], image, title, "", step)
    plots.save(figure, path, provenance=provenance)
    return result


def figure_6_table(indexed: Indexed) -> pd.DataFrame:
    """Per preparation, the reliability over the map and in the grain ROI: mean, median and
    the fraction at or above RELIABLE (the paper's Fig. 6e, f)."""
    roi = indexed.roi
    rows = []
    for name, table in indexed.tables.items():
        reliability = table["reliability"].to_numpy(np.float64)
        for region, values in (("map", reliability), ("grain ROI", reliability[roi])):
            rows.append(
                {
                    "preparation": name,
                    "region": region,
                    "patterns": len(values),
                    "mean_reliability": float(values.mean()) if len(values) else np.nan,
                    "median_reliability": float(np.median(values)) if len(values) else np.nan,
                    "reliable_fraction": float(np.mean(values >= RELIABLE))
                    if len(values)
                    else np.nan,
                }
            )
    return pd.DataFrame(rows)


def figure_6(
    indexed: Indexed, frames: dict[str, list[np.ndarray]], examples: pd.DataFrame, path, provenance
) -> pd.DataFrame:
    """The paper's Fig. 6 for two preparations (`indexed`: raw first, reconstruction second):
    orientation and reliability maps, the reliability histograms and, for the patterns of
    `examples` (scan_y, scan_x, noise_sigma), the frames of each (`frames`: {name: [frame]}).
    Returns `figure_6_table`."""
    shape, step = indexed.scan_shape, indexed.scan_step_nm
    result = figure_6_table(indexed)
    figure = plots.plt.figure(figsize=(17, 12), layout="constrained")
    grid = figure.add_gridspec(3, 12)
    n = len(examples)
    for k, (name, table) in enumerate(indexed.tables.items()):
        reliability = table["reliability"].to_numpy(np.float64)
        ax = figure.add_subplot(grid[0, 6 * k : 6 * k + 3])
        rgb = indexed.orientation_rgb(name)
        plots.scan_image(figure, ax, rgb, f"{label(name)}: IPF-Z", "", step)
        ax = figure.add_subplot(grid[0, 6 * k + 3 : 6 * k + 6])
        plots.scan_image(
            figure,
            ax,
            reliability.reshape(shape),
            f"{label(name)}: reliability",
            "R",
            step,
            cmap="viridis",
            vmin=0,
            vmax=50,
        )
        ax = figure.add_subplot(grid[1, 6 * k : 6 * k + 6])
        top = max(50.0, float(np.ceil(np.nanmax(np.r_[reliability, 0.0]))))
        ax.hist(reliability, bins=np.linspace(0, top, 51), color="tab:blue")
        ax.axvline(RELIABLE, color="k", ls="--", label=f"R = {RELIABLE:g} (reliable above)")
        reliable = result[(result["preparation"] == name) & (result["region"] == "map")].iloc[0]
        ax.set(
            xlabel="reliability R",
            ylabel="patterns",
            title=f"{label(name)}: {100 * reliable['reliable_fraction']:.0f} % reliable, "
            f"mean R {reliable['mean_reliability']:.1f}",
        )
        ax.legend(fontsize=8)
        for j, (frame, example) in enumerate(zip(frames[name], examples.itertuples(), strict=True)):
            width = 6 // max(n, 1)
            ax = figure.add_subplot(grid[2, 6 * k + width * j : 6 * k + width * (j + 1)])
            ax.imshow(np.log1p(np.maximum(frame, 0)), cmap="gray", interpolation="nearest")
            ax.set(
                title=f"{label(name)} ({example.scan_y}, {example.scan_x})\n"
                f"noise sigma {example.noise_sigma:.3g}",
                xticks=[],
                yticks=[],
            )
    plots.save(figure, path, provenance=provenance)
    return result
