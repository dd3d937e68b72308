"""Exercise repetitions: each internal-rotation excursion of one leg's hip, grouped into sets.

The movement's main angle is hip internal rotation: in standing hip-IR
activations the working hip rotates internally and back; in a lunge with
rotation the pelvis turns toward the rear leg over the planted feet, which
rotates the rear hip internally and back. A repetition is one excursion of
that angle (:mod:`hiprot.analysis.excursions`); a pause longer than
``set_gap_s`` between two repetitions of a leg starts a new set. Knee flexion,
when measured, tells a lunge from a standing activation: in a lunge the knee
bends before the rotation and straightens after it (by more than
``LUNGE_KNEE_RANGE_DEG`` within ``lunge_window_s``), and the repetition then
runs from the start of that knee bend to its end (crossings of 5 % of its range).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from hiprot.analysis.excursions import Excursion, ExcursionDetector, crossing
from hiprot.analysis.formatting import rounded, sample_sd
from hiprot.columns import HIP_IR_MAX, HIP_IR_ROM, mean_key, sd_key

LUNGE_KNEE_RANGE_DEG = 45.0  # knee flexion range within a rep above which it is a lunge
# A lunge's hip IR that follows its knee flexion sample by sample (correlation above this) is
# the skin twisting the thigh module as the knee flexes (Benoit et al., Gait Posture 24:152-164,
# 2006), not a rotation: the calibration's knee bends read 7° "lunges" at r = 1.00 on the
# simulator's realistic people, its lunges with rotation (the turn at the bottom) 0.58-0.62.
SKIN_COUPLING_R = 0.95
REP_ENTER_DEG = 2.0  # leaving rest by this much starts a repetition (under the 3° smallest range)
# The shortest repetition: the ACSM position stand on resistance training (Med Sci Sports Exerc
# 41:687-708, 2009) recommends slow to moderate velocities for novices and rehabilitation,
# moderate being 1-2 s each way, so a moderate repetition takes at least 2 s. The floor is
# derived from it with a quarter's margin for a brisk repetition: a brief 3° shift of posture
# (1.3 s while the other leg lunges, on the simulator) is no repetition.
MIN_REP_S = 1.5


@dataclass
class Rep:
    """One repetition; the fields are the ``rep`` metrics (report and MQTT)."""

    exercise: str
    side: str
    index: int
    set: int
    rep_in_set: int
    start_s: float
    end_s: float
    duration_s: float
    hip_ir_max_deg: float
    hip_ir_rom_deg: float
    knee_flexion_max_deg: float | None = None
    knee_flexion_rom_deg: float | None = None

    def payload(self) -> dict:
        """JSON-ready metrics (rounded)."""
        return rounded(asdict(self))


class RepCounter:
    """Count one leg's repetitions from its hip IR (and knee flexion) as samples arrive.

    The resting value is never taken below neutral (the standing zero): an IR repetition turns
    the hip internally from there, and a hip coming back from external rotation to neutral
    (the front leg of a lunge) is no repetition.

    ``rate_hz``: sample rate; ``min_range_deg``: smallest IR excursion that counts as a
    repetition; ``set_gap_s``: a longer pause starts a new set; ``lunge_window_s``: how far
    before and after the IR excursion the knee is looked at. A repetition is returned once
    the knee angle is known up to ``lunge_window_s`` after it (at once without a knee angle).
    """

    def __init__(
        self,
        side: str,
        rate_hz: float,
        min_range_deg: float = 3.0,
        set_gap_s: float = 8.0,
        lunge_window_s: float = 3.0,
    ):
        self.side = side
        self.set_gap_s = set_gap_s
        self.lunge_window_s = lunge_window_s
        self.detector = ExcursionDetector(
            rate_hz,
            (1,),
            enter_deg=REP_ENTER_DEG,
            min_range_deg=min_range_deg,
            floor_deg=0.0,
            hold_deg=REP_ENTER_DEG / 2,
        )
        self._knee_t = np.empty(0)
        self._knee = np.empty(0)
        self._ir = np.empty(0)  # hip IR at the knee's samples (the skin-coupling check)
        self._pending: list[Excursion] = []
        self.reps: list[Rep] = []

    def update(
        self, time_s: np.ndarray, hip_ir_deg: np.ndarray, knee_flexion_deg: np.ndarray | None = None
    ) -> list[Rep]:
        """Feed samples in time order; returns the repetitions completed by them."""
        if knee_flexion_deg is not None:
            self._knee_t = np.concatenate([self._knee_t, time_s])
            self._knee = np.concatenate([self._knee, knee_flexion_deg])
            self._ir = np.concatenate([self._ir, hip_ir_deg])
        self._pending += self.detector.update(time_s, hip_ir_deg)
        known = self._knee_t[-1] if len(self._knee_t) else np.inf
        return self._release(lambda e: e.end_s + self.lunge_window_s <= known)

    def finish(self) -> list[Rep]:
        """Repetitions still waiting for knee samples at the end of the stream."""
        return self._release(lambda e: True)

    def _release(self, ready) -> list[Rep]:
        out = []
        while self._pending and ready(self._pending[0]):
            rep = self._rep(self._pending.pop(0))
            if rep is not None:
                out.append(rep)
        keep_from = (
            self._pending[0].start_s
            if self._pending
            else self._knee_t[-1]
            if len(self._knee_t)
            else 0.0
        ) - self.lunge_window_s
        keep = self._knee_t >= keep_from
        self._knee_t, self._knee, self._ir = self._knee_t[keep], self._knee[keep], self._ir[keep]
        return out

    def _rep(self, e: Excursion) -> Rep | None:
        """The repetition of excursion ``e``; None when shorter than :data:`MIN_REP_S`, when a
        lunge's IR only follows its knee (:data:`SKIN_COUPLING_R`: a knee bend), when
        the knee bent or straightened through it by more than LUNGE_KNEE_RANGE_DEG without
        being a lunge (sitting down, standing up), or, from the rest it left (the excursion
        detector's baseline second) to its end, by more than the hip rotated: a hip-IR
        activation turns the hip with the knee held, and a knee moving under the shank's
        lever moves the IR reading by itself (a fidgeting leg, whose true hip barely turns)."""
        start, end = e.start_s, e.end_s
        if end - start < MIN_REP_S:
            return None
        lunge = self._lunge(e)
        exercise = "hip-ir"
        if lunge is not None:
            if self._skin_coupled(*lunge):
                return None
            exercise, (start, end) = "lunge", lunge
        else:
            inside = (self._knee_t >= start) & (self._knee_t <= end) & np.isfinite(self._knee)
            if inside.any() and np.ptp(self._knee[inside]) > LUNGE_KNEE_RANGE_DEG:
                return None
            held = (self._knee_t >= start - self.detector.baseline_s) & (self._knee_t <= end)
            held &= np.isfinite(self._knee)
            if held.any() and np.ptp(self._knee[held]) > e.range_deg:
                return None
        previous = self.reps[-1] if self.reps else None
        new_set = previous is None or start - previous.end_s > self.set_gap_s
        set_no = 1 if previous is None else previous.set + new_set
        in_set = 1 if new_set else previous.rep_in_set + 1
        during = (self._knee_t >= start) & (self._knee_t <= end) & np.isfinite(self._knee)
        knee = self._knee[during]
        rep = Rep(
            exercise,
            self.side,
            len(self.reps) + 1,
            set_no,
            in_set,
            start,
            end,
            end - start,
            e.peak_deg,
            e.range_deg,
            float(knee.max()) if len(knee) else None,
            float(np.ptp(knee)) if len(knee) else None,
        )
        self.reps.append(rep)
        return rep

    def _skin_coupled(self, start: float, end: float) -> bool:
        """Hip IR following knee flexion through ``start``-``end`` (:data:`SKIN_COUPLING_R`)."""
        inside = (self._knee_t >= start) & (self._knee_t <= end)
        inside &= np.isfinite(self._knee) & np.isfinite(self._ir)
        knee, ir = self._knee[inside], self._ir[inside]
        if len(knee) < 3 or np.ptp(knee) == 0 or np.ptp(ir) == 0:
            return False
        return float(np.corrcoef(knee, ir)[0, 1]) > SKIN_COUPLING_R

    def _lunge(self, e: Excursion) -> tuple[float, float] | None:
        """(start, end) of the knee bend around the IR excursion when the knee straightens both
        within ``lunge_window_s`` before it and after it by more than LUNGE_KNEE_RANGE_DEG."""
        t, knee = self._knee_t, self._knee
        ok = np.isfinite(knee)
        before = ok & (t >= e.start_s - self.lunge_window_s) & (t <= e.start_s)
        after = ok & (t >= e.end_s) & (t <= e.end_s + self.lunge_window_s)
        if not before.any() or not after.any():
            return None
        at_peak = float(np.interp(e.peak_s, t[ok], knee[ok]))
        rest_before, rest_after = knee[before].min(), knee[after].min()
        if min(at_peak - rest_before, at_peak - rest_after) <= LUNGE_KNEE_RANGE_DEG:
            return None
        window = ok & (t >= e.start_s - self.lunge_window_s) & (t <= e.end_s + self.lunge_window_s)
        times, values = t[window], knee[window]
        peak = int(np.argmin(np.abs(times - e.peak_s)))
        rest = max(rest_before, rest_after)
        level = rest + 0.05 * (at_peak - rest)
        return crossing(times, values - level, peak, -1), crossing(times, values - level, peak, 1)


def rep_summary(reps: list[Rep]) -> dict:
    """Per leg: number of reps and sets, IR range and peak mean ± SD, per set the same."""
    out = {}
    for side in sorted({r.side for r in reps}):
        mine = [r for r in reps if r.side == side]
        sets = []
        for number in sorted({r.set for r in mine}):
            in_set = [r for r in mine if r.set == number]
            sets.append(
                {
                    "set": number,
                    "reps": len(in_set),
                    "start_s": in_set[0].start_s,
                    "end_s": in_set[-1].end_s,
                    **_stats(in_set),
                }
            )
        out[side] = {"reps": len(mine), "sets": len(sets), **_stats(mine), "per_set": sets}
    return rounded(out)


def _stats(reps: list[Rep]) -> dict:
    rom = np.array([r.hip_ir_rom_deg for r in reps])
    peak = np.array([r.hip_ir_max_deg for r in reps])
    duration = np.array([r.duration_s for r in reps])
    return {
        mean_key(HIP_IR_ROM): rom.mean(),
        sd_key(HIP_IR_ROM): sample_sd(rom),
        mean_key(HIP_IR_MAX): peak.mean(),
        sd_key(HIP_IR_MAX): sample_sd(peak),
        "duration_mean_s": duration.mean(),
    }
