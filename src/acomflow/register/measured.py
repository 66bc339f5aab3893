"""What the matched filter measures once per dataset, on a sample of its frames: the detector's
gain (`gain: null`) and the spots' disc (`matched_radius: auto`).

A detector's counts per electron are the same in every frame of a scan, but a frame's own
reading of them (`noise.poisson_gain`) is not: at a fraction of an electron per pixel, in
vacuum, the read noise clipped at 0 makes it read about half of the gain it reads on the
crystals' patterns. The median over the sample starts the measurement: the disc is measured
with it, the sample is registered, and the gain is then read by a photon transfer over the
pixels off its spots at a couple of electrons and more (`noise.transfer_gain`), where the
medians read low. That is the one gain every frame is registered with. Every stage that
registers frames (registration shards, masks, figures) measures on the same
`sample_frames`, so they all register alike and a dataset's tables do not depend on its
sharding.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..logs import logger
from ..store import store_frames, store_saturation
from .frame import register_frame
from .matched import spot_mask
from .noise import is_quantised, pixel_samples, poisson_gain, transfer_gain
from .radius import spot_radius
from .settings import RegistrationSettings

SAMPLE = 16  # frames of a dataset, spread evenly over the scan
SPOT_MARGIN = 2.0  # px beyond a spot's refined radius kept out of the photon transfer
BEAM_MARGIN = 3.0  # x the direct beam's refined radius kept out (its halo's steep flank)


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


def off_spots(frame, spots) -> np.ndarray:
    """True on the pixels of a frame within its registered spots (`register_frame`'s table),
    each grown by `SPOT_MARGIN` px, the direct beam to `BEAM_MARGIN` x its radius."""
    radii = np.asarray(spots["radius"], np.float64)
    reach = np.where(spots["is_direct_beam"], radii * BEAM_MARGIN, radii + SPOT_MARGIN)
    return spot_mask(frame.shape, spots["y"], spots["x"], reach)


def transfer_gain_on(frames, settings: RegistrationSettings, saturation: float = np.inf):
    """The photon-transfer gain (`noise.transfer_gain`) of `frames`, registered with
    `settings` (their gain the start) to keep their spots out."""
    means, variances = [], []
    for frame in map(np.asarray, frames):
        spots, _ = register_frame(frame, settings, saturation)
        m, v = pixel_samples(frame, saturation, off_spots(frame, spots))
        means.append(m)
        variances.append(v)
    return transfer_gain(np.concatenate(means), np.concatenate(variances), settings.gain)


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
    in the log): the frames' median gain first, the disc with it, then the gain by photon
    transfer off the spots they register with both."""
    if settings.detection != "matched":
        return settings
    measure_gain = settings.gain is None
    if measure_gain:
        gain = dataset_gain(frames, saturation)
        logger.info(
            "%s: the detector's gain %s counts per electron (gain: null) to start with, the "
            "median of %d frames' readings",
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
    if measure_gain and settings.gain is not None:
        start, gain = settings.gain, transfer_gain_on(frames, settings, saturation)
        logger.info(
            "%s: the detector's gain %.4g counts per electron by photon transfer off the "
            "spots (from %.4g)",
            source,
            gain,
            start,
        )
        settings = dataclasses.replace(settings, gain=gain)
    return settings
