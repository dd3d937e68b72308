"""The live pipeline: samples → orientation per sensor → calibration → joint angles.

Orientation runs on every chunk as it arrives (the filters are stateful, so
live equals batch). Calibration is tried once a second until the standing
phase and enough movement are in the buffer. After that, every chunk's angles are
emitted at once by the causal estimate (:mod:`hiprot.kinematics.causal`: the
refined fits held as last found, no future samples), and the refined angles are
computed by the same :class:`~hiprot.kinematics.angles.SessionKinematics` as
in batch, over a sliding window every ``step_s``, and emitted ``delay_s`` behind the
newest sample: the heading corrections need a little of the future (half a stride
of smoothing, the stride in progress). The refined ones feed the live metrics.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hiprot import quat
from hiprot.analysis.verdict import leg_figures, verdict
from hiprot.calibration import Calibration, calibrate
from hiprot.chip_catalogue import gyro_bias_bound_dps
from hiprot.columns import SATURATED, THIGH_HEADING, THIGH_INCLINATION
from hiprot.config import Rig
from hiprot.errors import CalibrationError
from hiprot.fusion import make_filter
from hiprot.fusion.timeline import MAX_GAP_S
from hiprot.kinematics.angles import Anchors, SessionAngles, SessionKinematics
from hiprot.kinematics.causal import REFINE_STEP_S, Held, StrideMean, causal_angles, held_at
from hiprot.kinematics.rotation_test import ROTATION_TESTS
from hiprot.live_angles import Angles
from hiprot.resample import Grid, orientations_on_grid, to_grid
from hiprot.samples import Chunk, ImuSamples
from hiprot.saturation import DRIVER_FULL_SCALE, saturated_on

LIVE_MIN_MOVING_S = 5.0  # of movement after standing before calibrating live
STALE_S = 1.0  # a sensor whose newest sample is this much older than the others' is left out
CALIBRATION_BUFFER_S = 120.0
# In a rotation test angles wait longer: the test's fit (rotation_test.test_heading_offset) needs a
# quarter second of the first swing (MIN_SWUNG_SAMPLES at 200 Hz) and the swing's rise past
# SWUNG_SHANK_DEG, and must take over a trial's still start (STILL_S, 1 s) before it: 2.5 s.
TEST_DELAY_S = 2.5


class _Buffer:
    """One sensor's fused samples, kept for a limited time."""

    def __init__(self):
        self.parts: list[tuple[np.ndarray, ...]] = []

    def append(self, time_s, q_es, acc, gyr) -> None:
        if len(time_s):
            self.parts.append((time_s, q_es, acc, gyr))

    def arrays(self) -> tuple[np.ndarray, ...]:
        if len(self.parts) > 1:
            self.parts = [tuple(np.concatenate(p) for p in zip(*self.parts))]
        return self.parts[0]

    @property
    def last_time(self) -> float:
        return float(self.parts[-1][0][-1]) if self.parts else -np.inf

    def drop_before(self, time_s: float) -> None:
        if self.parts:
            arrays = self.arrays()
            keep = arrays[0] >= time_s
            self.parts = [tuple(a[keep] for a in arrays)] if keep.any() else []


