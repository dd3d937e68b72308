"""Whether two sessions measure the same thing, decided from what is on disk before analysing.

:func:`session_facts` reads ``session.json`` and ``rig.toml`` (kind of session,
legs, pelvis sensor, subject, ``repeat_of``) and, when a cached ``report.json``
is given, what the analysis found (reference of each trial, active or passive,
calibration method and verdict, protocol check, mountings, cadence).
:func:`check` turns two sessions' facts into refusals (a different kind:
refused at once), reasons they are not comparable, and warnings:

- not comparable: no leg in common, another hip IR reference (pelvis sensor /
  gravity / walking direction), active against passive trials, another
  calibration method (standing or walking-only), a calibration judged
  ``unusable``, every trial outside the protocol's posture band;
- warned: a module whose calibrated long axis or knee hinge axis moved by more
  than :data:`MOUNTING_WARN_DEG` against the earlier session (the band is not
  widened: its effect has not been measured on the simulator), a walking
  cadence differing by more than :data:`CADENCE_WARN_PERCENT`.

Keys written by the rotation-test work (``columns.TEST_REFERENCE``, ``MODE``,
``PROTOCOL_OK``, ``COMPENSATED``) are read with defaults: absent means unknown.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hiprot.calibration.result import STANDING, WALKING_ONLY
from hiprot.columns import (
    CADENCE,
    HIP_IR_REFERENCE,
    MODE,
    PROTOCOL_OK,
    REFERENCE_GRAVITY,
    REFERENCE_PELVIS,
    REFERENCE_WALKING,
    SUBJECT,
    TEST_REFERENCE,
)
from hiprot.errors import HiprotError
from hiprot.files import read_regular

TEST_KINDS = ("seated-test", "prone-test")
MOUNTING_WARN_DEG = 15.0  # a modelling choice: re-strapping by hand moves a module by degrees
CADENCE_WARN_PERCENT = 10.0  # a modelling choice; gait angles change with speed (Wilken 2012)
MAX_META_BYTES = 16 * 1024 * 1024
# the sensor axis that runs along each segment / about the knee hinge, in the segment frame (ISB:
# y up the segment, z to the right side): compared across sessions to tell a moved strap
LONG_AXIS = np.array([0.0, 1.0, 0.0])
HINGE_AXIS = np.array([0.0, 0.0, 1.0])


class ComparisonError(HiprotError):
    """The sessions cannot be compared at all (different kinds, nothing measured in both)."""


@dataclass
class SessionFacts:
    """What one session is, from its files and (when given) its cached report."""

    name: str
    kind: str | None
    sides: tuple[str, ...]
    pelvis: bool
    start_utc: str | None = None
    subject: str | None = None
    repeat_of: str | None = None
    reference: str | None = None  # None: the kind of session is not known
    modes: frozenset = frozenset()
    calibration_method: str | None = None
    unusable: tuple[str, ...] = ()
    posture_failed: bool = False
    mountings: dict = field(default_factory=dict)  # sensor → its segment's (long, hinge) axes
    cadence: dict = field(default_factory=dict)  # side → mean steps/min
    phase: str | None = None  # a segment's "before"/"after" the exercises (history's series)


def _json(path: Path) -> dict:
    try:
        data = json.loads(read_regular(path, MAX_META_BYTES))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _rig_sensors(session: Path) -> list[dict]:
    try:
        rig = tomllib.loads((session / "rig.toml").read_text())
    except (OSError, ValueError):
        return []
    return [s for s in rig.get("sensors", []) if isinstance(s, dict)]


def session_facts(session: Path | None, report: dict | None = None) -> SessionFacts:
    """Facts of the session directory ``session`` and/or its ``report`` (either may be None)."""
    meta = _json(session / "session.json") if session is not None else {}
    info = (report or {}).get("session") or {}
    sensors = _rig_sensors(session) if session is not None else []
    if not sensors:
        sensors = info.get("sensors") or []
    sides = tuple(
        sorted({s.get("side") for s in sensors if s.get("side")}) or info.get("sides") or ()
    )
    if not sides and report is not None:  # a report without its rig: the legs it has results of
        listed = [r.get("side") for k in ("tests", "reps") for r in report.get(k) or []]
        sides = tuple(sorted({*(report.get("strides") or {}), *filter(None, listed)}))
    pelvis = any(s.get("segment") == "pelvis" for s in sensors) or bool(info.get("pelvis_sensor"))
    facts = SessionFacts(
        name=info.get("name") or (session.name if session is not None else "?"),
        kind=info.get("activity") or meta.get("activity"),
        sides=sides,
        pelvis=pelvis,
        start_utc=meta.get("start_utc") or info.get("start_utc"),
        subject=meta.get(SUBJECT) or info.get(SUBJECT),
        repeat_of=meta.get("repeat_of") or info.get("repeat_of"),
    )
    if facts.kind in TEST_KINDS:
        facts.reference = REFERENCE_PELVIS if pelvis else REFERENCE_GRAVITY  # trials may say
    elif facts.kind is not None:
        facts.reference = REFERENCE_PELVIS if pelvis else REFERENCE_WALKING
    if report is not None:
        _from_report(facts, report)
    return facts


def _from_report(facts: SessionFacts, report: dict) -> None:
    angles = report.get("angles") or {}
    trials = report.get("tests") or []
    if facts.kind in TEST_KINDS:
        references = {t.get(TEST_REFERENCE) for t in trials if t.get(TEST_REFERENCE)}
        facts.reference = (
            references.pop()
            if len(references) == 1
            else REFERENCE_PELVIS
            if facts.pelvis
            else REFERENCE_GRAVITY
        )
        facts.modes = frozenset(t.get(MODE) for t in trials if t.get(MODE))
        checked = [t.get(PROTOCOL_OK) for t in trials if t.get(PROTOCOL_OK) is not None]
        facts.posture_failed = bool(checked) and not any(checked)
    else:
        facts.reference = angles.get(HIP_IR_REFERENCE) or facts.reference
    calibration = report.get("calibration") or {}
    standing = (calibration.get("quality") or {}).get("standing") or {}
    if calibration:  # reports before the method was written: from the standing's length
        facts.calibration_method = calibration.get("method") or (
            STANDING if (standing.get("duration_s") or 0) > 0 else WALKING_ONLY
        )
    verdicts = calibration.get("verdict") or {}
    facts.unusable = tuple(s for s, v in verdicts.items() if v.get("verdict") == "unusable")
    for name, q in (calibration.get("mounting_q_sb") or {}).items():
        q_sb = np.asarray(q, float)  # sensor ← segment: the segment's axes in the sensor frame
        facts.mountings[name] = (_rotate(q_sb, LONG_AXIS), _rotate(q_sb, HINGE_AXIS))
    gait = ((report.get("summaries") or {}).get("gait") or {}).get("legs") or {}
    for side, leg in gait.items():
        mean = (leg.get(CADENCE) or {}).get("mean")
        if mean is not None:
            facts.cadence[side] = float(mean)


@dataclass
class Comparability:
    """The outcome of :func:`check`: the legs to compare, why not, and what to watch."""

    sides: tuple[str, ...]
    reasons: list[str]
    warnings: list[str]

    @property
    def comparable(self) -> bool:
        return not self.reasons


def refuse_kinds(before: SessionFacts, after: SessionFacts) -> None:
    """Refuse at once two sessions of different kinds (known from ``session.json``)."""
    if before.kind is None or after.kind is None or before.kind == after.kind:
        return
    raise ComparisonError(
        f"cannot compare {before.name} ({before.kind}) with {after.name} ({after.kind}): "
        "compare two sessions of the same kind (two seated tests, two prone tests, two walks "
        "or two exercises)"
    )


def check(before: SessionFacts, after: SessionFacts) -> Comparability:
    """Whether ``after`` can be compared with ``before`` (see the module docstring)."""
    refuse_kinds(before, after)
    reasons, warnings = [], []
    sides = tuple(s for s in ("right", "left") if s in before.sides and s in after.sides)
    if not sides:
        reasons.append("no leg measured in both")
    if before.subject != after.subject:
        reasons.append(f"different subjects ({before.subject or '-'} / {after.subject or '-'})")
    if before.reference and after.reference and before.reference != after.reference:
        reasons.append(
            f"hip IR measured against different references ({before.reference} / "
            f"{after.reference}): wear the same sensors for both"
        )
    if before.modes and after.modes and before.modes != after.modes:
        reasons.append(
            f"{'/'.join(sorted(before.modes))} trials against {'/'.join(sorted(after.modes))} "
            "ones: active and passive range differ; compare tests of the same mode"
        )
    if (
        before.calibration_method
        and after.calibration_method
        and before.calibration_method != after.calibration_method
    ):
        reasons.append(
            f"calibrated differently ({before.calibration_method} / {after.calibration_method})"
        )
    for facts in (before, after):
        for side in facts.unusable:
            if side in sides:
                reasons.append(f"{facts.name}: {side} leg's calibration unusable")
        if facts.posture_failed:
            reasons.append(f"{facts.name}: no trial within the test's posture band")
    warnings += moved_straps(before, after)
    for side in sides:
        b, a = before.cadence.get(side), after.cadence.get(side)
        if b and a and abs(a - b) / b * 100 > CADENCE_WARN_PERCENT:
            warnings.append(
                f"{side} leg walked at {a:.0f} steps/min against {b:.0f}: hip rotation changes "
                "with walking speed; walk at your usual pace"
            )
    return Comparability(sides, reasons, warnings)


def moved_straps(before: SessionFacts, after: SessionFacts) -> list[str]:
    """One warning per module whose calibrated long or hinge axis moved beyond the band."""
    out = []
    for name in sorted(set(before.mountings) & set(after.mountings)):
        moved = max(
            angle_between_deg(before.mountings[name][k], after.mountings[name][k]) for k in (0, 1)
        )
        if moved > MOUNTING_WARN_DEG:
            out.append(
                f"{name} module sits {moved:.0f}° differently from {before.name}: strap it where "
                "it was (the change threshold does not allow for a moved strap)"
            )
    return out


def _rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``v`` rotated by the unit quaternion ``q`` ([w, x, y, z], as :func:`hiprot.quat.rotate`;
    here in numpy alone, so that deciding comparability imports no scipy)."""
    w, u = q[0], q[1:]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


def angle_between_deg(u: np.ndarray, v: np.ndarray) -> float:
    """The angle between two vectors (degrees)."""
    cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
