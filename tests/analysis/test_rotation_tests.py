"""Rotation tests: trials and peaks, repeatability, before/after against the simulator's truth."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from hiprot.analysis.compare import ComparisonError, compare
from hiprot.analysis.live import MAX_HOLD_S, LiveAnalysis
from hiprot.analysis.report import build_report
from hiprot.analysis.rotation_tests import (
    MIN_DETECTABLE_DEG,
    Trial,
    TrialDetector,
    arc_deg,
    carried,
    detectable_change,
    trial_summary,
)
from hiprot.evaluation.analysis import run, true_test_peaks
from hiprot.evaluation.rotation_tests import true_trial_count

from .conftest import sim_rig


def test_prone_trials_found_despite_lying_down(prone):
    for side in ("left", "right"):
        trials = [t for t in prone.analysis.trials if t.side == side]
        truth = true_test_peaks(prone, side)
        assert len(trials) == len(truth["ir"]) == 2
        for trial, a, b in zip(
            trials, prone.true_events(side, "trial_start"), prone.true_events(side, "trial_end")
        ):
            assert trial.hip_ir_max_deg is not None and trial.hip_er_max_deg is not None
            assert a <= trial.start_s < trial.end_s <= b
        assert all(t.test == "prone-ir" for t in trials)


def test_trial_summary_best_mean_and_spread(prone):
    summary = trial_summary(prone.analysis.trials)
    for side in ("left", "right"):
        ir = [t.hip_ir_max_deg for t in prone.analysis.trials if t.side == side]
        assert summary[side]["ir_best_deg"] == pytest.approx(max(ir), abs=0.01)
        assert summary[side]["ir_mean_deg"] == pytest.approx(np.mean(ir), abs=0.01)
        assert summary[side]["ir_sd_deg"] == pytest.approx(np.std(ir, ddof=1), abs=0.01)


def test_detectable_change_from_the_trial_spread():
    assert detectable_change(2.0, 3, 2.0, 3) == pytest.approx(
        2.776 * 2.0 * np.sqrt(2 / 3), rel=1e-3
    )
    assert detectable_change(0.1, 3, 0.1, 3) == MIN_DETECTABLE_DEG
    assert detectable_change(None, 1, 2.0, 3) is None


@pytest.fixture(scope="module")
def assessments():
    """A seated test of the right hip at 15°, 40° and 40.5° of passive IR, sensors left on."""
    return {ir: run(sim_rig("seated-ir", 26, ir_max=ir)) for ir in (15.0, 40.0, 40.5)}


def change(before, after, key):
    result = compare(
        build_report(before.processed, before.analysis),
        build_report(after.processed, after.analysis),
    )
    (found,) = [c for c in result["changes"] if c["key"] == key]
    true = (
        true_test_peaks(after, "right")["ir" if key == "hip_ir_max_deg" else "er"].mean()
        - true_test_peaks(before, "right")["ir" if key == "hip_ir_max_deg" else "er"].mean()
    )
    return found, true


def test_before_after_change_within_2_deg_of_the_true_change(assessments):
    found, true = change(assessments[15.0], assessments[40.0], "hip_ir_max_deg")
    assert true > 20
    assert found["change_deg"] == pytest.approx(true, abs=2.0)
    assert found["verdict"] == "probable change"


def test_a_change_within_the_repeatability_is_no_detectable_change(assessments):
    found, true = change(assessments[40.0], assessments[40.5], "hip_ir_max_deg")
    assert abs(true) < found["detectable_change_deg"]
    assert found["verdict"] == "within measurement error"
    unchanged, true_er = change(assessments[15.0], assessments[40.0], "hip_er_max_deg")
    assert abs(true_er) < 0.5
    assert unchanged["verdict"] == "within measurement error"


def test_only_sessions_of_the_same_kind_compare(assessments, exercise):
    seated = assessments[40.0]
    with pytest.raises(ComparisonError, match="same kind"):
        compare(
            build_report(seated.processed, seated.analysis),
            build_report(exercise.processed, exercise.analysis),
        )


def swings(*peaks, rate=100.0):
    """Rest, then a raised-cosine swing to each peak (IR positive, ER negative) with rests."""
    pieces = [np.zeros(int(rate))]
    for p in peaks:
        pieces += [
            p * 0.5 * (1 - np.cos(np.linspace(0, 2 * np.pi, int(4 * rate)))),
            np.zeros(int(rate)),
        ]
    angle = np.concatenate(pieces)
    return np.arange(len(angle)) / rate, angle


def test_trials_pair_an_ir_and_an_er_swing_in_either_order():
    t, angle = swings(30, -35, -33, 31, 29)
    detector = TrialDetector("seated-ir", "left", 100.0)
    trials = detector.update(t, angle) + detector.finish()
    assert [(round(x.hip_ir_max_deg or 0), round(x.hip_er_max_deg or 0)) for x in trials] == [
        (30, 35),
        (31, 33),
        (29, 0),
    ]
    # a trial without its ER swing reads 0° of ER (the start), not null: a stiff hip's 0° is a value
    assert trials[-1].hip_er_max_deg == pytest.approx(0, abs=0.5)
    assert [x.trial for x in trials] == [1, 2, 3]


def test_a_swing_while_the_knee_bends_is_getting_into_position():
    t, angle = swings(-8, 30, -30)
    knee = np.interp(t, [0, 1.5, 4.0], [0, 0, 90])  # the knee bends during the first swing
    detector = TrialDetector("prone-ir", "right", 100.0)
    trials = detector.update(t, angle, knee) + detector.finish()
    assert len(trials) == 1
    assert round(trials[0].hip_ir_max_deg) == 30 and round(trials[0].hip_er_max_deg) == 30


def _stiff_trial(rate=100.0):
    """A still start, an inward swing of 1.8° (under the 2° that starts a trial) and back,
    then a 30° outward swing and back; gravity angle = hip IR, in degrees."""
    t = np.arange(0, 30, 1 / rate)
    ir = np.zeros_like(t)
    ir += 1.8 * np.clip(1 - np.abs(t - 6.0) / 1.5, 0, None)  # 4.5-7.5 s
    ir -= 30.0 * np.clip(1 - np.abs(t - 12.0) / 2.0, 0, None)  # 10-14 s
    return t, ir


def test_a_swing_too_small_to_start_a_trial_counts_in_it():
    """The stiff hip's 1.8° of IR before the trial's departure is its IR, and the trial starts
    where the leg left the start; in any chunking."""
    t, ir = _stiff_trial()
    whole = TrialDetector("seated-ir", "right", 100.0)
    found = whole.update(t, ir) + whole.finish()
    assert len(found) == 1
    assert found[0].hip_ir_max_deg == pytest.approx(1.8, abs=0.05)
    assert found[0].hip_er_max_deg == pytest.approx(30.0, abs=0.05)
    assert 4.5 <= found[0].start_s <= 5.5
    chunked, parts = TrialDetector("seated-ir", "right", 100.0), []
    for k in range(0, len(t), 7):
        parts += chunked.update(t[k : k + 7], ir[k : k + 7])
    parts += chunked.finish()
    assert [(p.start_s, p.hip_ir_max_deg) for p in parts] == [
        (f.start_s, f.hip_ir_max_deg) for f in found
    ]


def test_a_trial_s_own_return_is_no_swing_of_the_next():
    """Two trials one after the other: the second's figures and start come from its own
    samples, not from the first's return to the start."""
    t, ir = _stiff_trial()
    second = ir.copy()
    second -= 20.0 * np.clip(1 - np.abs(t - 22.0) / 2.0, 0, None)  # a second ER swing
    detector = TrialDetector("seated-ir", "right", 100.0)
    found = detector.update(t, second) + detector.finish()
    assert len(found) == 2
    assert found[1].hip_ir_max_deg == pytest.approx(0.0, abs=0.2)
    assert found[1].start_s > found[0].end_s


