"""Realignment of unsynchronised streams (issue 4) against the synthetic stream truth."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from acomflow.kernels import box_means
from acomflow.prepare.realign import realign_stream
from acomflow.prepare.stream import (
    beam_box,
    beam_signal,
    blank_frames,
    cut_lines,
    line_frames,
    pixel_spread,
)
from acomflow.simulate.dataset import simulate
from acomflow.simulate.settings import SyntheticSettings
from acomflow.store import StoreWriter


@pytest.mark.parametrize("count", [5, 9, 10, 11, 12, 13, 17])
def test_line_frames_choose_a_frame_showing_each_position(count):
    nx = 12
    frames, filled = line_frames(count, nx)
    shown = np.minimum(((np.arange(count) + 0.5) / count * nx).astype(int), nx - 1)
    assert np.array_equal(filled, ~np.isin(np.arange(nx), shown))
    assert np.array_equal(shown[frames[~filled]], np.flatnonzero(~filled))
    assert np.all(np.diff(frames) >= 0) and frames.min() >= 0 and frames.max() < count
    if count == nx:
        assert np.array_equal(frames, np.arange(nx)) and not filled.any()


def pedestal_stream(rng, lines=30, nx=20, size=64):
    """A camera stream of uint16 frames and which are blanked: a dark pedestal of 4.4 counts and
    read noise everywhere; with the beam on, a direct beam (radius 4 px) and diffuse scattering
    from 1e4 to 1e6 electrons per frame (a 100x dose range along the scan), in vacuum (the beam
    alone), thin regions, and thick ones that scatter all but 1 % of the beam away."""
    yy, xx = np.indices((size, size))
    centre = (size - 1) / 2.0
    beam = (np.hypot(yy - centre, xx - centre - 3) <= 4).astype(float)
    halo = 1.0 / (1.0 + (np.hypot(yy - centre, xx - centre) / 8.0) ** 2)
    frames, blank = [], []
    for y in range(lines):
        dose = 1e4 * 100.0 ** (y / (lines - 1))
        for _ in range(rng.integers(2, 5)):
            frames.append(np.zeros((size, size)))
            blank.append(True)
        for x in range(nx):
            region = (y + x) % 3  # vacuum, thin, thick
            direct = (1.0, 0.5, 0.01)[region]
            expected = dose * (direct * beam / beam.sum() + (1 - direct) * halo / halo.sum())
            frames.append(rng.poisson(expected))
            blank.append(False)
    for _ in range(3):  # the blanked frames after the scan's last line
        frames.append(np.zeros((size, size)))
        blank.append(True)
    frames = np.array(frames) + 4.4 + rng.normal(0.0, 1.2, (len(frames), size, size))
    return np.clip(np.rint(frames), 0, None).astype(np.uint16), np.array(blank)


def test_blanked_frames_are_those_without_a_direct_beam():
    """Over a dark pedestal and a 100x dose range, the frame sum cannot tell a blanked frame from
    a thick region at low dose; the direct beam's signal can, in every frame."""
    frames, blank = pedestal_stream(np.random.default_rng(0))
    box = beam_box(frames.shape[1:])
    signal = np.array([beam_signal(frame, box) for frame in frames])
    assert np.array_equal(blank_frames(signal), blank)
    assert signal[blank].max() < 5 and signal[~blank].min() > 20
    sums = frames.reshape(len(frames), -1).sum(axis=1)
    assert sums[~blank].min() < 2 * sums[blank].max()  # the sums overlap within a factor 2
    assert beam_signal(np.zeros((64, 64), np.uint8), box) == 0.0


def test_a_stream_over_a_pedestal_is_realigned_line_by_line(tmp_path):
    """The pedestal stream of 30 lines of 20 frames, realigned: every scan position holds the
    frame recorded for it."""
    frames, blank = pedestal_stream(np.random.default_rng(1))
    sidecar = {"stream": True, "nominal_scan_shape": [30, 20]}
    with StoreWriter(tmp_path / "raw", (1, len(frames), 64, 64), np.uint16, sidecar) as store:
        store.write(0, frames)
    report = realign_stream(tmp_path / "raw", tmp_path / "prepared")
    scan = np.flatnonzero(~blank)
    assert np.array_equal(np.asarray(report["plan"]).ravel(), scan)
    assert report["dropped"]["blank"] == blank.sum() and report["positions_filled"] == 0


