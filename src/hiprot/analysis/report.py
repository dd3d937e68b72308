"""The per-session report: ``report.json`` (schema in docs/analysis.md) and the ``strides.csv``,
``reps.csv`` and ``tests.csv`` tables.

The report gathers, for one session: what it was (session info), how well the
sensors could be aligned (calibration quality), what the angles mean (notes),
every stride per leg, every repetition and test trial, the summaries over them,
and warnings — samples dropped by the sensors or the recorder, samples at a
sensor's full scale, angles missing, a recording recovered after a crash.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hiprot import __version__
from hiprot.analysis import return_to_zero
from hiprot.analysis.reps import Rep, rep_summary
from hiprot.analysis.rotation_tests import Trial, trial_summary
from hiprot.analysis.session import SessionAnalysis
from hiprot.analysis.strides import Stride, gait_summary
from hiprot.columns import (
    HIP_IR_REFERENCE,
    SUBJECT,
    current_names,
    measured_names,
    rig_reference,
)
from hiprot.errors import RecordingError
from hiprot.kinematics.angles import SessionAngles
from hiprot.processing import ProcessedSession
from hiprot.saturation import recorded_full_scale, saturation_counts

FORMAT_VERSION = 1
TABLES = {"strides.csv": Stride, "reps.csv": Rep, "tests.csv": Trial}


def build_report(
    processed: ProcessedSession,
    analysis: SessionAnalysis,
    verdicts: dict | None = None,
    computed: SessionAngles | None = None,
) -> dict:
    """The ``report.json`` content of one analysed session; ``verdicts``: the calibration
    verdict per leg (:mod:`hiprot.analysis.verdict`); ``computed``: the angles, when every
    leg was refused since (the return-to-zero check of their rests is still reported)."""
    angles = processed.angles
    sides = tuple(angles.legs) if angles is not None else processed.rig.sides
    reference = rig_reference(processed.rig.find("pelvis") is not None)
    check = return_to_zero.return_to_zero(computed or angles)
    calibration = processed.calibration.as_dict() if processed.calibration is not None else None
    if calibration is not None:
        calibration["verdict"] = verdicts or {}
    return {
        "format_version": FORMAT_VERSION,
        "software_version": __version__,
        "generated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "session": _session_info(processed, analysis),
        "recording": _recording(processed),
        "calibration": calibration,
        "return_to_zero": check,
        "angles": {
            "columns": list(angles.columns) if angles is not None else [],
            HIP_IR_REFERENCE: reference,
            "notes": list(angles.notes) if angles is not None else [],
            "test_reference_s": _test_spans(angles) if angles is not None else {},
            "causal_rms_deg": processed.causal_rms,
        },
        "strides": {
            side: [
                measured_names(s.payload(), reference) for s in analysis.strides if s.side == side
            ]
            for side in sides
        }
        if analysis.activity == "walk"
        else {},
        "reps": [r.payload() for r in analysis.reps],
        "tests": [t.payload() for t in analysis.trials],
        "summaries": {
            "gait": measured_names(gait_summary(analysis.strides), reference)
            if analysis.strides
            else None,
            "reps": rep_summary(analysis.reps) if analysis.reps else None,
            "tests": trial_summary(analysis.trials) if analysis.trials else None,
        },
        "warnings": _recording_warnings(processed)
        + list(processed.warnings)
        + return_to_zero.warnings(check)
        + list(analysis.warnings),
    }


def _test_spans(angles: SessionAngles) -> dict[str, list[list[float]]]:
    """Per leg, the spans (s) in which the rotation-test reference held."""
    out = {}
    for side, leg in angles.legs.items():
        mask = leg.test_posture if leg.test_posture is not None else np.zeros(0, bool)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
        t = angles.time_s
        out[side] = [
            [round(float(t[a]), 2), round(float(t[b - 1]), 2)]
            for a, b in zip(edges[::2], edges[1::2])
        ]
    return out


def write_report(path: Path, report: dict) -> None:
    """Write ``report.json`` (numpy numbers become plain JSON numbers)."""
    Path(path).write_text(json.dumps(report, indent=2, default=_plain) + "\n")


def read_table(path: Path, reference: str | None = None) -> list[dict[str, str]]:
    """The rows of a saved ``strides.csv``, ``reps.csv`` or ``tests.csv`` (cells as text), columns
    renamed since under their current names; ``reference``: the session's hip IR reference (its
    report's ``angles.hip_ir_reference``) for renames of one kind of session."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RecordingError(f"{path}: cannot read table: {exc}") from exc
    return [current_names(row, reference) for row in rows]


def tables(analysis: SessionAnalysis) -> dict[str, list]:
    """The CSV tables that fit the session's activity, by file name, with their rows (a table
    that fits the activity is there even when nothing was found: a header alone)."""
    rows = {
        "strides.csv": analysis.strides,
        "reps.csv": analysis.reps,
        "tests.csv": analysis.trials,
    }
    wanted = {
        "walk": "strides.csv",
        "exercise": "reps.csv",
        "seated-test": "tests.csv",
        "prone-test": "tests.csv",
    }.get(analysis.activity)
    return {name: rows[name] for name in TABLES if name == wanted or rows[name]}


