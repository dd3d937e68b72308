"""Stride, repetition and test metrics as they complete, from a stream of angles and gait events.

:class:`LiveAnalysis` is the one analysis engine: the live pipeline feeds it
chunks as they arrive and publishes what it returns
(``Publisher.publish_metric(kind, payload)``); batch analysis feeds it a whole
session in one call. Both therefore give the same strides, reps and trials.

Inputs per call, all on the session's sample clock:

- ``time_s`` (n,) and ``columns``: the joint-angle columns of ``angles.csv``
  (``<side>_hip_ir_deg``, ``<side>_knee_flexion_deg``) and, when known,
  ``<side>_thigh_heading_deg`` (the thigh's heading about the vertical, used to
  mark turning strides), ``<side>_thigh_inclination_deg`` (its long axis from the
  vertical: leg cycles with the thigh flexed throughout are no strides) and
  ``<side>_saturated`` (a sensor of the leg at full scale, to mark its strides);
- ``events``: newly known gait events per side, ``{"right": {"heel_strike":
  [t, ...], "toe_off": [t, ...]}}`` — from :class:`~hiprot.kinematics.gait_events.StreamingGaitEvents`
  live, from the batch detector in batch. Events may arrive before or after
  their samples.

What is analysed follows the session's activity: ``walk`` → strides (also
when the activity is unknown), ``exercise`` → repetitions, ``seated-test`` /
``prone-test`` → rotation-test trials.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hiprot.analysis.reps import Rep, RepCounter
from hiprot.analysis.rotation_tests import TESTS, Trial, TrialDetector, carried
from hiprot.analysis.strides import HEADING, INCLINATION, Stride, StrideSegmenter
from hiprot.anatomy import SIDE_SIGN
from hiprot.columns import (
    ACTIVITIES,
    HIP_IR,
    HIP_IR_GRAVITY,
    KNEE_FLEXION,
    PELVIS_OBLIQUITY,
    PELVIS_ROTATION,
    PELVIS_UP,
    SATURATED,
    TEST_HIP_FLEXION,
    TEST_KNEE_FLEXION,
    TEST_POSTURE,
    THIGH_HEADING,
    THIGH_INCLINATION,
    hip_ir,
    knee_flexion,
    leg_column,
    measured_names,
    thigh_heading,
    thigh_inclination,
)
from hiprot.kinematics.gait_events import StreamingGaitEvents
from hiprot.kinematics.shank_events import ShankEventDetector

LEG_INPUTS = {
    HIP_IR: HIP_IR,
    KNEE_FLEXION: KNEE_FLEXION,
    THIGH_HEADING: HEADING,
    THIGH_INCLINATION: INCLINATION,
    SATURATED: SATURATED,
}  # column suffix → stride segmenter input
TEST_INPUTS = (
    TEST_POSTURE,
    HIP_IR_GRAVITY,
    TEST_HIP_FLEXION,
    TEST_KNEE_FLEXION,
    *PELVIS_UP,
)  # rotation tests


MAX_HOLD_S = 30.0  # a trial waits at most this long for another leg's: longer than a trial lasts


class LiveAnalysis:
    """Emit ``(kind, payload)`` pairs — kind ``stride``, ``rep`` or ``test`` — as each completes.

    ``sides``: the legs with angles; ``rate_hz``: the angle sample rate; ``activity``: one of
    :data:`ACTIVITIES` or None (strides only). With ``keep`` (batch analysis) the completed
    objects are also kept in ``strides``, ``reps`` and ``trials``; a live stream runs for hours
    and keeps none.
    """

    def __init__(
        self,
        sides: tuple[str, ...],
        rate_hz: float,
        activity: str | None = "walk",
        keep: bool = True,
        mode: str | None = None,
    ):
        self.keep = keep
        if activity is not None and activity not in ACTIVITIES:
            raise ValueError(f"activity must be one of {', '.join(ACTIVITIES)}, not {activity!r}")
        self.sides = tuple(sides)
        self.activity = activity
        self.strides: list[Stride] = []
        self.reps: list[Rep] = []
        self.trials: list[Trial] = []
        self.segmenters = (
            {s: StrideSegmenter(s) for s in sides} if activity in (None, "walk") else {}
        )
        self.counters = {s: RepCounter(s, rate_hz) for s in sides} if activity == "exercise" else {}
        self.testers = (
            {s: TrialDetector(TESTS[activity], s, rate_hz, mode) for s in sides}
            if activity in TESTS
            else {}
        )
        self._held: list[Trial] = []  # trials waiting for the other legs' (see _released)
        self._now = -np.inf  # the stream's latest time
        self._recent: list[Trial] = []  # the latest trials given out, one per leg
        self._numbers = dict.fromkeys(sides, 0)

    def update(
        self,
        time_s: np.ndarray,
        columns: dict[str, np.ndarray],
        events: dict[str, dict[str, list[float]]] | None = None,
    ) -> list[tuple[str, dict]]:
        """Feed one chunk; returns the metrics completed by it, in time order."""
        out: list[tuple[float, str, object]] = []
        events = events or {}
        if len(time_s):
            self._now = float(time_s[-1])
        for side in self.sides:
            ir = columns.get(hip_ir(side))
            if ir is None:
                continue
            if side in self.segmenters:
                leg = {
                    name: columns[leg_column(side, suffix)]
                    for suffix, name in LEG_INPUTS.items()
                    if leg_column(side, suffix) in columns
                }
                leg |= {  # in the leg's own convention: that side up, that side forward
                    name: SIDE_SIGN[side] * np.asarray(columns[name], float)
                    for name in (PELVIS_OBLIQUITY, PELVIS_ROTATION)
                    if name in columns
                }
                found = events.get(side, {})
                for stride in self.segmenters[side].update(
                    time_s, leg, found.get("heel_strike", ()), found.get("toe_off", ())
                ):
                    out.append((stride.end_s, "stride", stride))
            if side in self.counters:
                for rep in self.counters[side].update(time_s, ir, columns.get(knee_flexion(side))):
                    out.append((rep.end_s, "rep", rep))
            if side in self.testers:
                self._held += self._test(side, time_s, ir, columns)
        out += [(trial.end_s, "test", trial) for trial in self._released(final=False)]
        return self._kept(out)

    def _test(self, side: str, time_s: np.ndarray, ir: np.ndarray, columns: dict) -> list[Trial]:
        """Feed one leg's rotation-test inputs (those given) to its trial detector."""
        up = [columns.get(leg_column(side, name)) for name in PELVIS_UP]
        return self.testers[side].update(
            time_s,
            ir,
            columns.get(leg_column(side, TEST_KNEE_FLEXION), columns.get(knee_flexion(side))),
            columns.get(leg_column(side, HIP_IR_GRAVITY)),
            columns.get(leg_column(side, TEST_POSTURE)),
            columns.get(leg_column(side, TEST_HIP_FLEXION)),
            None if any(u is None for u in up) else np.column_stack(up),
        )

    def finish(self) -> list[tuple[str, dict]]:
        """Metrics held back for want of more samples (a rep waiting for its knee angle, a trial
        with one swing) at the end of the stream."""
        out: list[tuple[float, str, object]] = []
        for counter in self.counters.values():
            out += [(rep.end_s, "rep", rep) for rep in counter.finish()]
        for tester in self.testers.values():
            self._held += tester.finish()
        out += [(trial.end_s, "test", trial) for trial in self._released(final=True)]
        return self._kept(out)

    def _released(self, final: bool) -> list[Trial]:
        """The held trials that are decided: a trial waits while another leg's trial that
        began before it ended is under way (at most ``MAX_HOLD_S``: a leg that never settles,
        or whose columns stop coming, holds nothing for good), then is dropped if that leg
        carried it along (:func:`~hiprot.analysis.rotation_tests.carried`), else given out,
        numbered per leg."""
        out, waiting = [], []
        for trial in sorted(self._held, key=lambda t: t.end_s):
            if carried(trial, self._held + self._recent):
                continue
            busy = [
                tester.active_since
                for side, tester in self.testers.items()
                if side != trial.side and tester.active_since is not None
            ]
            waited = self._now - trial.end_s
            if not final and waited < MAX_HOLD_S and any(since < trial.end_s for since in busy):
                waiting.append(trial)
                continue
            self._numbers[trial.side] += 1
            trial = replace(trial, trial=self._numbers[trial.side])
            self._recent = [t for t in self._recent if t.side != trial.side] + [trial]
            out.append(trial)
        self._held = waiting
        return out

    def _kept(self, found: list[tuple[float, str, object]]) -> list[tuple[str, dict]]:
        """Keep the completed objects (when asked) and return their payloads in time order."""
        found.sort(key=lambda f: f[0])
        if self.keep:
            lists = {"stride": self.strides, "rep": self.reps, "test": self.trials}
            for _, kind, item in found:
                lists[kind].append(item)
        return [(kind, item.payload()) for _, kind, item in found]


