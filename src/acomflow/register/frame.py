"""Registration of one frame: noise -> background -> blur -> prominence maxima (or the matched
-filter significance's maxima) -> refinement.

Returns the frame's spots (direct beam first, then by decreasing prominence) and its pattern
record. Coordinates: x, y are raw frame px (pixel centres at integers); x_c, y_c are relative
to the measured direct-beam centre (NaN when no direct beam is found).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import gaussian_blur, mean3x3
from ..peaks.beam import direct_beam, search_radius
from ..peaks.refine import (
    FIT_ITERATIONS,
    FIT_REACH,
    FLAG_NOT_CONVERGED,
    centroids,
    fit_discs,
    flat_disc_radius,
    measure,
    neighbour_limits,
    refine_epattern_v4,
    refine_paper,
)
from .background import subtract_background
from .discovery import discovery_threshold
from .matched import (
    ANNULUS,
    along_ring,
    apart,
    beam_extent,
    bin_factor,
    block_sums,
    brightest_in_blocks,
    disc_at,
    noise_scale,
    single_pixel,
    spot_significance,
)
from .maxima import find_maxima, prominences
from .noise import (
    ROUNDING_VARIANCE,
    is_quantised,
    poisson_gain,
    sigma_annulus,
    sigma_corners,
    sigma_poisson,
)
from .settings import RegistrationSettings

PATTERN_NON_FINITE, PATTERN_CONSTANT = 1, 2
SPOT_COLUMNS = (
    "spot",
    "x",
    "y",
    "x_c",
    "y_c",
    "radius",
    "mean",
    "std",
    "integrated",
    "peak",
    "prominence",
    "is_direct_beam",
    "flags",
)


def _empty_spots() -> dict:
    spots = {name: np.empty(0) for name in SPOT_COLUMNS}
    spots["spot"] = np.empty(0, np.int32)
    spots["is_direct_beam"] = np.empty(0, bool)
    spots["flags"] = np.empty(0, np.int32)
    return spots


class Detection(NamedTuple):
    """A frame's background-subtracted image, detection image (blurred) and prominence maxima
    (rows, cols px; most prominent first, at most n_spots_max), with the noise sigma and the
    prominence threshold used. Each pixel of the detection image covers `block` x `block`
    frame px (`matched_bin`; 1 but with `detection: matched`). `gain` (counts per electron)
    and `variance_floor` (counts^2) are the matched filter's noise model of the frame (gain 0:
    unknown, or not `detection: matched`)."""

    subtracted: np.ndarray
    detection: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    prominence: np.ndarray
    sigma: float
    threshold: float
    block: int = 1
    gain: float = 0.0
    variance_floor: float = 0.0

    def detection_on(self, shape) -> np.ndarray:
        """The detection image over the frame's `shape`: each pixel's value repeated over its
        block, 0 where the frame's last partial block was left out."""
        if self.block == 1:
            return self.detection
        out = np.zeros(shape, self.detection.dtype)
        spread = self.detection.repeat(self.block, axis=0).repeat(self.block, axis=1)
        out[: spread.shape[0], : spread.shape[1]] = spread
        return out


def detect_spots(
    frame: np.ndarray,
    settings: RegistrationSettings,
    saturation: float = np.inf,
    centre: tuple[float, float] | None = None,
) -> Detection:
    """Noise, background, blur and adaptive-prominence maxima of a finite, non-constant float32
    frame; with `detection: matched`, the maxima of the matched-filter significance instead
    (`matched`: `prominence` then holds each maximum's significance and `threshold` its
    threshold, in sigmas)."""
    subtracted = subtract_background(
        frame, settings.background, settings.background_radius, settings.presmooth, settings.clamp
    )
    sigma = (
        sigma_annulus(subtracted, *settings.noise_annulus)
        if settings.noise == "annulus"
        else sigma_corners(frame)
    )
    if settings.detection == "matched":
        centre = centre or ((frame.shape[0] - 1) / 2.0, (frame.shape[1] - 1) / 2.0)
        return _matched(frame, subtracted, sigma, settings, saturation, centre)
    threshold = max(settings.prominence_floor, settings.prominence_k * sigma)
    detection = gaussian_blur(subtracted, settings.blur_sigma)
    rows, cols = find_maxima(detection, threshold, settings.strict, settings.exclude_edges)
    prominence = prominences(detection, rows, cols)
    if settings.noise == "poisson" and len(rows):
        local = settings.prominence_k * sigma_poisson(
            frame, rows, cols, saturation, is_quantised(frame)
        )
        keep = prominence > np.maximum(local, threshold)
        rows, cols, prominence = rows[keep], cols[keep], prominence[keep]
    keep = np.argsort(-prominence, kind="stable")[: settings.n_spots_max]
    rows, cols, prominence = rows[keep], cols[keep], prominence[keep]
    return Detection(subtracted, detection, rows, cols, prominence, sigma, threshold)


