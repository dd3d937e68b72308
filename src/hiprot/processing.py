"""Batch processing of one session: accelerometer correction → fusion → common grid →
calibration → joint angles.

The same stages run live in :mod:`hiprot.pipeline`; here they see the whole
session at once, so the gyroscope bias, smoothing and heading corrections look both ways.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from hiprot import quat
from hiprot.activities import ActivityTimeline
from hiprot.calibration import Calibration, accelerometer, calibrate
from hiprot.calibration.accelerometer import AccelerometerCorrection
from hiprot.calibration.result import WALKING_ONLY
from hiprot.chip_catalogue import gyro_bias_bound_dps, gyro_drift_bound_dps
from hiprot.config import Rig
from hiprot.errors import CalibrationError, NoStandingError, RecordingError
from hiprot.fusion import VqfFilter, make_filter
from hiprot.fusion.offline import ANCHOR_MIN_S, OfflineFusion, whole_body_rest
from hiprot.kinematics.anchoring import INITIATION_STRIDES
from hiprot.kinematics.angles import SessionAngles, SessionKinematics
from hiprot.kinematics.causal import REFINE_STEP_S, causal_rms
from hiprot.kinematics.walk_window import STRIDES, walk_window
from hiprot.recording import Session
from hiprot.resample import Grid, to_grid
from hiprot.samples import Chunk


@dataclass
class Orientation:
    """One sensor's orientation ``q_ES`` at its own sample times."""

    time_s: np.ndarray
    q_es: np.ndarray


@dataclass
class ProcessedSession:
    """Everything batch processing learned about a session."""

    session: Session
    rig: Rig  # the session's rig without sensors that delivered nothing
    orientations: dict[str, Orientation]
    grid: Grid
    calibration: Calibration | None = None
    angles: SessionAngles | None = None
    warnings: list[str] = field(default_factory=list)
    accelerometer: dict[str, AccelerometerCorrection] = field(default_factory=dict)
    no_angles: str | None = None  # why ``angles`` is None (one of ``warnings``)
    # per angle column, how far (RMS, degrees) live's causal estimate is from ``angles``:
    causal_rms: dict[str, float] = field(default_factory=dict)


NOT_ANCHORED = (
    "no still rest of {min_s:g} s or more shared by every sensor: batch fusion is not anchored "
    "at the still standing, and a slow movement may have been taken for gyroscope bias"
)


def fuse(rig: Rig, samples: Chunk) -> tuple[dict[str, Orientation], str | None]:
    """Each sensor's orientation with the rig's filter (9-axis where the rig trusts the
    magnetometer), and a warning or None; VQF, the default, in its offline variant, which
    smooths the gyroscope bias over the whole recording and anchors it at the whole body's
    longest still rest (:mod:`hiprot.fusion.offline`) — the warning says when there is none."""
    if rig.fusion.filter == VqfFilter.name:
        fusions = {
            name: OfflineFusion(
                s,
                rig.sample_rate_hz,
                rig.fusion.use_magnetometer and s.mag is not None,
                gyro_bias_bound_dps(rig.sensor(name).chip),
            )
            for name, s in samples.items()
        }
        still = whole_body_rest(fusions.values())
        orientations = {
            name: Orientation(
                samples[name].time_s,
                f.orientation(still, gyro_drift_bound_dps(rig.sensor(name).chip)),
            )
            for name, f in fusions.items()
        }
        return orientations, None if still else NOT_ANCHORED.format(min_s=ANCHOR_MIN_S)
    out = {}
    for name, s in samples.items():
        bound = gyro_bias_bound_dps(rig.sensor(name).chip)
        fusion = make_filter(
            rig.fusion, rig.sample_rate_hz, magnetometer=s.mag is not None, max_bias_dps=bound
        )
        out[name] = Orientation(s.time_s, fusion.update(s))
    return out, None


WALKING_ONLY_NOTE = (
    "no still standing phase: calibrated from {strides} steady strides of walking; hip IR "
    "zero is assumed (the thigh's mean rotation over those strides) and flexion is zeroed in "
    "late stance (knee flexion reads about 10° low), so absolute angles are not measured "
    "— their excursions are; stand still with feet forward for 3 s at the start of a session "
    "to measure them"
)


