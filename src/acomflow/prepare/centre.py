"""Direct-beam centre per frame and the descan plane across the scan (method.md §2.3).

The centre of a frame is the direct beam refined exactly as registration refines a spot
(`peaks.refine.refine_paper`: centroid above a plane pedestal fitted in a ring, radius of
maximum standard deviation, converged to `tolerance` px), started at the direct beam that
`peaks.beam` picks among the pixels of the frame blurred by 2 px. Measured on the synthetic
truth (tests/test_prepare_centre.py): noise-free median error below 0.001 px. Coordinates are
(y, x) frame px, pixel centres at integers.

Descan, the beam's drift with the scan, is smooth: a plane centre = a + b scan_y + c scan_x per
axis, fitted by least squares and refitted without the outliers (frames whose measured centre
lies more than max(5 robust sigma, `outlier_px`) from it) until the inliers no longer change.
"""

from __future__ import annotations

import numpy as np

from ..kernels import gaussian_blur
from ..peaks.beam import direct_beam, search_radius
from ..peaks.refine import refine_paper
from .settings import CentringSettings

CENTRE_NOT_FOUND, CENTRE_NOT_CONVERGED, CENTRE_OUTLIER = 1, 2, 4


def beam_centre(
    frame: np.ndarray,
    expected=None,
    search: float = 0.1,
    r_start: float = 10.0,
    tolerance: float = 1e-3,
    max_iter: int = 50,
) -> tuple[float, float, int]:
    """(y, x, flags) of the direct beam of one frame; NaN with CENTRE_NOT_FOUND for a frame
    that is not finite or holds no maximum near `expected` (y, x; default the frame centre)."""
    frame = np.asarray(frame, dtype=np.float32)
    rows, cols = frame.shape
    ey, ex = expected if expected is not None else ((rows - 1) / 2.0, (cols - 1) / 2.0)
    reach = search_radius((rows, cols), search)
    margin = int(np.ceil(reach + r_start + 4))
    r0, r1 = max(0, int(ey) - margin), min(rows, int(ey) + margin + 1)
    c0, c1 = max(0, int(ex) - margin), min(cols, int(ex) + margin + 1)
    window = frame[r0:r1, c0:c1]
    if window.size == 0 or not np.isfinite(window).all() or window.min() == window.max():
        return np.nan, np.nan, CENTRE_NOT_FOUND
    yy, xx = np.indices(window.shape)
    beam = direct_beam(
        (yy + r0).ravel(), (xx + c0).ravel(), gaussian_blur(window, 2.0).ravel(), (ey, ex), reach
    )
    if beam < 0:
        return np.nan, np.nan, CENTRE_NOT_FOUND
    start = np.unravel_index(beam, window.shape)
    smooth = gaussian_blur(window, 1.0)
    ys, xs, _, converged = refine_paper(
        window,
        smooth,
        np.array([start[0]]),
        np.array([start[1]]),
        np.array([float(r_start)]),
        tolerance,
        max_iter,
    )
    return float(ys[0] + r0), float(xs[0] + c0), 0 if converged[0] else CENTRE_NOT_CONVERGED


MEASURED_DTYPES = {
    "scan_y": "int32",
    "scan_x": "int32",
    "centre_y": "float64",
    "centre_x": "float64",
    "flags": "int32",
    "usable": "bool",  # finite and not constant
}


def measure_centre(frame: np.ndarray, search: float = 0.1, r_start: float = 10.0) -> dict:
    """One frame's row of the measured centres (`MEASURED_DTYPES`): the direct beam's centre
    (y, x px; see `beam_centre`), its flags and whether the frame is usable."""
    centre_y, centre_x, flags = beam_centre(frame, None, search, r_start)
    usable = bool(np.isfinite(frame).all() and frame.min() < frame.max())
    return {"centre_y": centre_y, "centre_x": centre_x, "flags": flags, "usable": usable}


def fit_descan(
    scan_y,
    scan_x,
    centre_y,
    centre_x,
    outlier_px: float = CentringSettings.outlier_px,
    max_rounds: int = 20,
    fallback=(np.nan, np.nan),
):
    """Robust descan plane through measured centres (1D arrays over the scan positions; NaN =
    not measured). Returns (coefficients {axis: [a, b_scan_y, c_scan_x]}, plane_y, plane_x,
    outlier mask). With fewer than 3 measured centres the plane is flat: their mean, or
    `fallback` (y, x) px where none was measured. A scan of one line or column gets the
    least-squares plane of least norm (no slope across it)."""
    design = np.column_stack([np.ones(len(scan_y)), scan_y, scan_x]).astype(np.float64)
    measured = np.column_stack([centre_y, centre_x]).astype(np.float64)
    usable = np.isfinite(measured).all(axis=1)
    inliers = usable.copy()
    if usable.sum() < 3:
        offset = measured[usable].mean(axis=0) if usable.any() else np.asarray(fallback, float)
        coefficients = np.vstack([offset, np.zeros((2, 2))])
        plane = design @ coefficients
        return (
            {"y": coefficients[:, 0].tolist(), "x": coefficients[:, 1].tolist()},
            plane[:, 0],
            plane[:, 1],
            np.zeros(len(usable), bool),
        )
    for _ in range(max_rounds):
        coefficients, *_ = np.linalg.lstsq(design[inliers], measured[inliers], rcond=None)
        distance = np.hypot(*(measured - design @ coefficients).T)
        sigma = (
            np.median(distance[inliers]) / 1.1774
        )  # the median radius of a 2D Gaussian is 1.1774 sigma
        updated = usable & (distance <= max(5.0 * sigma, outlier_px))
        if np.array_equal(updated, inliers) or updated.sum() < 3:
            break
        inliers = updated
    plane = design @ coefficients
    return (
        {"y": coefficients[:, 0].tolist(), "x": coefficients[:, 1].tolist()},
        plane[:, 0],
        plane[:, 1],
        usable & ~inliers,
    )
