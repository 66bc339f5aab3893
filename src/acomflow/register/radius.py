"""The spots' radius read off the data: the matched filter's disc with `matched_radius: auto`.

The disc that detects best is the one that makes the faint spots most significant. A few
frames are registered with the matched filter, first with a disc of `PROVISIONAL` px. At each
faint spot found (significance in `FAINT`, not the direct beam, no border or saturation flag),
the significance S of its pixel is computed for every disc of 1 px to `largest_disc` in steps
of 0.5 px (`matched.significance_at`, with the noise model it was found with), and the disc that
maximises it is taken. Bright spots are left out: where a spot's own counts dominate the noise,
S keeps growing while the disc takes in the spot's soft edge. The median over the spots, to
0.5 px, is the disc the frames are registered with next, until it repeats (at most `ROUNDS`
times): a disc much smaller than the spots finds maxima about their rims, where the
significance of a larger disc is low. Coordinates: rows, cols px.
"""

from __future__ import annotations

import numpy as np

from ..peaks.refine import FLAG_BORDER, FLAG_SATURATED
from .frame import matched_noise, register_frame
from .matched import significance_at
from .settings import RegistrationSettings

PROVISIONAL = 2.5  # px: the first disc
FAINT = (5.0, 12.0)  # sigmas: the spots whose best disc is measured
LEAST = 10  # faint spots, below which the disc stays the one they were found with
ROUNDS = 4  # registrations of the sample, at most


def largest_disc(frame_shape) -> float:
    """px: the largest disc tried, a twentieth of the frame's smaller side within 8-32 px."""
    return float(np.clip(min(frame_shape) / 20.0, 8.0, 32.0))


def best_discs(frames, radius: float, saturation: float = np.inf, gain=None) -> np.ndarray:
    """The disc radius (px) that maximises the significance of each faint spot of `frames`
    registered with the disc of `radius` px (`gain` counts per electron, None: each frame's
    own)."""
    settings = RegistrationSettings(
        detection="matched", matched_radius=radius, n_spots_max=500, gain=gain
    )
    best = []
    for frame in frames:
        frame = np.asarray(frame, np.float32)
        spots, pattern = register_frame(frame, settings, saturation)
        faint = (
            (spots["prominence"] >= FAINT[0])
            & (spots["prominence"] < FAINT[1])
            & ~spots["is_direct_beam"]
            & (spots["flags"] & (FLAG_BORDER | FLAG_SATURATED) == 0)
        )
        if not faint.any():
            continue
        gain, floor = matched_noise(frame, settings, saturation, pattern["noise_sigma"])
        rows, cols = np.rint(spots["y"][faint]), np.rint(spots["x"][faint])
        discs = np.arange(1.0, largest_disc(frame.shape) + 0.25, 0.5)
        significance = [significance_at(frame, rows, cols, disc, gain, floor) for disc in discs]
        best.append(discs[np.argmax(significance, axis=0)])
    return np.concatenate(best) if best else np.empty(0)


def spot_radius(frames, saturation: float = np.inf, gain=None) -> tuple[float, int]:
    """The matched filter's disc (px, to 0.5 px; see the module) for `frames` (a sequence) and
    the number of faint spots it rests on; `PROVISIONAL` where fewer than `LEAST` are found."""
    radius, spots = PROVISIONAL, 0
    for _ in range(ROUNDS):
        best = best_discs(frames, radius, saturation, gain)
        if len(best) < LEAST:
            break
        measured, spots = round(2.0 * float(np.median(best))) / 2.0, len(best)
        if measured == radius:
            break
        radius = measured
    return radius, spots
