"""Seated and prone hip-rotation tests: trials, peak IR and ER, compensation, protocol, repeatability.

In both tests the knee is bent 90° and the foot swings outward (hip internal
rotation, IR) to the end of range, back, then inward (external rotation, ER)
and back. Trials are found by posture, not by amplitude (so a stiff hip's 0°
trial is a trial): in the test posture (thigh horizontal, knee bent:
:mod:`hiprot.kinematics.rotation_test`) a trial starts when the leg leaves a
still start — the shank within ``START_TOL_DEG`` of vertical and the gravity
angle and the knee still for ``STILL_S`` — by ``ENTER_DEG`` (a swing before it that
stayed under that, beyond the ±1° of a still leg (or 3 robust SD of its start) and within
``MAX_WAIT_S`` of the departure, belongs to
it: a 3° hip's inward swing can stay under 2°, and its IR read 0°) — and ends when it has been back there
for ``END_STILL_S`` after swinging both ways (IR and ER, either order), or for
``END_ALONE_S`` after one way only (a stiff hip's, or a pause between the two) —
or when, back for ``END_STILL_S``, it leaves again the way it already swung (the
next trial starts there); a trial whose shank swung less than ``MIN_SWING_DEG``
or in which the knee angle ranged over more than ``KNEE_RANGE_DEG`` (a fidgeting
leg: in a test the knee is held) is none, and while the knee bends or straightens
faster than 20°/s (getting into position) there is no trial.

A trial of one leg during another leg's trial with under ``CARRIED_SHARE`` of its arc is
that resting leg carried along (:func:`carried`), no trial.

Per trial, IR and ER are the extremes of hip IR in it (ER positive), both zeroed
at the still start, the shank vertical, as a goniometer is. A start the gravity
angle finds within ``ZERO_BAND_DEG`` of vertical is the vertical: a knee bent
90° carries the shank a few degrees off the femur's plane by itself (varus up to
about 4-6°: Kefala et al., Med Sci Sports Exerc 49:2260-2267 (2017)), which the
goniometer cannot tell from hip rotation either. A start beyond that band is
where the hip rests short of neutral and reads that far beyond it (both figures),
so a hip that cannot reach neutral reads negative IR. With a pelvis sensor the primary figures are pelvis → femur,
``reference`` is :data:`~hiprot.columns.REFERENCE_PELVIS`, and
``pelvic_compensation_deg`` is how far the pelvis tilted during the trial
(obliquity seated, roll prone); ``compensated`` flags it beyond
``COMPENSATION_LIMIT_DEG``. Without one the primary figures are the gravity's
and ``compensated`` is None: compensation cannot be excluded. The gravity figures
are always there as the second figure.

``COMPENSATION_LIMIT_DEG`` is derived, not published (no study gives a limit of
pelvic motion in this test): the gravity angle reads hip rotation plus the
pelvic tilt one to one, and Krause et al., Knee Surg Sports Traumatol Arthrosc
23:2562-2567 (2015) put the between-session MDC95 of seated IR at 5.4°, i.e. a
standard error of a between-session difference of 5.4 / 1.96 = 2.76°. A
compensation beyond that, coming or going between sessions, alone makes a
change of one standard error — a probable change (84 % one-sided) that is not
the hip's. The pelvis → femur figure does not contain the tilt, so a comparison counts
compensated trials and reports the tilt beside them (:mod:`hiprot.analysis.compare`).

The protocol (Norkin & White, *Measurement of Joint Motion*, 5th ed. 2016):
seated hip and knee at 90°, prone hip at 0° and knee at 90°; a trial whose
median hip or knee flexion is more than ``PROTOCOL_TOL_DEG`` off is not
``protocol_ok`` (None when the knee or hip flexion is not measured). ``mode``
(``active`` or ``passive``) comes from the session; active and passive range
differ and are never compared with each other.

Repeatability comes from the trials themselves: their spread (sample SD) is
the test's trial-to-trial error. ``detectable_change`` is the smallest change
of the trial mean that a reassessment with as many trials would show at 95 %
confidence (two-sample t test with that SD in both sessions), and never less
than 1°: three nearly identical trials say little about the next session, and
the angles themselves are not better than that.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import t as student_t

from hiprot.analysis.formatting import rounded, sample_sd
from hiprot.columns import (
    MODES,
    REFERENCE_GRAVITY,
    REFERENCE_PELVIS,
    TEST_DIRECTIONS,
    trial_summary_key,
)
from hiprot.kinematics.rotation_test import ZERO_BAND_DEG

TESTS = {"seated-test": "seated-ir", "prone-test": "prone-ir"}
MIN_DETECTABLE_DEG = 1.0  # no change under a degree is called real, however alike the trials
COMPENSATION_LIMIT_DEG = 5.4 / 1.96  # derived from Krause et al.'s MDC95 (module docstring)
PROTOCOL = {"seated-ir": (90.0, 90.0), "prone-ir": (0.0, 90.0)}  # hip, knee flexion (deg)
PROTOCOL_TOL_DEG = 15.0
START_TOL_DEG = 15.0  # the start's shank within this of vertical
STILL_S = 1.0  # a still start lasts this long
END_STILL_S = 1.0  # back this long ends a trial that swung both ways...
END_ALONE_S = 4.0  # ... and this long one that swung one way only (its other swing may follow)
STILL_DEG = 3.0  # still: the gravity angle's range over STILL_S within this (noise reaches ±1°)
ENTER_DEG = 2.0  # leaving the start by this much starts a trial
MAX_WAIT_S = 10.0  # a swing too small to start a trial counts this long before the one that does
MIN_SWING_DEG = 3.0  # a trial's shank swings at least this far from its start
BOTH_WAYS_SHARE = 0.25  # swung both ways: the smaller swing this share of the larger at least
KNEE_RANGE_DEG = 10.0  # ... with the knee held: a wider knee range is fidgeting
POSTURE_RATE_DEG_S = 20.0  # the knee moving faster than this: getting into position
CARRIED_SHARE = 0.2  # a trial with under this share of the other leg's concurrent arc: carried


def session_mode(meta: dict) -> str | None:
    """The session's ``mode`` (``active``/``passive``) from ``session.json``, else None."""
    mode = meta.get("mode")
    return mode if mode in MODES else None