def session_activity(session: Session, activity: str | None = None) -> ActivityTimeline:
    """``activity`` (default: ``session.json``'s) for the session, and each segment labelled with
    an activity (``segments.jsonl``) in its stretch, as the recorder switches the live pipeline
    when a segment starts: a guided session's exercises are measured as exercises."""
    spans = tuple(
        (s.start_s, np.inf if s.end_s is None else s.end_s, s.labels["activity"])
        for s in session.timeline.segments
        if "activity" in s.labels
    )
    return ActivityTimeline(activity or session.meta.get("activity"), spans)


def _calibrate(rig: Rig, grid: Grid) -> Calibration:
    """Calibrate from standing; without a standing phase, from steady walking
    (:mod:`hiprot.kinematics.walk_window`), or say that neither was found."""
    try:
        return calibrate(rig, grid)
    except NoStandingError as exc:
        window = walk_window(rig, grid)
        if window is None:
            raise NoStandingError(
                f"{exc}; nor {INITIATION_STRIDES + STRIDES} steady strides of straight walking "
                "with every leg's shank sensor to calibrate from"
            ) from None
        return calibrate(rig, grid, walking=window)


def process_session(
    session: Session,
    kinematics: SessionKinematics | None = None,
    activity: str | None = None,
) -> ProcessedSession:
    """Fuse, calibrate and compute joint angles; a session that cannot be calibrated keeps its
    orientations and says why in ``warnings``. ``activity`` (with the session's segments,
    :func:`session_activity`) decides where the rotation-test reference holds."""
    rig = session.rig
    delivered = {name: s for name, s in session.samples.items() if len(s) >= 2}
    if not delivered:
        raise RecordingError(f"{session.path}: no sensor delivered samples")
    silent = [s.name for s in rig.sensors if s.name not in delivered]
    if silent:
        rig = replace(rig, sensors=tuple(s for s in rig.sensors if s.name in delivered))
    corrections = {
        name: accelerometer.estimate(
            s, rig.sample_rate_hz, gyro_bias_bound_dps(rig.sensor(name).chip)
        )
        for name, s in delivered.items()
    }
    samples = {name: corrections[name].apply(s) for name, s in delivered.items()}
    orientations, fusion_note = fuse(rig, samples)
    streams = {
        name: (o.time_s, o.q_es, samples[name].acc, samples[name].gyr)
        for name, o in orientations.items()
    }
    result = ProcessedSession(
        session, rig, orientations, to_grid(streams, rig.sample_rate_hz), accelerometer=corrections
    )
    if silent:
        result.warnings.append(f"no samples from {', '.join(silent)}: analysed without them")
    if session.timeline_error:
        result.warnings.append(f"{session.timeline_error}: analysed without its segments")
    _calibrate_and_measure(result, kinematics, activity)
    if fusion_note:  # after the calibration's: why a session has no angles comes first
        result.warnings.append(fusion_note)
    return result


def _calibrate_and_measure(
    result: ProcessedSession, kinematics: SessionKinematics | None, activity: str | None
) -> None:
    """Calibration and joint angles into ``result``, or the warning why there are none."""
    rig, session = result.rig, result.session
    if not rig.sides:
        result.no_angles = "no thigh sensor: only orientations are available"
    else:
        try:
            result.calibration = _calibrate(rig, result.grid)
        except CalibrationError as exc:
            result.no_angles = f"calibration failed: {exc}"
    if result.no_angles:
        result.warnings.append(result.no_angles)
        return
    if result.calibration.method == WALKING_ONLY:
        result.warnings.append(WALKING_ONLY_NOTE.format(**result.calibration.quality["standing"]))
    result.angles = (kinematics or SessionKinematics()).compute(
        rig, result.grid, result.calibration, activity=session_activity(session, activity)
    )
    result.warnings += result.angles.notes
    q_eb = {
        name: quat.multiply(track.q_es, result.calibration.q_sb[name])
        for name, track in result.grid.tracks.items()
        if name in result.calibration.q_sb
    }
    result.causal_rms = causal_rms(result.angles, q_eb, rig, REFINE_STEP_S)
