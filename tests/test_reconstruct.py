"""Reconstruction (issue 5): exact disc coverage, the round trip table -> rendering -> table, the
renderer's options, the ePattern v4 renderer, masking, and streaming the table by lines."""

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.spatial import cKDTree
from test_register_frame import PAPER, frames

from acomflow.metrics.accuracy import match
from acomflow.reconstruct.discs import pixel_coverage, render_discs
from acomflow.reconstruct.epattern_v4 import render_epattern_v4
from acomflow.reconstruct.frame import g_limit_px, render_frame
from acomflow.reconstruct.mask import mask_frame
from acomflow.reconstruct.settings import ReconstructionSettings
from acomflow.register.frame import detect_spots, register_frame
from acomflow.register.settings import RegistrationSettings, paper_registration
from acomflow.simulate.sample import build_sample
from acomflow.simulate.settings import SyntheticSettings
from acomflow.tables import table_lines


def test_pixel_coverage_is_the_exact_area():
    """Against 1000 x 1000 sub-samples of pixels that the disc edge crosses (sampling error
    ~1e-5)."""
    rng = np.random.default_rng(0)
    grid = (np.arange(1000) + 0.5) / 1000 - 0.5
    worst = 0.0
    for _ in range(60):
        radius, angle = rng.uniform(0.3, 6), rng.uniform(0, 2 * np.pi)
        distance = radius + rng.uniform(-0.8, 0.8)
        dy, dx = distance * np.sin(angle), distance * np.cos(angle)
        yy, xx = np.meshgrid(dy + grid, dx + grid, indexing="ij")
        worst = max(
            worst,
            abs(pixel_coverage(dy, dx, radius) - np.mean(yy * yy + xx * xx <= radius * radius)),
        )
    assert worst < 1e-4
    assert pixel_coverage(0.0, 0.0, 3.0) == 1.0 and pixel_coverage(5.0, 0.0, 3.0) == 0.0


@pytest.mark.parametrize("radius", [0.7, 2.5, 6.3])
def test_a_disc_integrates_to_its_area_and_centres_on_its_position(radius):
    cy, cx = 20.37, 18.81
    image = render_discs((40, 40), [cy], [cx], [radius], [2.0]).astype(np.float64)
    assert image.sum() == pytest.approx(2.0 * math.pi * radius**2, rel=1e-6)
    yy, xx = np.mgrid[:40, :40]
    tolerance = 0.05 if radius < 1 else 0.01  # pixel-centre sampling of the first moment
    assert (
        abs((image * yy).sum() / image.sum() - cy) < tolerance
        and abs((image * xx).sum() / image.sum() - cx) < tolerance
    )


