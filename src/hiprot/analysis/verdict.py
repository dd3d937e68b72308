"""A calibration verdict per leg — good, doubtful or unusable — from figures that predict
the hip-IR error without any truth.

The figures (per leg; a figure that cannot be computed is left out):

- ``hinge_residual_pct``: how badly a hinge explains the thigh's and shank's rates
  during the calibration movement (:func:`hiprot.calibration.hinge.fit_hinge`);
- ``knee_axis_halves_deg``: how far the knee axis fitted on the first half of the
  session's movement lies from the second half's;
- ``method_agreement_deg``: the largest walking correction — how far the walking
  estimate of the hip reference sat from the standing zero
  (:mod:`hiprot.kinematics.anchoring`);
- ``return_to_zero_deg``: the largest hip-IR discrepancy of a later still standing
  rest against the first standing (:mod:`hiprot.analysis.return_to_zero`).

Thresholds: ``scripts/verdict_sweep.py`` simulates sessions with soft tissue from
0 to 20° and mountings up to ±10° or ±30° (two seeds, walks with pauses with and
without a pelvis sensor, hip-IR exercises, lunges; gyroscope bias 1 °/s, scale
errors 2 %) and prints each figure against the leg's hip-IR RMSE. The error classes
are McGinley et al.'s for gait kinematics (Gait Posture 29:360-369, 2009): up to 2°
acceptable, 2-5° reasonable, beyond 5° not. ``DOUBTFUL`` holds, per figure, the
smallest value the sweep showed in a leg whose hip-IR error exceeded 2°: below it no
simulated leg was worse (a figure at or above a limit decides); ``UNUSABLE`` is the
largest value of the realistic sweep in a leg within 5° (a figure beyond it decides; see
there). Walks without a pelvis sensor are left out of that rule (their hip IR is
relative to the walking direction, 3.5° RMSE from the pelvis' own rotation with any
calibration). Two figures are reported but do not decide: the knee axis' halves
(up to 56° apart in exercises whose hip IR was within 0.3°: it does not predict),
and return to zero beyond ``return_to_zero.WARN_DEG`` (3°, the requirement) makes a
leg doubtful only — soft tissue does not move the sensors while standing, so the
sweep cannot tie it to the error.

These limits were derived on rigid bodies with a hinge knee (the simulator's technical
preset); on its realistic defaults they do not separate the classes (the sweep's
``--realism realistic``; docs/analysis.md, Calibration verdict). Nor did any candidate tried there
(the sweep prints them: how much hip IR moves with knee flexion, the spread of the
walking corrections, the knee axis' halves): every figure overlaps between legs within
and beyond 5° (AUC 0.33-0.73), so none is adopted — open. So the limits make a leg
doubtful, and ``UNUSABLE`` refuses only beyond every leg the realistic sweep measured
within 5° (see there).
"""

from __future__ import annotations

import numpy as np

from hiprot.analysis.return_to_zero import WARN_DEG
from hiprot.columns import hip_ir, split_column
from hiprot.kinematics.angles import SessionAngles

GOOD, DOUBTFUL_LABEL, UNUSABLE_LABEL = "good", "doubtful", "unusable"
DOUBTFUL = {
    "hinge_residual_pct": 4.4,
    "method_agreement_deg": 6.3,
    "return_to_zero_deg": WARN_DEG,
}
# "Unusable" (a refusal) only strictly beyond every leg the realistic sweep measured within 5°
# (``scripts/verdict_sweep.py --realism realistic``, 120 scored legs: the largest values within
# 5°): on the technical preset the rule above gave 9.1 % and 13.1°, but on the realistic
# defaults (skin, screw-home knee) legs within 5° reach 21.7 % and 22.3° while legs beyond 5°
# start at 12.1 % and 11.0° — no limit separates them. So a refusal never hits a leg the
# simulator shows usable; between the limits a leg is doubtful.
UNUSABLE = {
    "hinge_residual_pct": 21.7,
    "method_agreement_deg": 22.3,
}
ADVICE = (
    "re-strap the sensors firmly (thigh sensor on the side of the mid-thigh, shank sensor "
    "on the side of the upper third of the shin), stand still with feet forward for 3 s, "
    "then walk 5 steps or do 3 knee bends"
)


def leg_figures(quality: dict, angles: SessionAngles | None, side: str) -> dict[str, float]:
    """The verdict's figures for ``side`` from the calibration quality and the angles."""
    leg = quality.get(side, {})
    out = {
        name: float(leg[name])
        for name in ("hinge_residual_pct", "knee_axis_halves_deg")
        if leg.get(name) is not None
    }
    if angles is not None:
        corrections = angles.walk_corrections_deg.get(side) or []
        if corrections:
            out["method_agreement_deg"] = round(max(abs(c) for c in corrections), 1)
        column = hip_ir(side)
        readings = [r.angles_deg[column] for r in angles.rests if column in r.angles_deg]
        if readings:
            out["return_to_zero_deg"] = round(max(abs(v) for v in readings), 1)
    return out


def verdict(figures: dict[str, float]) -> dict:
    """``{"verdict", "figures", "reasons"[, "advice"]}`` for one leg's figures."""
    reasons, label = [], GOOD
    for name, value in figures.items():
        if value > UNUSABLE.get(name, float("inf")):
            reasons.append(f"{name} {value:g} > {UNUSABLE[name]:g}")
            label = UNUSABLE_LABEL
        elif value >= DOUBTFUL.get(name, float("inf")):
            reasons.append(f"{name} {value:g} >= {DOUBTFUL[name]:g}")
            label = DOUBTFUL_LABEL if label == GOOD else label
    out = {"verdict": label, "figures": figures, "reasons": reasons}
    if label != GOOD:
        out["advice"] = ADVICE
    return out


def judge(quality: dict, angles: SessionAngles | None, sides: tuple[str, ...]) -> dict:
    """The verdict of every leg in ``sides``."""
    return {side: verdict(leg_figures(quality, angles, side)) for side in sides}


def withhold(angles: SessionAngles, verdicts: dict) -> list[str]:
    """Empty the angle columns of every leg judged unusable (the refusal); one line per leg
    that is not good, saying why and what to do."""
    out = []
    for side, judged in verdicts.items():
        if judged["verdict"] == GOOD:
            continue
        why = ", ".join(judged["reasons"])
        if judged["verdict"] == UNUSABLE_LABEL:
            for name in angles.columns:
                if split_column(name)[0] == side:
                    angles.columns[name] = np.full(len(angles.time_s), np.nan)
            out.append(
                f"{side} leg: calibration unusable ({why}), its angles are withheld: {ADVICE}"
            )
        else:
            out.append(
                f"{side} leg: calibration doubtful ({why}): angles may be off by several degrees; {ADVICE}"
            )
    return out


def refused(verdicts: dict) -> bool:
    """True when every leg was judged unusable."""
    return bool(verdicts) and all(v["verdict"] == UNUSABLE_LABEL for v in verdicts.values())