def test_cut_lines_names_what_it_found():
    blank = np.array([0, 0, 1, 1] + [0] * 10 + [1, 1] + [0] * 11 + [1, 1, 0], bool)
    cut = cut_lines(blank, 2, 10)
    assert cut == {"lines": [(4, 14), (16, 27)], "before": (0, 2), "after": (29, 30)}
    with pytest.raises(ValueError, match="found 2 beam-on runs"):
        cut_lines(blank, 3, 10)
    with pytest.raises(ValueError, match="not within nx/2..2nx"):
        cut_lines(blank, 2, 30)


@pytest.mark.parametrize("dose", [2e4, 2e5])
def test_stream_frames_land_on_their_scan_positions(tmp_path, dose):
    settings = SyntheticSettings(
        scan_shape=(12, 20), frame_size=64, stream=True, dose=dose, seed=3, stream_line_jitter=3
    )
    simulate(settings, tmp_path / "sim")
    report = realign_stream(tmp_path / "sim/raw", tmp_path / "prepared")
    layout = pd.read_parquet(tmp_path / "sim/truth/frames.parquet")
    raw = np.load(tmp_path / "sim/raw/data.npy")[0]
    prepared = np.load(tmp_path / "prepared/data.npy")
    assert prepared.shape == (12, 20, 64, 64) and prepared.dtype == raw.dtype
    regions = pd.read_parquet(tmp_path / "sim/truth/patterns.parquet").region
    assert {"vacuum", "amorphous", "crystal"} <= set(regions)  # dark and bright frames present

    # which recorded frame each position holds (frames are distinct: each has its own noise)
    index = {raw[i].tobytes(): i for i in range(len(raw))}
    held = np.array([[index[prepared[y, x].tobytes()] for x in range(20)] for y in range(12)])
    shown = (
        layout.set_index("frame")
        .loc[held.ravel(), ["scan_y", "scan_x"]]
        .to_numpy()
        .reshape(12, 20, 2)
    )
    yy, xx = np.indices((12, 20))
    correct = (shown[..., 0] == yy) & (shown[..., 1] == xx)
    recorded = np.zeros((12, 20), bool)
    scan = layout[layout.kind == "scan"]
    recorded[scan.scan_y, scan.scan_x] = True
    assert correct[recorded].all()  # every position a frame shows holds such a frame
    assert report["positions_filled"] == (~recorded).sum()
    assert (shown[~recorded][:, 0] == yy[~recorded]).all()  # filled from the same line

    kinds = layout.kind.value_counts()
    assert report["dropped"]["blank"] == kinds["blank"]
    assert (
        report["dropped"]["before_scan"] == kinds["pre"]
        and report["dropped"]["after_scan"] == kinds["post"]
    )
    assert [line["frames"] for line in report["lines"]] == scan.groupby("scan_y").size().tolist()
    sidecar = json.loads((tmp_path / "prepared/data.json").read_text())
    assert sidecar["scan_shape"] == [12, 20] and sidecar["stream"] is False
    assert json.loads((tmp_path / "prepared/realignment.json").read_text())["frames"] == len(layout)


def test_an_unexplained_stream_is_a_clear_error(tmp_path):
    settings = SyntheticSettings(scan_shape=(6, 10), frame_size=32, stream=True, seed=1)
    simulate(settings, tmp_path / "sim")
    with pytest.raises(
        ValueError,
        match=r"data\.npy: stream of 8\d frames: no 7 lines of about 10 frames: "
        r"found 6 beam-on runs",
    ):
        realign_stream(tmp_path / "sim/raw", tmp_path / "prepared", scan_shape=(7, 10))
    assert not (tmp_path / "prepared/data.npy").exists()