@dataclass
class Trial:
    """One trial; the fields are the ``test`` metrics (report and MQTT)."""

    test: str
    side: str
    trial: int
    start_s: float
    end_s: float
    hip_ir_max_deg: float | None
    hip_er_max_deg: float | None
    ir_peak_s: float | None
    er_peak_s: float | None
    reference: str = REFERENCE_GRAVITY
    hip_ir_max_gravity_deg: float | None = None
    hip_er_max_gravity_deg: float | None = None
    pelvic_compensation_deg: float | None = None
    compensated: bool | None = None
    hip_flexion_deg: float | None = None
    knee_flexion_deg: float | None = None
    protocol_ok: bool | None = None
    mode: str | None = None

    def payload(self) -> dict:
        """JSON-ready metrics (rounded)."""
        return rounded(asdict(self))


@dataclass
class _Sample:
    t: float
    ir: float
    gravity: float
    knee: float
    hip: float
    up: tuple[float, float, float] | None


class TrialDetector:
    """Find one leg's trials of ``test`` (``seated-ir`` or ``prone-ir``) as samples arrive.

    A state machine over samples, so one call with a whole session and many with small chunks
    find the same trials. ``mode``: the session's ``active``/``passive`` (None: not given).
    """

    def __init__(self, test: str, side: str, rate_hz: float, mode: str | None = None):
        self.test, self.side, self.mode = test, side, mode
        self.rate_hz = rate_hz
        self._still: deque[_Sample] = deque(maxlen=max(2, round(STILL_S * rate_hz)))
        self._knee: deque[tuple[float, float]] = deque(maxlen=max(2, round(0.25 * rate_hz) + 1))
        self._start: list[_Sample] | None = None  # the still start of the coming trial
        # since the leg came to rest at that start: a stiff hip's swing too small to start the
        # trial (under ENTER_DEG) is part of it
        self._waiting: deque[_Sample] = deque(maxlen=max(2, round(MAX_WAIT_S * rate_hz)))
        self._lead: list[_Sample] = []
        self._active: list[_Sample] | None = None
        self._back_since: float | None = None
        self._rest = self._anchor = 0.0  # the start's gravity angle, and where it first was
        self._low = self._high = 0.0  # the extremes of the departure from the start
        self.trials: list[Trial] = []

    def update(
        self,
        time_s: np.ndarray,
        hip_ir_deg: np.ndarray,
        knee_flexion_deg: np.ndarray | None = None,
        gravity_ir_deg: np.ndarray | None = None,
        posture: np.ndarray | None = None,
        hip_flexion_deg: np.ndarray | None = None,
        pelvis_up: np.ndarray | None = None,
    ) -> list[Trial]:
        """Feed samples in time order: hip IR (primary), the knee angle, the gravity-referenced IR
        (default: hip IR), where the test posture holds (default: wherever the gravity angle
        is), hip flexion and the vertical in the pelvis frame (n, 3) when measured; returns the
        trials completed."""
        n = len(time_s)
        nan = np.full(n, np.nan)
        gravity = hip_ir_deg if gravity_ir_deg is None else gravity_ir_deg
        knee = nan if knee_flexion_deg is None else knee_flexion_deg
        hip = nan if hip_flexion_deg is None else hip_flexion_deg
        inside = np.isfinite(gravity) if posture is None else np.asarray(posture, bool)
        done = []
        for i in range(n):
            up = None if pelvis_up is None else tuple(float(v) for v in pelvis_up[i])
            x = _Sample(
                float(time_s[i]),
                float(hip_ir_deg[i]),
                float(gravity[i]),
                float(knee[i]),
                float(hip[i]),
                up,
            )
            if not inside[i] or math.isnan(x.ir) or math.isnan(x.gravity) or self._knee_moving(x):
                self._reset()
                continue
            trial = self._sample(x)
            if trial is not None:
                done.append(trial)
        return done

    @property
    def active_since(self) -> float | None:
        """When the trial under way left its start (None: none under way)."""
        return None if self._active is None else self._active[0].t

    def finish(self) -> list[Trial]:
        """The trial under way at the end of the stream if its leg is back at the start (a
        trial still out in a swing is incomplete: none)."""
        trial = None
        if self._active is not None and self._back_since is not None:
            swing = max(self._high, -self._low)
            trial = self._trial(self._start, self._lead, self._active, swing, self._back_since)
        self._reset()
        return [] if trial is None else [trial]

    def _knee_moving(self, x: _Sample) -> bool:
        if math.isnan(x.knee):
            return False
        self._knee.append((x.t, x.knee))
        (t0, k0), (t1, k1) = self._knee[0], self._knee[-1]
        return t1 > t0 and abs(k1 - k0) > POSTURE_RATE_DEG_S * (t1 - t0)

    def _reset(self) -> None:
        self._still.clear()
        self._waiting.clear()
        self._start = self._active = None
        self._back_since = None

    def _is_still(self) -> bool:
        if len(self._still) < self._still.maxlen:
            return False
        values = [s.gravity for s in self._still]
        return max(values) - min(values) <= STILL_DEG

    def _sample(self, x: _Sample) -> Trial | None:
        self._still.append(x)
        if self._active is None:
            here = float(np.median([s.gravity for s in self._still]))
            near = self._start is None or abs(here - self._anchor) <= ENTER_DEG / 2
            if self._is_still() and abs(here) <= START_TOL_DEG and near:
                if self._start is None:
                    self._anchor = here  # where the leg came to rest: a slow swing is no new one
                    self._waiting.clear()
                    self._waiting.extend(list(self._still)[:-1])  # x follows below
                self._start = list(self._still)
                self._rest = here
            elif self._start is not None and abs(x.gravity - self._rest) > ENTER_DEG:
                self._lead = list(self._waiting)
                self._active = [*self._start[-1:], x]
                self._back_since = None
                self._low = self._high = x.gravity - self._rest
                return None
            if self._start is not None:
                self._waiting.append(x)
            return None
        departure = x.gravity - self._rest
        swing = max(self._high, -self._low)
        if abs(departure) > min(ENTER_DEG, swing / 2):
            swung = self._high if departure > 0 else -self._low
            back = self._back_since
            if back is not None and x.t - back >= END_STILL_S and swung >= MIN_SWING_DEG:
                # back at the start, then off again the way it already swung: the next trial
                trial = self._trial(self._start, self._lead, self._active, swing, back)
                self._lead = []  # it starts where the last one ended: no small swing before
                self._active, self._back_since = [self._active[-1], x], None
                self._low = self._high = departure
                return trial
            self._active.append(x)
            self._low, self._high = min(self._low, departure), max(self._high, departure)
            self._back_since = None
            return None
        self._active.append(x)
        if self._back_since is None:
            self._back_since = x.t
        both_ways = min(self._high, -self._low) > max(MIN_SWING_DEG, BOTH_WAYS_SHARE * swing)
        if x.t - self._back_since < (END_STILL_S if both_ways else END_ALONE_S):
            return None
        if not self._is_still():
            return None
        trial = self._trial(self._start, self._lead, self._active, swing, self._back_since)
        self._start, self._active, self._back_since = list(self._still), None, None
        self._waiting.clear()  # its own return is no swing of the next trial
        self._waiting.append(x)
        self._rest = self._anchor = float(np.median([s.gravity for s in self._start]))
        return trial

    def _trial(
        self,
        start: list[_Sample],
        lead: list[_Sample],
        active: list[_Sample],
        swing: float,
        end_s: float,
    ) -> Trial | None:
        """The trial of the samples ``active`` (from its departure) after ``lead`` (at rest
        since ``start``, with any swing too small to start it), or None (too small a swing, a
        fidgeting knee). It begins at the departure, or where the leg last left the start
        before a peak that lies in ``lead``."""
        knee = np.array([s.knee for s in active])
        moved = np.ptp(knee[np.isfinite(knee)]) if np.isfinite(knee).any() else 0.0
        if swing < MIN_SWING_DEG or moved > KNEE_RANGE_DEG:
            return None
        zero_g = float(np.median([s.gravity for s in start]))
        beyond = math.copysign(max(abs(zero_g) - ZERO_BAND_DEG, 0.0), zero_g)
        samples = lead + active
        times = np.array([s.t for s in samples])
        primary = np.array([s.ir for s in samples]) - np.median([s.ir for s in start]) + beyond
        gravity = np.array([s.gravity for s in samples]) - zero_g + beyond
        first = len(lead)
        # still, no swing: within ±1° (a still leg's noise) or 3 SD of the start's (from its
        # median absolute deviation: the start's last samples may already be leaving)
        still = np.array([s.gravity for s in start])
        spread = 1.4826 * float(np.median(np.abs(still - np.median(still))))
        cut = max(ENTER_DEG / 2, 3.0 * spread)
        noise = np.abs(gravity[:first] - beyond) <= cut
        primary[:first][noise] = gravity[:first][noise] = np.nan
        ir_at, er_at = int(np.nanargmax(primary)), int(np.nanargmin(primary))
        if min(ir_at, er_at) < first:  # a small swing before the departure: the trial's start
            at_rest = np.flatnonzero(noise[: min(ir_at, er_at)])
            first = int(at_rest[-1]) if len(at_rest) else 0
        hip = np.array([s.hip for s in active])
        with_pelvis = active[0].up is not None
        compensation = None
        if with_pelvis:
            up0 = np.mean([s.up for s in start], axis=0)
            up0 /= np.linalg.norm(up0)
            ups = np.array([s.up for s in samples[first:]])
            cos = np.clip(ups @ up0 / np.linalg.norm(ups, axis=1), -1.0, 1.0)
            compensation = float(np.degrees(np.arccos(cos)).max())
        hip_flexion = float(np.nanmedian(hip)) if np.isfinite(hip).any() else None
        knee_flexion = float(np.nanmedian(knee)) if np.isfinite(knee).any() else None
        protocol = None
        if hip_flexion is not None and knee_flexion is not None:
            want_hip, want_knee = PROTOCOL[self.test]
            protocol = (
                abs(hip_flexion - want_hip) <= PROTOCOL_TOL_DEG
                and abs(knee_flexion - want_knee) <= PROTOCOL_TOL_DEG
            )
        trial = Trial(
            self.test,
            self.side,
            len(self.trials) + 1,
            float(times[first]),
            end_s,
            float(primary[ir_at]),
            float(-primary[er_at]),
            float(times[ir_at]),
            float(times[er_at]),
            REFERENCE_PELVIS if with_pelvis else REFERENCE_GRAVITY,
            float(np.nanmax(gravity)),
            float(-np.nanmin(gravity)),
            compensation,
            None if compensation is None else compensation > COMPENSATION_LIMIT_DEG,
            hip_flexion,
            knee_flexion,
            protocol,
            self.mode,
        )
        self.trials.append(trial)
        return trial