def test_overlapping_discs_take_the_maximum():
    image = render_discs((30, 30), [15, 15], [12, 18], [5, 5], [1.0, 3.0])
    assert image[15, 15] == pytest.approx(3.0) and image[15, 9] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def round_trip():
    """Noisy synthetic crystalline frames registered, rendered (detector geometry), registered
    again."""
    settings = SyntheticSettings(scan_shape=(8, 8), frame_size=256, seed=2)
    sample = build_sample(settings)
    positions = [(y, x) for y in range(8) for x in range(8) if sample.region[y, x] == 2][:10]
    rows = []
    for _, _, frame in frames(settings, positions):
        table, _ = register_frame(frame, PAPER, settings.saturation_level)
        image = render_frame(
            table, (np.nan, np.nan), frame.shape, ReconstructionSettings(centred=False)
        )
        again, _ = register_frame(
            image, paper_registration(RegistrationSettings())
        )  # a rendering has no Poisson noise
        distance, index = cKDTree(np.c_[again["y"], again["x"]]).query(
            np.c_[table["y"], table["x"]]
        )
        yx, radius = np.c_[table["y"], table["x"]], table["radius"]
        gaps = (
            np.hypot(*(yx[:, None] - yx[None]).transpose(2, 0, 1)) - radius[:, None] - radius[None]
        )
        np.fill_diagonal(gaps, np.inf)
        rows.append(
            pd.DataFrame(
                {
                    "error": distance,
                    "gap": gaps.min(axis=1),
                    "integrated": again["integrated"][index] / (table["mean"] * np.pi * radius**2),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_round_trip_positions(round_trip):
    """Issue 5: positions back to <= 0.005 px median (measured 0.0025)."""
    assert len(round_trip) > 300
    assert np.median(round_trip.error) <= 0.005


def test_round_trip_intensities(round_trip):
    """Issue 5: intensities back within 1 %: a spot's integrated intensity (its mean x pi r^2 in the
    table) for spots at least 8 px from any other disc. Nearer ones are re-measured in a window
    limited to half the distance to the neighbour (SPEC §2.5), which cuts their disc. The mean
    itself is not a round-trip invariant: on a flat disc of radius R the std-maximising radius is
    sqrt(2) R, so the re-registered radius is larger and its mean lower."""
    apart = round_trip[round_trip.gap > 8]
    assert len(apart) > 200
    assert np.mean(np.abs(apart.integrated - 1) <= 0.01) >= 0.99
    assert np.median(np.abs(round_trip.integrated - 1)) <= 0.002


def test_relative_intensities_follow_the_truth():
    """Reconstructed spot intensities of a noise-free pattern are proportional to the true
    electrons of each spot (isolated spots of SNR >= 20, direct beam excluded): per pattern, the
    largest deviation from the pattern's median ratio."""
    settings = SyntheticSettings(
        scan_shape=(8, 8), frame_size=256, noise=False, seed=1, dtype="float32", saturation=1e9
    )
    sample = build_sample(settings)
    positions = [(y, x) for y in range(8) for x in range(8) if sample.region[y, x] == 2][:8]
    spreads = []
    for _, truth, frame in frames(settings, positions):
        table, _ = register_frame(frame, PAPER, 1e9)
        image = render_frame(
            table, (np.nan, np.nan), frame.shape, ReconstructionSettings(centred=False)
        )
        again, _ = register_frame(image, paper_registration(RegistrationSettings()))
        _, index, inside = match(again, truth)
        t = truth.iloc[index]
        neighbour = cKDTree(np.c_[truth.y, truth.x]).query(np.c_[truth.y, truth.x], k=2)[0][:, 1][
            index
        ]
        ok = (
            inside
            & ~again["is_direct_beam"]
            & (t.snr.to_numpy() >= 20)
            & (neighbour > 3 * t.radius.to_numpy() + 8)
        )
        if ok.sum() >= 4:
            ratio = again["integrated"][ok] / t.electrons.to_numpy()[ok]
            spreads.append(np.abs(ratio / np.median(ratio) - 1).max())
    assert len(spreads) >= 5
    assert np.median(spreads) <= 0.01 and max(spreads) <= 0.05  # measured 0.8 % and 4.1 %


def _pattern():
    return {
        "x": np.array([32.0, 40.5, 10.25]),
        "y": np.array([31.0, 31.0, 50.75]),
        "radius": np.array([4.0, 2.0, 2.0]),
        "mean": np.array([1000.0, 100.0, 50.0]),
        "is_direct_beam": np.array([True, False, False]),
    }


def _centroid(image, box):
    (r0, r1), (c0, c1) = box
    patch = image[r0:r1, c0:c1].astype(float)
    yy, xx = np.mgrid[r0:r1, c0:c1]
    return (patch * yy).sum() / patch.sum(), (patch * xx).sum() / patch.sum()


def test_centred_and_scaled_geometry():
    """Centred: the beam centre goes to the output centre and offsets scale with size / frame
    size."""
    spots = _pattern()
    image = render_frame(spots, (31.0, 32.0), (64, 64), ReconstructionSettings(size=128))
    y, x = _centroid(image, ((56, 72), (74, 88)))  # the spot 8.5 px right of the beam, at 2x
    assert y == pytest.approx(63.5, abs=0.01) and x == pytest.approx(63.5 + 17.0, abs=0.01)
    y, x = _centroid(image, ((54, 74), (54, 74)))
    assert y == pytest.approx(63.5, abs=0.01) and x == pytest.approx(63.5, abs=0.01)
    detector = render_frame(spots, (31.0, 32.0), (64, 64), ReconstructionSettings(centred=False))
    assert _centroid(detector, ((24, 38), (25, 39))) == pytest.approx((31.0, 32.0), abs=0.01)


def test_options_change_what_is_drawn():
    spots, centre, shape = _pattern(), (31.0, 32.0), (64, 64)
    base = dict(centred=False)
    kept = render_frame(spots, centre, shape, ReconstructionSettings(**base))
    removed = render_frame(
        spots, centre, shape, ReconstructionSettings(**base, direct_beam="remove")
    )
    attenuated = render_frame(
        spots,
        centre,
        shape,
        ReconstructionSettings(**base, direct_beam="attenuate", attenuation=0.1),
    )
    assert (
        kept[31, 32] == pytest.approx(1000)
        and removed[31, 32] == 0
        and attenuated[31, 32] == pytest.approx(100)
    )
    cut = render_frame(spots, centre, shape, ReconstructionSettings(**base, g_max_px=15))
    assert cut[50:52, 10:12].max() == 0 and cut[31, 40] > 0  # the spot 29 px out is dropped
    fixed = render_frame(
        spots, centre, shape, ReconstructionSettings(**base, radius=3.0, direct_beam_radius=6.0)
    )
    assert fixed[44:58, 3:18].sum() == pytest.approx(
        50 * np.pi * 9, rel=1e-5
    )  # the far spot: radius 3
    assert (
        fixed[31, 27] == pytest.approx(1000) and kept[31, 27] == 0
    )  # the direct beam: radius 6, not 4
    blurred = render_frame(spots, centre, shape, ReconstructionSettings(**base, blur=1.0))
    assert blurred.sum() == pytest.approx(kept.sum(), rel=1e-3) and blurred.max() < kept.max()
    assert g_limit_px(ReconstructionSettings(g_max_inv_angstrom=1.0), 0.02) == pytest.approx(50)
    with pytest.raises(ValueError, match="needs the reciprocal pixel size"):
        g_limit_px(ReconstructionSettings(g_max_inv_angstrom=1.0), None)


def test_epattern_v4_renderer_draws_flat_discs_of_radius_4_and_2():
    spots = _pattern()
    image = render_frame(
        spots, (31.0, 32.0), (64, 64), ReconstructionSettings(renderer="epattern-v4", centred=False)
    )
    assert image[31, 32] == pytest.approx(1000) and image[31, 40:42].max() == pytest.approx(
        100, rel=0.01
    )
    assert image[20:43, 20:37].sum() == pytest.approx(1000 * np.pi * 16, rel=0.03)
    y, x = _centroid(image, ((45, 57), (4, 17)))
    assert abs(y - 50.75) < 0.05 and abs(x - 10.25) < 0.05
    alone = render_epattern_v4((16, 16), [7.0], [7.0], [2.0], [1.0])
    assert alone.sum() == pytest.approx(np.pi * 4, rel=0.03)


def test_masking_keeps_the_subtracted_frame_inside_discs_only():
    settings = SyntheticSettings(scan_shape=(8, 8), frame_size=256, seed=1)
    sample = build_sample(settings)
    position = next((y, x) for y in range(8) for x in range(8) if sample.region[y, x] == 2)
    _, truth, frame = next(frames(settings, [position]))
    masked, reference, vbf = mask_frame(frame, PAPER, 5.0, settings.saturation_level)
    found = detect_spots(
        frame.astype(np.float32),
        PAPER,
        settings.saturation_level,
    )
    yy, xx = np.mgrid[: frame.shape[0], : frame.shape[1]]
    near = np.zeros(frame.shape, bool)
    for r, c in zip(found.rows, found.cols):
        near |= (yy - r) ** 2 + (xx - c) ** 2 <= 25
    assert np.all(masked[~near] == 0)
    assert np.array_equal(masked[near], found.subtracted[near])
    beam = truth[truth.is_direct_beam].iloc[0]
    assert vbf == pytest.approx(
        found.subtracted[(yy - round(beam.y)) ** 2 + (xx - round(beam.x)) ** 2 <= 25].sum(),
        rel=0.01,
    )
    assert 0 < reference < masked.max()
    assert mask_frame(np.full((32, 32), np.nan), PAPER, 5.0)[0].max() == 0


@pytest.mark.parametrize("batch_rows", [1, 3, 1000])
def test_table_lines_cut_any_batching_into_whole_lines(tmp_path, batch_rows):
    table = pd.DataFrame(
        {"scan_y": [0, 0, 2, 2, 2, 4], "scan_x": [0, 1, 0, 0, 1, 1], "x": np.arange(6.0)}
    )
    pq.write_table(pa.Table.from_pandas(table), tmp_path / "s.parquet")
    lines = list(table_lines(tmp_path / "s.parquet", 6, ["scan_y", "scan_x", "x"], batch_rows))
    assert [y for y, _ in lines] == list(range(6))
    assert [list(line["x"]) for _, line in lines] == [[0, 1], [], [2, 3, 4], [], [5], []]
    pq.write_table(pa.Table.from_pandas(table.iloc[::-1]), tmp_path / "u.parquet")
    with pytest.raises(ValueError, match="u.parquet: spots are not sorted by scan line"):
        list(table_lines(tmp_path / "u.parquet", 6, ["scan_y", "scan_x", "x"], batch_rows))