def numbered_stream(directory, n, shape=(4, 4)):
    """A stored stream whose frame k holds the value k + 1 everywhere."""
    frames = (np.arange(n, dtype=np.uint16) + 1)[:, None, None] * np.ones(shape, np.uint16)
    with StoreWriter(directory, (1, n, *shape), np.uint16, {"stream": True}) as store:
        store.write(0, frames)


@pytest.mark.parametrize(
    "mode,first,expected",
    [
        ("trim", 3, np.arange(10) + 4),  # frames 3..12 (values 4..13)
        ("offset", 2, np.arange(10) + 3),  # skip 2 frames
        ("offset", -3, np.r_[[0, 0, 0], np.arange(7) + 1]),  # pad 3 zero frames
    ],
)
def test_trim_and_offset_modes(tmp_path, mode, first, expected):
    numbered_stream(tmp_path / "raw", 14)
    report = realign_stream(
        tmp_path / "raw",
        tmp_path / "prepared",
        scan_shape=(2, 5),
        mode=mode,
        first_frame=first if mode == "trim" else 0,
        sync_offset=first if mode == "offset" else 0,
    )
    prepared = np.load(tmp_path / "prepared/data.npy")
    assert np.array_equal(prepared[:, :, 0, 0].ravel(), expected)
    assert report["positions_filled"] == (expected == 0).sum()
    assert (tmp_path / "prepared/realignment.png").read_bytes()[:4] == b"\x89PNG"


def test_trim_past_the_end_is_a_clear_error(tmp_path):
    numbered_stream(tmp_path / "raw", 12)
    with pytest.raises(
        ValueError, match="stream of 12 frames: 2 x 5 frames from frame 3 run past the stream's end"
    ):
        realign_stream(
            tmp_path / "raw", tmp_path / "prepared", scan_shape=(2, 5), mode="trim", first_frame=3
        )


@pytest.mark.parametrize(
    "frame",
    [
        np.random.default_rng(1).poisson(0.69, (64, 65)).astype(np.uint8),  # median on a tie
        np.random.default_rng(2).poisson(0.3, (128, 128)).astype(np.uint16),  # most pixels 0
        np.random.default_rng(3).poisson(40.0, (50, 50)).astype(np.uint32),
        np.rint(np.random.default_rng(4).normal(0.0, 3.0, (40, 41))).astype(np.float32),
        np.rint(np.random.default_rng(4).normal(0.0, 3.0, (40, 41))).astype(np.int16),
        np.random.default_rng(5).normal(100.0, 3.0, (40, 41)).astype(np.float32),  # not counts
        np.full((9, 9), 7, np.uint16),
    ],
)
def test_pixel_spread_is_numpys(frame):
    """The histogram ranks whole counts (signed and float ones too) as numpy's partitions do."""
    pixels = frame.astype(np.float32)
    middle, upper = np.percentile(pixels, [50, 84.13])
    assert pixel_spread(frame) == (middle, upper, np.median(np.abs(pixels - middle)))


@pytest.mark.parametrize("box", [1, 4, 33])
def test_box_means_are_the_uniform_filters_inside_the_frame(box):
    rng = np.random.default_rng(6)
    for frame in (rng.poisson(3.0, (50, 61)).astype(np.uint16), rng.normal(0, 1, (40, 37))):
        half = box // 2
        expected = ndimage.uniform_filter(frame.astype(np.float64), box)[
            half : frame.shape[0] - (box - 1 - half), half : frame.shape[1] - (box - 1 - half)
        ]
        np.testing.assert_allclose(box_means(frame, box), expected, rtol=0, atol=1e-12)


def test_pixel_spread_is_numpys_on_random_counts():
    """200 frames of 0.05-30 counts per pixel in three dtypes, odd and even sizes: the same
    floats as numpy's, to the last bit."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        shape = tuple(rng.integers(5, 80, 2))
        dtype = rng.choice([np.uint8, np.uint16, np.int32])
        frame = rng.poisson(rng.uniform(0.05, 30.0), shape).astype(dtype)
        pixels = frame.astype(np.float32)
        middle, upper = np.percentile(pixels, [50, 84.13])
        assert pixel_spread(frame) == (middle, upper, np.median(np.abs(pixels - middle)))