def arc_deg(trial: Trial) -> float:
    """A trial's arc of rotation: its IR and ER peaks added (either may be missing)."""
    return (trial.hip_ir_max_deg or 0.0) + (trial.hip_er_max_deg or 0.0)


def carried(trial: Trial, others: list[Trial]) -> bool:
    """Whether ``trial`` is the resting leg carried along by another leg's trial: the two
    overlap for more than half of the shorter and its arc is under ``CARRIED_SHARE`` of that
    trial's. The protocol tests one hip at a time (Norkin & White 2016), and a test leg's
    swing moves the pelvis and with it the other leg (on the simulator's people the resting
    leg reads a 9-10° arc beside the tested leg's 85-90°: 0.10-0.12); both legs tested
    together (a bilateral prone screen) keep both, a stiff hip's too — a 20° arc beside
    80° is 0.25 (the share, between those, and the half are design choices, not published
    figures)."""
    for other in others:
        if other.side == trial.side:
            continue
        overlap = min(trial.end_s, other.end_s) - max(trial.start_s, other.start_s)
        shorter = min(trial.end_s - trial.start_s, other.end_s - other.start_s)
        if overlap > 0.5 * shorter and arc_deg(trial) < CARRIED_SHARE * arc_deg(other):
            return True
    return False


def trial_warnings(trials: list[Trial]) -> list[str]:
    """What the trials' compensation, protocol and reference say about them: one line per leg,
    test and finding, naming its trials (a guided session's six compensated trials are two lines,
    not six)."""
    out = []
    if any(t.compensated is None for t in trials):
        out.append(
            "rotation test without a pelvis sensor: pelvic compensation cannot be excluded "
            "(the IR and ER figures include any pelvic obliquity or roll)"
        )
    for side, test in dict.fromkeys((t.side, t.test) for t in trials):
        leg = [t for t in trials if (t.side, t.test) == (side, test)]
        tilted = [t for t in leg if t.compensated]
        if tilted:
            out.append(
                f"{_named(side, tilted)}: compensated — the pelvis tilted "
                f"{_span([t.pelvic_compensation_deg for t in tilted], '.1f')}° "
                f"(over {COMPENSATION_LIMIT_DEG:.1f}°)"
            )
        off = [t for t in leg if t.protocol_ok is False]
        if off:
            hip, knee = PROTOCOL[test]
            out.append(
                f"{_named(side, off)}: off the protocol — hip "
                f"{_span([t.hip_flexion_deg for t in off], '.0f')}°, knee "
                f"{_span([t.knee_flexion_deg for t in off], '.0f')}° (protocol: hip {hip:.0f}°, "
                f"knee {knee:.0f}°, ±{PROTOCOL_TOL_DEG:.0f}°)"
            )
    return out