def test_the_resting_leg_carried_along_by_the_tested_one_has_no_trials():
    """Each leg tested in turn with both legs worn, on people (realistic): the pelvis moves
    with the tested hip and carries the resting leg's shank a few degrees (a 9-10° arc beside
    the tested leg's 85-90°) — no trial of that leg, whose own trials are numbered from 1."""
    scored = run(sim_rig("seated-ir", 1, "both", False, realism="realistic", trials=2))
    for side in ("left", "right"):
        found = [t for t in scored.analysis.trials if t.side == side]
        assert len(found) == true_trial_count(scored, side) == 2, [arc_deg(t) for t in found]
        assert [t.trial for t in found] == [1, 2]
        assert all(arc_deg(t) > 60 for t in found)


def test_both_legs_tested_together_keep_both_a_stiff_hips_too():
    def trial(side: str, start: float, ir: float, er: float) -> Trial:
        return Trial("prone-ir", side, 1, start, start + 15.0, ir, er, None, None)

    right = trial("right", 10.0, 40.0, 40.0)
    assert not carried(trial("left", 10.5, 5.0, 15.0), [right])  # a stiff hip: 20° of 80°
    assert carried(trial("left", 10.5, 4.5, 5.0), [right])  # carried along: 9.5° of 80°
    assert not carried(trial("left", 30.0, 4.5, 5.0), [right])  # at another time: its own
    assert not carried(trial("right", 10.5, 4.5, 5.0), [right])  # the same leg: not this rule


def test_a_trial_waits_for_the_other_legs_at_most_max_hold_s():
    """Live, a trial waits while the other leg's trial under way began before it ended — but
    not for good: a resting leg that never settles (or whose columns stop) holds it
    ``MAX_HOLD_S`` at most."""
    live = LiveAnalysis(("left", "right"), 100.0, activity="seated-test")
    live.testers["left"]._active = [SimpleNamespace(t=5.0)]  # under way since 5 s, never ends
    trial = Trial("seated-ir", "right", 1, 10.0, 25.0, 40.0, 40.0, None, None)
    live._held = [trial]
    live._now = 25.0 + MAX_HOLD_S - 1.0
    assert live._released(final=False) == [] and live._held == [trial]
    live._now = 25.0 + MAX_HOLD_S + 1.0
    assert [t.side for t in live._released(final=False)] == ["right"] and live._held == []