class Pipeline:
    """Fuse every sensor, calibrate as soon as possible, then emit joint angles: each chunk's
    causal ones at once, the refined ones behind.

    ``window_s``: data each refined computation sees; ``delay_s``: how far behind
    the newest sample refined angles are emitted (at least ``TEST_DELAY_S`` in a rotation
    test); ``step_s``: how often they are computed (the causal estimate holds their fits).
    """

    def __init__(
        self,
        rig: Rig,
        window_s: float = 20.0,
        delay_s: float = 1.5,
        step_s: float = REFINE_STEP_S,
        activity: str | None = None,
    ):
        self.rig, self.activity = rig, activity  # activity: where the rotation-test reference holds
        self.window_s, self.delay_s, self.step_s = window_s, delay_s, step_s
        self.filters = {
            s.name: make_filter(
                rig.fusion,
                rig.sample_rate_hz,
                magnetometer=s.has_magnetometer,
                max_bias_dps=gyro_bias_bound_dps(s.chip),
            )
            for s in rig.sensors
        }
        self.buffers = {s.name: _Buffer() for s in rig.sensors}
        self.kinematics = SessionKinematics()
        self.calibration: Calibration | None = None
        self.anchors: Anchors | None = None
        self.calibration_error: str | None = None
        self._next_try = -np.inf
        self._emitted_until = -np.inf
        self._finished = False
        self._last_heading: dict[str, float] = {}
        self._origin_s: float | None = None
        self._agreement: dict[str, float] = {}
        self.held: Held | None = None  # the refined fits the causal estimate holds
        self._pending: dict[str, tuple[np.ndarray, ...]] = {}  # fused, from the last estimated
        self._causal_until = -np.inf
        self._follow = {side: StrideMean(rig.sample_rate_hz) for side in rig.sides}

    @property
    def calibrated(self) -> dict[str, bool]:
        """Per leg: are its angles being computed?"""
        return {side: self.calibration is not None for side in self.rig.sides}

    @property
    def verdicts(self) -> dict[str, dict]:
        """Per calibrated leg, the calibration verdict (:mod:`hiprot.analysis.verdict`) from
        the calibration's figures and the walking corrections seen so far, marked
        ``provisional``. Live it is at most doubtful: the figure that predicts the error and
        refuses a leg, the knee axis' tilt, needs the robust fits the recorder's loop cannot
        afford; the batch analysis judges it (and may refuse)."""
        if self.calibration is None:
            return {}
        out = {}
        for side in self.rig.sides:
            figures = leg_figures(self.calibration.quality, None, side)
            if side in self._agreement:
                figures["method_agreement_deg"] = self._agreement[side]
            out[side] = verdict(figures) | {"provisional": True}  # batch judges the tilt too
        return out

    def process(self, chunk: Chunk) -> Angles:
        """Fuse ``chunk``; return the joint angles that became final (possibly none), with
        the causal estimate of ``chunk``'s samples once calibrated (:attr:`Angles.causal`; the
        call that calibrates gives all samples so far, as its computation has them)."""
        for name, samples in chunk.items():
            if len(samples) and samples.time_s[0] - self.buffers[name].last_time > MAX_GAP_S:
                self._forget(name)
            q_es = self.filters[name].update(samples)
            self.buffers[name].append(samples.time_s, q_es, samples.acc, samples.gyr)
            if len(samples):
                arrays = (samples.time_s, q_es)
                if name in self._pending:
                    arrays = tuple(map(np.concatenate, zip(self._pending[name], arrays)))
                self._pending[name] = arrays
            if self._origin_s is None and len(samples):
                self._origin_s = float(samples.time_s[0])
        if not self.rig.sides or (
            self.calibration is None and any(not b.parts for b in self.buffers.values())
        ):  # calibrated, a sensor silent for a window leaves its legs out (see _angles)
            self._trim(np.inf)  # nothing to estimate: keep each sensor's last sample only
            return Angles(np.empty(0))
        if self.calibration is None:
            angles = self._try_calibration(min(b.last_time for b in self.buffers.values()))
        else:
            angles = self._refine(max(b.last_time for b in self.buffers.values()))
        if angles.causal is None:
            angles.causal = self._causal()
        return angles

    def _forget(self, name: str) -> None:
        """Sensor ``name`` is back after a gap the fusion does not bridge: the headings
        carried from before it no longer apply (:meth:`Anchors.forget`), nor the held ones
        (the causal estimate withholds its legs' hip angles until the next refinement)."""
        sensor = next(s for s in self.rig.sensors if s.name == name)
        pelvis = sensor.segment == "pelvis"
        sides = list(self.rig.sides) if pelvis else [sensor.side]
        if self.anchors is not None:
            self.anchors.forget(sides, pelvis)
        if self.held is not None:
            for side in sides:
                if side in self.held.heading:
                    self.held.heading[side] = np.full_like(self.held.heading[side], np.nan)

    def _refine(self, newest: float) -> Angles:
        """The refined angles, every ``step_s``."""
        if newest < self._next_try:
            return Angles(np.empty(0))
        self._next_try = newest + self.step_s
        for buffer in self.buffers.values():
            buffer.drop_before(newest - self.window_s)
        return self._angles(newest)

    def _causal(self) -> Angles | None:
        """The causal estimate of the samples all fresh sensors delivered since the last one
        (None before the first refined fits, and while those fits are of the other reference:
        held with the pelvis sensor it is now silent, or the other way round)."""
        newest = max(b.last_time for b in self.buffers.values())
        fresh = [s for s in self.rig.sensors if self.buffers[s.name].last_time >= newest - STALE_S]
        pelvis = self.rig.find("pelvis")
        with_pelvis = pelvis is not None and pelvis in fresh
        if self.held is None or self.held.pelvis != with_pelvis:  # fits of the other reference
            self._trim(min(self._pending[s.name][0][-1] for s in fresh))
            return None
        time_s, q_es, valid = orientations_on_grid(
            {s.name: self._pending[s.name] for s in fresh},
            self.rig.sample_rate_hz,
            origin_s=self._origin_s,
        )
        new = time_s > self._causal_until
        if not new.any():
            return None
        rig = (
            self.rig
            if len(fresh) == len(self.rig.sensors)
            else replace(self.rig, sensors=tuple(fresh))
        )
        q_eb = {
            name: quat.multiply(q[new], self.calibration.q_sb[name]) for name, q in q_es.items()
        }
        columns = causal_angles(rig, q_eb, self.held, self._follow)
        for values in columns.values():
            values[~valid[new]] = np.nan
        self._causal_until = float(time_s[new][-1])
        self._trim(self._causal_until)
        return Angles(time_s[new], columns)

    def _trim(self, cut: float) -> None:
        """Keep of each sensor's pending samples the last at or before ``cut`` and those after:
        what the next causal estimate interpolates from."""
        for name, arrays in self._pending.items():
            first = max(0, int(np.searchsorted(arrays[0], cut, side="right")) - 1)
            self._pending[name] = tuple(a[first:] for a in arrays)

    def finish(self) -> Angles:
        """At the end of the session: the angles still held back by the delay."""
        if self.calibration is None or not any(b.parts for b in self.buffers.values()):
            return Angles(np.empty(0))
        self._finished = True
        return self._angles(max(b.last_time for b in self.buffers.values()))

    def _grid(self, names) -> Grid:
        streams = {name: self.buffers[name].arrays() for name in names}
        return to_grid(streams, self.rig.sample_rate_hz, origin_s=self._origin_s)

    def _try_calibration(self, newest: float) -> Angles:
        if newest < self._next_try:
            return Angles(np.empty(0))
        self._next_try = newest + 1.0
        for buffer in self.buffers.values():
            buffer.drop_before(newest - CALIBRATION_BUFFER_S)
        grid = self._grid(self.buffers)
        try:  # without the verdict's robust fits: on the loop's thread they starve the FIFOs
            calibration = calibrate(self.rig, grid, judge=False)
        except CalibrationError as exc:
            self.calibration_error = str(exc)
            return Angles(np.empty(0))
        moving = min(calibration.quality[side]["moving_s"] for side in self.rig.sides)
        if moving < LIVE_MIN_MOVING_S:
            self.calibration_error = f"calibrating: {moving:.1f} s of movement so far"
            return Angles(np.empty(0))
        self.calibration, self.calibration_error = calibration, None
        result = self.kinematics.compute(
            self.rig, grid, calibration, activity=self.activity, emitted=self._seam(newest)
        )
        self.anchors = result.anchors
        self._hold(result)
        angles = self._emit(result, newest)
        # the samples so far, at once: the calibration's computation has them all
        angles.causal = Angles(result.time_s, result.columns)
        self._causal_until = float(result.time_s[-1])
        self._trim(self._causal_until)
        return angles

    def _angles(self, newest: float) -> Angles:
        """Angles of the legs whose sensors are all delivering; a sensor silent for
        ``STALE_S`` (unplugged, being retried) leaves its leg out until it is back."""
        fresh = [
            s
            for s in self.rig.sensors
            if self.buffers[s.name].parts and self.buffers[s.name].last_time >= newest - STALE_S
        ]
        rig = (
            self.rig
            if len(fresh) == len(self.rig.sensors)
            else replace(self.rig, sensors=tuple(fresh))
        )
        if not rig.sides:
            return Angles(np.empty(0))
        result = self.kinematics.compute(
            rig,
            self._grid([s.name for s in fresh]),
            self.calibration,
            self.anchors,
            self.activity,
            self._seam(newest),
        )
        self.anchors = result.anchors.merged_into(self.anchors)
        self._hold(result)
        return self._emit(result, newest)

    def _hold(self, result: SessionAngles) -> None:
        """Hold the fits of ``result`` as they stand at its newest sample, for the causal
        estimate."""
        held = held_at(result, -1)
        self.held = held if self.held is None else self.held.updated(held)

    def _lag(self) -> float:
        """How far behind the newest sample angles are emitted now (none once finished)."""
        if self._finished:
            return 0.0
        return max(self.delay_s, TEST_DELAY_S) if self.activity in ROTATION_TESTS else self.delay_s

    def _seam(self, newest: float) -> tuple[float, float]:
        """The last sample time emitted so far and the last this computation will emit: the
        rotation tests' fits are carried over the seam between them."""
        return self._emitted_until, newest - self._lag()

    def _saturated(self, time_s: np.ndarray) -> dict[str, np.ndarray]:
        """Per side, True at ``time_s`` next to a sample at full scale of the leg's sensors or
        the pelvis sensor, as the batch analysis marks strides; the ranges are those hiprot's
        drivers set (a replay of data recorded elsewhere is judged by its flat maxima). Each
        sensor is judged once, the pelvis sensor for both legs."""
        per_sensor = []
        for sensor in self.rig.sensors:
            if self.buffers[sensor.name].parts:
                t, _, acc, gyr = self.buffers[sensor.name].arrays()
                samples = ImuSamples(t, acc, gyr)
                per_sensor.append((sensor.side, saturated_on(time_s, samples, DRIVER_FULL_SCALE)))
        out = {}
        for side in self.rig.sides:
            out[side] = np.zeros(len(time_s), bool)
            for owner, flags in per_sensor:
                if owner in (side, None):
                    out[side] |= flags
        return out

    def _emit(self, result, newest: float) -> Angles:
        for side, corrections in result.walk_corrections_deg.items():
            if corrections:
                largest = round(max(abs(c) for c in corrections), 1)
                self._agreement[side] = max(self._agreement.get(side, 0.0), largest)
        time_s = result.time_s
        final = (time_s > self._emitted_until) & (time_s <= newest - self._lag())
        if not final.any():
            return Angles(np.empty(0))
        self._emitted_until = float(time_s[final][-1])
        legs, saturated = {}, self._saturated(time_s[final])
        for side, leg in result.legs.items():
            heading = leg.thigh_heading_deg[final]
            if side in self._last_heading:  # keep the unwrapped heading continuous across windows
                heading = heading - 360.0 * np.round(
                    (heading[0] - self._last_heading[side]) / 360.0
                )
            self._last_heading[side] = float(heading[-1])
            legs[side] = {
                THIGH_HEADING: heading,
                THIGH_INCLINATION: leg.thigh_inclination_deg[final],
                SATURATED: saturated[side],
                **leg.test_inputs(final),
            }
            if leg.sagittal_rate is not None:
                legs[side]["sagittal_rate"] = leg.sagittal_rate[final]
                legs[side]["shank_acc"] = leg.shank_acc[final]
        columns = {name: values[final] for name, values in result.columns.items()}
        return Angles(time_s[final], columns, legs)