def write_table(path: Path, name: str, items: list, reference: str | None = None) -> None:
    """Write table ``name`` (a key of :data:`TABLES`) of ``items`` to ``path``; strides under
    the names of what was measured against ``reference`` (:func:`~hiprot.columns.measured_names`)."""
    reference = reference if name == "strides.csv" else None
    columns = measured_names(
        [f.name for f in fields(TABLES[name]) if f.name != "curves"], reference
    )
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(measured_names(item.payload(), reference) for item in items)


def _session_info(processed: ProcessedSession, analysis: SessionAnalysis) -> dict:
    session, rig, meta = processed.session, processed.rig, processed.session.meta
    angles = processed.angles
    duration = (
        float(angles.time_s[-1] - angles.time_s[0])
        if angles is not None and len(angles.time_s)
        else meta.get("duration_s")
    )
    return {
        "path": str(session.path),
        "name": Path(session.path).name,
        "kind": getattr(session, "kind", None),
        "device_id": rig.device_id,
        SUBJECT: meta.get(SUBJECT) or rig.subject,
        "start_utc": meta.get("start_utc"),
        "duration_s": duration,
        "sample_rate_hz": rig.sample_rate_hz,
        "sensors": [
            {"name": s.name, "segment": s.segment, "side": s.side, "chip": s.chip}
            for s in rig.sensors
        ],
        "sides": list(rig.sides),
        "pelvis_sensor": rig.find("pelvis") is not None,
        "activity": analysis.activity,
        "activity_source": analysis.activity_source,
        "note": meta.get("note"),
        "recorded_by": meta.get("software_version"),
    }


def _recording(processed: ProcessedSession) -> dict:
    """Samples delivered, lost and at full scale per sensor, recorder drops, angle gaps, crash
    recovery."""
    meta = processed.session.meta
    health = meta.get("health") or {}
    sensors = {}
    for name, samples in processed.session.samples.items():
        entry = {
            "samples": len(samples),
            "saturated": saturation_counts(samples, recorded_full_scale(health.get(name))),
        }
        for key in ("dropped", "gaps", "i2c_failures"):
            if key in health.get(name, {}):
                entry[key] = health[name][key]
        sensors[name] = entry
    grid = processed.grid
    missing = float((~grid.valid).sum() / grid.rate_hz) if grid is not None else None
    return {
        "complete": meta.get("complete"),
        "dropped_chunks": meta.get("dropped_chunks"),
        "sensors": sensors,
        "angles_missing_s": missing,
        "hip_ir_withheld_after_gaps_s": _unknown_after_gaps(processed),
        "recovery": _recovery(processed.session),
    }


def _recovery(session) -> dict | None:
    """What the session reader recovered of a crashed or damaged recording, when it says."""
    recovery = getattr(session, "recovery", None)
    if recovery is None:
        return None
    out = asdict(recovery) if is_dataclass(recovery) else dict(recovery)
    for name in ("complete", "samples_dropped", "bytes_dropped"):
        if hasattr(recovery, name):
            out[name] = getattr(recovery, name)
    if callable(getattr(recovery, "summary", None)):
        out["summary"] = recovery.summary()
    return out


def _recording_warnings(processed: ProcessedSession) -> list[str]:
    meta = processed.session.meta
    out = []
    recovery = getattr(processed.session, "recovery", None)
    if recovery is not None and not getattr(recovery, "complete", True):
        out.append(
            "recording: "
            + (
                recovery.summary()
                if callable(getattr(recovery, "summary", None))
                else "not complete"
            )
        )
    elif meta.get("complete") is False:
        out.append(
            "recording: session.json says the recording did not end cleanly (complete = false)"
        )
    for name, health in (meta.get("health") or {}).items():
        if health.get("dropped"):
            gaps = health.get("gaps") or []
            lost_s = sum(b - a for a, b in gaps)
            out.append(
                f"sensor {name}: {health['dropped']} samples dropped in {len(gaps)} gaps "
                f"({lost_s:.2f} s)"
            )
    health = meta.get("health") or {}
    for name, samples in processed.session.samples.items():
        counts = saturation_counts(samples, recorded_full_scale(health.get(name)))
        if counts["acc"] or counts["gyr"]:
            out.append(
                f"sensor {name}: {counts['acc']} accelerometer and {counts['gyr']} gyroscope "
                "samples at full scale: angles there are wrong (strides marked saturated)"
            )
    if meta.get("dropped_chunks"):
        out.append(f"recording: {meta['dropped_chunks']} chunks of samples dropped by the recorder")
    grid = processed.grid
    if grid is not None and not grid.valid.all():
        out.append(
            f"angles missing for {(~grid.valid).sum() / grid.rate_hz:.2f} s where a sensor "
            "had a gap in its samples"
        )
    for side, seconds in _unknown_after_gaps(processed).items():
        out.append(
            f"{side} hip IR withheld for {seconds:.1f} s after sensor gaps: a sensor silent "
            "that long turned by an unknown amount, until a stride or a rest measured it again"
        )
    return out


def _unknown_after_gaps(processed: ProcessedSession) -> dict[str, float]:
    """Per leg, how long its hip reference was unknown after sensor gaps (beyond them)."""
    angles = processed.angles
    if angles is None:
        return {}
    return {side: leg.unknown_s for side, leg in angles.legs.items() if leg.unknown_s > 0}


def _plain(value):
    """JSON fallback for numpy numbers and arrays."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
