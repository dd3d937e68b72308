"""Exercise repetitions: exact counts on the simulator, sets, lunges, and the counter itself."""

from __future__ import annotations

import numpy as np
import pytest

from hiprot.analysis import reps
from hiprot.analysis.reps import RepCounter, rep_summary


@pytest.mark.parametrize("name, kind, per_set", [("exercise", "hip-ir", 5), ("lunge", "lunge", 4)])
def test_rep_count_exact_in_sets(name, kind, per_set, request):
    scored = request.getfixturevalue(name)
    for side in ("left", "right"):
        reps = [r for r in scored.analysis.reps if r.side == side]
        assert len(reps) == len(scored.true_events(side, "rep_start")) == 2 * per_set
        assert [r.set for r in reps] == [1] * per_set + [2] * per_set
        assert [r.rep_in_set for r in reps] == list(range(1, per_set + 1)) * 2
        assert {r.exercise for r in reps} == {kind}


def test_reps_line_up_with_the_true_repetitions(exercise, lunge):
    for scored in (exercise, lunge):
        for side in ("left", "right"):
            reps = [r for r in scored.analysis.reps if r.side == side]
            for rep, a, b in zip(
                reps, scored.true_events(side, "rep_start"), scored.true_events(side, "rep_end")
            ):
                assert a <= rep.start_s < rep.end_s <= b  # inside the true repetition
                assert rep.duration_s > 0.7 * (b - a)


def test_rep_summary_per_leg_and_set(exercise):
    summary = rep_summary(exercise.analysis.reps)
    for side in ("left", "right"):
        reps = [r for r in exercise.analysis.reps if r.side == side]
        assert summary[side]["reps"] == 10 and summary[side]["sets"] == 2
        assert [s["reps"] for s in summary[side]["per_set"]] == [5, 5]
        assert summary[side]["hip_ir_rom_mean_deg"] == pytest.approx(
            np.mean([r.hip_ir_rom_deg for r in reps]), abs=0.01
        )


def rep_wave(ranges, rate=100.0, rest_s=1.0, move_s=1.0, gap_after=None):
    """Rest, then one raised-cosine excursion per range with rests between (and a long pause
    after the rep numbered ``gap_after``)."""
    pieces = [np.zeros(int(rest_s * rate))]
    for k, r in enumerate(ranges):
        pieces.append(r * 0.5 * (1 - np.cos(np.linspace(0, 2 * np.pi, int(2 * move_s * rate)))))
        pieces.append(np.zeros(int((12.0 if gap_after == k else rest_s) * rate)))
    ir = np.concatenate(pieces)
    return np.arange(len(ir)) / rate, ir


def test_counter_counts_excursions_above_its_minimum_in_any_chunking():
    t, ir = rep_wave([20, 3, 25, 15], gap_after=1)
    whole = RepCounter("right", 100.0)
    reps = whole.update(t, ir) + whole.finish()
    assert [round(r.hip_ir_max_deg) for r in reps] == [20, 25, 15]  # the 3° wiggle is no rep
    assert [r.set for r in reps] == [1, 2, 2]
    assert reps[0].hip_ir_rom_deg == pytest.approx(20.0, abs=0.1)
    assert reps[0].duration_s == pytest.approx(
        2 - 2 * np.arccos(1 - 2 * 0.05) / (2 * np.pi) * 2, abs=0.05
    )
    chunked = RepCounter("right", 100.0)
    pieces = [r for i in range(0, len(t), 3) for r in chunked.update(t[i : i + 3], ir[i : i + 3])]
    assert [r.payload() for r in pieces + chunked.finish()] == [r.payload() for r in reps]


def test_a_knee_bend_whose_ir_only_follows_the_knee_is_no_lunge(monkeypatch):
    """The thigh module's skin twists with knee flexion: a knee bend reads a little IR in step
    with it (r = 1), which is no rotation; a lunge's turn at the bottom is one."""
    t = np.arange(0.0, 10.0, 0.01)
    bend = np.interp(t, [0, 2, 3.5, 5, 10], [0, 0, 70, 0, 0])
    counter = RepCounter("right", 100.0)
    assert counter.update(t, 0.1 * bend, bend) + counter.finish() == []
    monkeypatch.setattr(reps, "SKIN_COUPLING_R", 1.01)  # the rule is what refuses it
    counter = RepCounter("right", 100.0)
    assert [r.exercise for r in counter.update(t, 0.1 * bend, bend) + counter.finish()] == ["lunge"]
    monkeypatch.undo()
    lunge = np.interp(t, [0, 2, 3, 6, 7, 10], [0, 0, 80, 80, 0, 0])
    turn = np.interp(t, [0, 3.5, 4.5, 5.0, 5.8, 10], [0, 0, 20, 20, 0, 0])
    counter = RepCounter("right", 100.0)
    (rep,) = counter.update(t, 0.1 * lunge + turn, lunge) + counter.finish()
    assert rep.exercise == "lunge"


def test_counter_recognises_a_lunge_by_the_knee():
    t, ir = rep_wave([20], rest_s=4.0)
    knee = np.interp(t, [0, 2, 3, 5, 6, 9], [0, 0, 90, 90, 0, 0])  # bends before, straightens after
    counter = RepCounter("right", 100.0)
    (rep,) = counter.update(t, ir, knee) + counter.finish()
    assert rep.exercise == "lunge"
    assert rep.start_s == pytest.approx(2.0 + 0.05, abs=0.02) and rep.end_s == pytest.approx(
        6.0 - 0.05, abs=0.02
    )
    assert rep.knee_flexion_max_deg == pytest.approx(90.0)
