"""Return-to-zero scoring: the hip IR error where the true hip rests near zero."""

from __future__ import annotations

import numpy as np
import pytest
from sim_helpers import make_rig

from hiprot.evaluation.angles import rest_errors
from hiprot.sim import simulate


def test_rest_errors_score_each_rest_span_of_each_side():
    sim = simulate(make_rig("walk-pauses", legs=("right", "left"), seed=2, duration_s=70))
    columns = {name: values + 2.0 for name, values in sim.truth_deg.items() if "hip_ir" in name}
    columns["left_hip_ir_deg"] = columns["left_hip_ir_deg"] - 5.0
    rests = rest_errors(sim.time_s, columns, sim)
    pauses = [e for e in sim.events if e.event == "stand_start"]
    assert len(pauses) == 2 and len(rests) == 2 * len(pauses)
    for rest in rests:
        assert rest.error_deg == pytest.approx(2.0 if rest.side == "right" else -3.0)
    assert {r.event for r in rests} == {"stand_start"}
    assert np.all([r.start_s in {p.time_s for p in pauses} for r in rests])


def test_the_walks_pauses_are_the_walk_pauses_scenarios_standing():
    """``walk`` with ``pauses`` and the ``walk-pauses`` scenario share one mechanism: each
    pause is marked stand_start/stand_end, the hip rests near zero there and the walk
    resumes facing the way it stopped (turns included)."""
    sim = simulate(make_rig("walk", seed=3, duration_s=80, pauses=2, rest_s=8.0, turn_every_m=5))
    starts = [e.time_s for e in sim.events if e.event == "stand_start"]
    ends = [e.time_s for e in sim.events if e.event == "stand_end"]
    assert len(starts) == len(ends) == 2 and all(b - a > 6 for a, b in zip(starts, ends))
    assert ends[-1] > 78.0, "the last pause ends the session"
    assert any(e.event == "turn_start" and e.time_s < starts[0] for e in sim.events)
    ir = sim.truth_deg["right_hip_ir_deg"]
    for start, end in zip(starts, ends):
        standing = (sim.time_s > start) & (sim.time_s < end)
        assert np.abs(ir[standing]).max() < 3.0, "the hip rests near zero in each pause"
