"""What the matched filter measures once per dataset, on a sample of its frames: the detector's
gain (`gain: null`) and the spots' disc (`matched_radius: auto`).

A detector's counts per electron are the same in every frame of a scan, but a frame's own
reading of them (`noise.poisson_gain`) is not: at a fraction of an electron per pixel, in
vacuum, the read noise clipped at 0 makes it read about half of the gain it reads on the
crystals' patterns, and the frame's significances too high by ~sqrt(2). The median over the
sample is the one gain every frame is registered with. Every stage that registers frames
(registration shards, masks, figures) measures on the same `sample_frames`, so they
all register alike and a dataset's tables do not depend on its sharding.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..logs import logger
from ..store import store_frames, store_saturation
from .noise import is_quantised, poisson_gain
from .radius import spot_radius
from .settings import RegistrationSettings

SAMPLE = 16  # frames of a dataset, spread evenly over the scan


def sample_frames(n_frames: int) -> np.ndarray:
    """Flat indices of `SAMPLE` frames (or all, if fewer) spread evenly over a scan."""
    return np.unique(np.linspace(0, n_frames - 1, min(SAMPLE, n_frames)).round().astype(int))


def dataset_gain(frames, saturation: float = np.inf) -> float | None:
    """Counts per electron of the detector that recorded `frames` (a sequence): the median of
    the frames' own readings that could be made (None where none could)."""
    readings = []
    for frame in map(np.asarray, frames):
        gain = poisson_gain(frame, saturation, quantised=is_quantised(frame))
        if gain > 0:
            readings.append(gain)
    return float(np.median(readings)) if readings else None


def measured_settings(store_dir, settings: RegistrationSettings) -> RegistrationSettings:
    """`settings` measured (`settings_measured_on`) on the store's `sample_frames`."""
    if settings.detection != "matched":
        return settings
    frames = store_frames(store_dir, flat=True)
    sample = [frames[i : i + 1][0] for i in sample_frames(frames.shape[0])]
    return settings_measured_on(sample, settings, store_saturation(store_dir), store_dir)


def settings_measured_on(
    frames, settings: RegistrationSettings, saturation: float = np.inf, source="frames"
) -> RegistrationSettings:
    """`settings` with, for `detection: matched`, the gain (where null) and the disc (where
    `auto`) measured on `frames` (a sequence of 2D frames of one detector, `source` naming them
    in the log), the gain first: the disc is measured with it."""
    if settings.detection != "matched":
        return settings
    if settings.gain is None:
        gain = dataset_gain(frames, saturation)
        logger.info(
            "%s: the detector's gain %s counts per electron (gain: null), the median of %d frames",
            source,
            "unreadable, each frame's own" if gain is None else f"{gain:.4g}",
            len(frames),
        )
        settings = dataclasses.replace(settings, gain=gain)
    if settings.matched_radius == "auto":
        radius, spots = spot_radius(frames, saturation, settings.gain)
        logger.info(
            "%s: the matched filter's disc %.1f px (matched_radius: auto), from %d faint spots "
            "in %d frames",
            source,
            radius,
            spots,
            len(frames),
        )
        settings = dataclasses.replace(settings, matched_radius=radius)
    return settings