class MetricStream:
    """The live pipeline's angles in, stride/rep/test metrics out.

    Gait events come from each leg's :class:`~hiprot.kinematics.gait_events.StreamingGaitEvents`
    (the shank's swing-axis rate and acceleration, the knee angle), the metrics from
    :class:`LiveAnalysis`; strides under the names of what was measured against ``reference``
    (:func:`~hiprot.columns.measured_names`: thigh rotation without a pelvis sensor).
    """

    def __init__(
        self,
        sides: tuple[str, ...],
        rate_hz: float,
        activity: str | None = "walk",
        mode: str | None = None,
        reference: str | None = None,
    ):
        self.gait = {side: StreamingGaitEvents(rate_hz, ShankEventDetector()) for side in sides}
        self.analysis = LiveAnalysis(sides, rate_hz, activity, keep=False, mode=mode)
        self.reference = reference

    def _named(self, found: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
        return [
            (kind, measured_names(payload, self.reference) if kind == "stride" else payload)
            for kind, payload in found
        ]

    def update(self, angles) -> list[tuple[str, dict]]:
        """Metrics completed by one emission of the live pipeline (``pipeline.Angles``)."""
        if not len(angles.time_s):
            return []
        columns = dict(angles.columns)
        events = {}
        for side, leg in angles.legs.items():
            columns[thigh_heading(side)] = leg[THIGH_HEADING]
            columns[thigh_inclination(side)] = leg[THIGH_INCLINATION]
            columns[leg_column(side, SATURATED)] = leg[SATURATED]
            columns.update({leg_column(side, k): v for k, v in leg.items() if k in TEST_INPUTS})
            if "sagittal_rate" in leg and side in self.gait:
                knee = angles.columns.get(knee_flexion(side))
                events[side] = self.gait[side].update(
                    angles.time_s, leg["sagittal_rate"], leg.get("shank_acc"), knee
                )
        return self._named(self.analysis.update(angles.time_s, columns, events))

    def finish(self) -> list[tuple[str, dict]]:
        """What the end of the stream completes: the last gait events, held-back reps and trials."""
        events = {side: gait.finish() for side, gait in self.gait.items()}
        empty = np.empty(0)
        out = self.analysis.update(empty, {hip_ir(s): empty for s in self.analysis.sides}, events)
        return self._named(out + self.analysis.finish())
