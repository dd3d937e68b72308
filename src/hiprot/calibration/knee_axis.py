"""The knee flexion axis in the thigh and shank sensor frames, robust to a real knee and skin.

Seel, Raisch & Schauer (2014, Sensors 14(4)) fit one hinge axis per sensor from
‖ω_thigh × j_thigh‖ = ‖ω_shank × j_shank‖ (:func:`hiprot.calibration.hinge.fit_hinge`).
A real knee is no hinge: the tibia screws home and goes into varus as the knee flexes,
and the skin under each module twists with flexion (:mod:`hiprot.sim.realism` cites the
magnitudes). Held to the horizontal plane of standing, the plain fit turns those
couplings into an error of the axis' heading about the segment's long axis, and that
heading is the thigh's anterior axis. So
(:func:`knee_axes`):

1. **Start** from the plain fit in the horizontal planes (well posed whatever the
   movement).
2. **Free the axes' inclination** (two angles per sensor, as in Seel et al.'s original
   formulation): a knee axis that tilts with screw-home and skin twist may tilt instead
   of turning; only its heading is used (:func:`~hiprot.calibration.segments.frame_from_axes`
   makes it orthogonal to the long axis).
3. **Fast knee flexion only**: the samples whose knee flexion rate is in the upper half
   (``FAST_SHARE``; in gait the swing phase, where the knee flexes and extends at up to
   350-400 °/s, Perry & Burnfield, *Gait Analysis*, 2nd ed. 2010). There the hinge
   dominates the relative rotation; near rest the screw-home's and the skin's rates are
   the same order as the flexion's. McGrath, Fineman & Stirling (Sensors 18(6):1882,
   2018) likewise take the knee axis from walking's dominant rotation.
   Each sample is weighted by how closely both rates align with the axes, as in
   :func:`~hiprot.calibration.hinge.fit_hinge` (whole-leg turns about the femur would
   otherwise let both axes tilt together unseen).
4. **A robust cost**: a Cauchy loss scaled by the residuals' median absolute deviation
   (Holland & Welsch, Commun Stat Theory Methods 6:813-827, 1977), so the remaining
   samples where skin wobble or a non-hinge knee dominates weigh little.

On 120 simulated legs with skin and knee magnitudes up to the simulator's upper ends
(``scripts/calibration_sweep.py``) this took the thigh frame's heading error from a median
of 17.9° to 7.2°; hip IR, zeroed at standing, hardly moved (docs/calibration.md).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from hiprot.calibration.hinge import (
    REWEIGHTINGS,
    HingeFit,
    fit_hinge,
    off_axis_rate,
    squared_norms,
)

FAST_SHARE = 0.5  # the share of samples kept: those with the fastest knee flexion
MIN_FAST_SAMPLES = 20
MAD_TO_SD = 1.4826  # a normal distribution's SD from its median absolute deviation


def _orthonormal(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    helper = np.eye(3)[np.argmin(np.abs(axis))]
    a = np.cross(axis, helper)
    a /= np.linalg.norm(a)
    return a, np.cross(axis, a)


def flexion_rate(
    gyr_1: np.ndarray, gyr_2: np.ndarray, axis_1: np.ndarray, axis_2: np.ndarray
) -> np.ndarray:
    """|knee flexion rate| (rad/s) about a hinge with these axes, whatever their signs: about
    its axis the shank turns as the thigh does plus the flexion."""
    along_1, along_2 = gyr_1 @ axis_1, gyr_2 @ axis_2
    return np.minimum(np.abs(along_2 - along_1), np.abs(along_2 + along_1))


def knee_axes(gyr_1: np.ndarray, gyr_2: np.ndarray, up_1: np.ndarray, up_2: np.ndarray) -> HingeFit:
    """The knee axis in the thigh (1) and shank (2) sensor frames (module docstring); rates
    (n, 3) in rad/s, ``up_*`` each segment's standing "up". The residual is that of the
    samples used, against their rate."""
    start = fit_hinge(gyr_1, gyr_2, up_1, up_2)
    fast = flexion_rate(gyr_1, gyr_2, start.axis_1, start.axis_2)
    keep = fast >= np.quantile(fast, 1 - FAST_SHARE)
    if keep.sum() < MIN_FAST_SAMPLES:
        return start
    g1, g2 = gyr_1[keep], gyr_2[keep]
    norm_1 = np.linalg.norm(g1, axis=1) + 1e-9
    norm_2 = np.linalg.norm(g2, axis=1) + 1e-9
    bases = _orthonormal(start.axis_1), _orthonormal(start.axis_2)
    weight = np.ones(len(g1))

    def axes(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = start.axis_1 + p[0] * bases[0][0] + p[1] * bases[0][1]
        b = start.axis_2 + p[2] * bases[1][0] + p[3] * bases[1][1]
        return a / np.linalg.norm(a), b / np.linalg.norm(b)

    sq_1, sq_2 = squared_norms(g1), squared_norms(g2)

    def residual(p: np.ndarray) -> np.ndarray:
        a, b = axes(p)
        return weight * (off_axis_rate(g1, sq_1, a) - off_axis_rate(g2, sq_2, b))

    p = np.zeros(4)
    for _ in range(REWEIGHTINGS):  # towards samples turning about the axes, as fit_hinge does
        a, b = axes(p)
        weight = np.sqrt(np.abs(g1 @ a) / norm_1 * np.abs(g2 @ b) / norm_2)
        p = least_squares(residual, p, method="lm").x
    scale = MAD_TO_SD * float(np.median(np.abs(residual(p)))) + 1e-9
    p = least_squares(residual, p, loss="cauchy", f_scale=scale).x
    a, b = axes(p)
    r = residual(p)
    rate = float(np.sqrt(np.mean(np.sum(g1**2, axis=1) + np.sum(g2**2, axis=1)) / 2))
    return HingeFit(a, b, float(np.sqrt(np.sum(r**2) / np.sum(weight**2))), rate)