def _named(side: str, trials: list[Trial]) -> str:
    """Trials named: "left trial 2", "left trials 1, 2, 3"."""
    numbers = ", ".join(str(t.trial) for t in trials)
    return f"{side} trial{'s' if len(trials) > 1 else ''} {numbers}"


def _span(values: list[float], spec: str) -> str:
    """A value, or the range of several as printed ("3.6 to 3.7"; a hyphen would read
    "-5--2" for a prone test's negative hip flexion)."""
    low, high = format(min(values), spec), format(max(values), spec)
    return low if low == high else f"{low} to {high}"


def detectable_change(
    sd_before: float | None, n_before: int, sd_after: float | None, n_after: int
) -> float | None:
    """Smallest change of a trial mean that exceeds the trial-to-trial spread at 95 % confidence
    (pooled two-sample t test), and never under MIN_DETECTABLE_DEG; None when a session has
    fewer than two trials."""
    if sd_before is None or sd_after is None or n_before < 2 or n_after < 2:
        return None
    dof = n_before + n_after - 2
    pooled = np.sqrt(((n_before - 1) * sd_before**2 + (n_after - 1) * sd_after**2) / dof)
    spread = float(student_t.ppf(0.975, dof) * pooled * np.sqrt(1 / n_before + 1 / n_after))
    return max(spread, MIN_DETECTABLE_DEG)


def trial_summary(trials: list[Trial]) -> dict:
    """Per leg: trials, best/mean/SD of peak IR and ER, and the change a retest could detect."""
    out = {}
    for side in sorted({t.side for t in trials}):
        mine = [t for t in trials if t.side == side]
        leg: dict = {"test": mine[0].test, "trials": len(mine)}
        for name, key in TEST_DIRECTIONS.items():
            values = np.array([getattr(t, key) for t in mine if getattr(t, key) is not None])
            sd = sample_sd(values)
            leg[f"{name}_trials"] = len(values)
            leg[trial_summary_key(name, "best")] = float(values.max()) if len(values) else None
            leg[trial_summary_key(name, "mean")] = float(values.mean()) if len(values) else None
            leg[trial_summary_key(name, "sd")] = sd
            leg[trial_summary_key(name, "detectable_change")] = detectable_change(
                sd, len(values), sd, len(values)
            )
        out[side] = leg
    return rounded(out)