def matched_noise(frame, settings: RegistrationSettings, saturation: float, sigma: float):
    """The matched filter's noise model of a frame: its counts per electron g (the settings',
    else the frame's own, 0 where that cannot be read) and the variance floor v (counts^2: the
    rounding to whole counts; with g = 0, the pixel sigma's square)."""
    quantised = is_quantised(frame)
    gain = settings.gain or poisson_gain(frame, saturation, quantised=quantised)
    return gain, (ROUNDING_VARIANCE if quantised else 0.0) if gain > 0 else sigma**2


def _matched(frame, subtracted, sigma, settings, saturation, centre) -> Detection:
    """`detect_spots` with the matched-filter significance: the detector's gain where the
    settings know it, else the frame's own, or, where it cannot be read off the frame, its
    pixel sigma as the noise (`spot_significance`), on the frame summed over blocks of
    `matched_bin` px (`bin_factor`; each candidate then at its block's brightest pixel). A
    candidate must also be more than one pixel (`single_pixel`), stand out from its ring about
    the direct beam (`along_ring`) and lie outside the direct beam (`beam_extent`)."""
    radius = settings.matched_radius
    if radius == "auto":
        raise ValueError(
            "registration matched_radius 'auto' must first be measured on a sample of frames: "
            "register with register.measured.settings_measured_on(frames, settings), or give "
            "the radius in px"
        )
    gain, floor = matched_noise(frame, settings, saturation, sigma)
    block = bin_factor(settings.matched_bin, radius)
    # A block's sum has block^2 pixels' rounding variance; the disc shrinks with the pixels.
    image = block_sums(frame, block) if block > 1 else frame
    z, rows, cols, values = spot_significance(
        image, radius / block, gain, floor * block**2, settings.significance
    )
    if block > 1:
        rows, cols = brightest_in_blocks(frame, rows, cols, block)
    disc = ~single_pixel(frame, rows, cols, radius, gain, floor)
    rows, cols, values = rows[disc], cols[disc], values[disc]
    # Dividing z by its spread keeps its maxima where they are; only the weaker ones drop.
    scale = max(noise_scale(z, rows // block, cols // block, radius / block + ANNULUS[1]), 1.0)
    z /= scale
    reach = search_radius(frame.shape, settings.direct_beam_search)
    beam = direct_beam(rows, cols, disc_at(frame, rows, cols, radius), centre, reach)
    if beam >= 0:
        beam_y, beam_x, beam_radius = beam_extent(frame, rows[beam], cols[beam], int(reach))
        inside = np.hypot(rows - beam_y, cols - beam_x) <= beam_radius + 1.0
        inside[beam] = False
        rows, cols, values = rows[~inside], cols[~inside], values[~inside]
        ring = along_ring(
            frame, rows, cols, (beam_y, beam_x), radius, gain, floor, nearest=3 * radius
        )
        values = np.minimum(values, ring)
    values = values / scale
    threshold = discovery_threshold(
        values, image.size, radius / block, settings.false_discovery, settings.significance
    )
    keep = np.flatnonzero(values > threshold)[: settings.n_spots_max]
    return Detection(
        subtracted, z, rows[keep], cols[keep], values[keep], sigma, threshold, block, gain, floor
    )


def register_frame(
    raw: np.ndarray,
    settings: RegistrationSettings,
    saturation: float = np.inf,
    expected_centre: tuple[float, float] | None = None,
):
    """Spots and pattern record of one frame.

    `saturation` is the detector's saturation level (counts) for the saturated-pixel flag;
    `expected_centre` (y, x) px is where the direct beam is searched (default: frame centre).
    """
    frame = np.asarray(raw, dtype=np.float32)
    shape = frame.shape
    centre = expected_centre or ((shape[0] - 1) / 2.0, (shape[1] - 1) / 2.0)
    pattern = {
        "noise_sigma": np.nan,
        "prominence_min": np.nan,
        "n_spots": 0,
        "centre_x": np.nan,
        "centre_y": np.nan,
        "flags": 0,
    }
    if not np.isfinite(frame).all():
        pattern["flags"] = PATTERN_NON_FINITE
        return _empty_spots(), pattern
    if frame.min() == frame.max():
        pattern["flags"] = PATTERN_CONSTANT
        pattern["noise_sigma"], pattern["prominence_min"] = 0.0, settings.prominence_floor
        return _empty_spots(), pattern

    found = detect_spots(frame, settings, saturation, centre)
    subtracted, detection = found.subtracted, found.detection
    rows, cols, prominence = found.rows, found.cols, found.prominence
    pattern.update(noise_sigma=found.sigma, prominence_min=found.threshold)
    if len(rows) == 0:
        return _empty_spots(), pattern

    if settings.refine == "paper":
        limits = neighbour_limits(rows, cols, settings.r_start)
        smooth = gaussian_blur(subtracted, settings.radius_smooth)
        image = frame if settings.refine_on == "frame" else subtracted
        ys, xs, radii, converged = refine_paper(
            image, smooth, rows, cols, limits, settings.tolerance, settings.max_iter
        )
        if settings.detection == "matched":
            # A faint spot's centroid over the refinement's wide first radius drifts to its
            # neighbours: one that left the matched disc takes the centroid within it.
            drifted = np.hypot(ys - rows, xs - cols) > settings.matched_radius
            near_y, near_x = centroids(
                subtracted,
                rows[drifted].astype(np.float64),
                cols[drifted].astype(np.float64),
                settings.matched_radius + 1.0,
            )
            ys[drifted], xs[drifted] = near_y, near_x
            radii[drifted] = settings.matched_radius
            # Two maxima of one faint spot, refined onto one centre, are one spot.
            kept = apart(ys, xs, settings.matched_radius)
            rows, cols, prominence = rows[kept], cols[kept], prominence[kept]
            ys, xs, radii, converged = ys[kept], xs[kept], radii[kept], converged[kept]
        if settings.fit_edge > 0:
            # The noise model is that of the frame's counts, not of the subtracted image's.
            gain = found.gain if settings.refine_on == "frame" else 0.0
            ys, xs = fit_discs(
                image,
                ys,
                xs,
                flat_disc_radius(radii),
                settings.fit_edge,
                FIT_REACH,
                FIT_ITERATIONS,
                settings.tolerance,
                gain,
                found.variance_floor,
            )
    else:
        distance_to_centre = np.hypot(rows - centre[0], cols - centre[1])
        boxes = np.where(distance_to_centre == distance_to_centre.min(), 20.0, 10.0)
        ys, xs = refine_epattern_v4(detection, rows, cols, boxes)
        radii, converged = np.full(len(rows), 3.0), np.ones(len(rows), bool)
    mean, std, integrated, peak, flags = measure(subtracted, frame, ys, xs, radii, saturation)
    if settings.refine == "epattern-v4":
        block = mean3x3(subtracted)  # ImageJ's 3x3 mean, as the macros take it
        mean = block[
            np.clip(np.rint(ys).astype(int), 0, shape[0] - 1),
            np.clip(np.rint(xs).astype(int), 0, shape[1] - 1),
        ]
    flags = flags | np.where(converged, 0, FLAG_NOT_CONVERGED).astype(np.int32)

    beam = direct_beam(
        ys, xs, integrated, centre, search_radius(shape, settings.direct_beam_search)
    )
    is_direct = np.arange(len(rows)) == beam
    order = np.concatenate(
        [np.flatnonzero(is_direct), np.flatnonzero(~is_direct)]
    )  # prominence order kept
    if is_direct.any():
        cy, cx = ys[is_direct][0], xs[is_direct][0]
        pattern.update(centre_x=cx, centre_y=cy)
    else:
        cy = cx = np.nan
    spots = {
        "spot": np.arange(len(order), dtype=np.int32),
        "x": xs[order],
        "y": ys[order],
        "x_c": xs[order] - cx,
        "y_c": ys[order] - cy,
        "radius": radii[order],
        "mean": mean[order],
        "std": std[order],
        "integrated": integrated[order],
        "peak": peak[order],
        "prominence": prominence[order].astype(np.float64),
        "is_direct_beam": is_direct[order],
        "flags": flags[order],
    }
    pattern["n_spots"] = len(order)
    return spots, pattern
