"""The pipeline built on a thread beside the run loop emits exactly the angles of one built first,
and catches up with the chunks it kept a few per pass of the loop (never stalling it)."""

from __future__ import annotations

import threading

import numpy as np
from simulated import processed, target_rig

from hiprot.deferred_pipeline import CHUNKS_PER_PASS, DeferredPipeline
from hiprot.live_angles import Angles
from hiprot.live_angles import joined as one
from hiprot.pipeline import Pipeline
from hiprot.samples import split_chunk


def joined(parts: list[Angles]) -> Angles:
    """Emissions end to end (those compared here all carry the same columns)."""
    filled = [p for p in parts if len(p)]
    return Angles(
        np.concatenate([p.time_s for p in filled]),
        {k: np.concatenate([p.columns[k] for p in filled]) for k in filled[0].columns},
        {
            side: {k: np.concatenate([p.legs[side][k] for p in filled]) for k in leg}
            for side, leg in filled[0].legs.items()
        },
    )


HELD_S = 15.0  # the build waits this long in sample time: past calibration, into the angles
END_S = 20.0


def test_chunks_kept_while_the_pipeline_is_built_give_the_same_angles(monkeypatch):
    truth, _ = processed("walk", 2, duration_s=30.0)
    rig = target_rig("walk", 2, duration_s=30.0)
    chunks = [c for c in split_chunk(truth.samples, 0.05) if c["right_thigh"].time_s[-1] < END_S]
    held = [c for c in chunks if c["right_thigh"].time_s[-1] < HELD_S]

    pipeline = Pipeline(rig, activity="walk")
    first = [pipeline.process(c) for c in chunks] + [pipeline.finish()]
    expected = joined(first)
    emissions = [a.time_s for a in first if len(a)]
    assert any(len(a) and a.time_s[-1] < HELD_S for a in first), "angles while the build waits"

    release = threading.Event()
    build = DeferredPipeline._build
    monkeypatch.setattr(DeferredPipeline, "_build", lambda self: (release.wait(), build(self)))
    deferred = DeferredPipeline(rig, "walk")
    early = [deferred.process(c) for c in held]
    assert not any(len(a) for a in early)
    assert deferred.calibrated == {"right": False} and deferred.calibration is None
    release.set()
    deferred._thread.join(60)
    calls = []
    original = Pipeline.process

    def counted(self, chunk):
        calls[-1] += 1
        return original(self, chunk)

    monkeypatch.setattr(Pipeline, "process", counted)
    late = []
    for c in chunks[len(held) :]:
        calls.append(0)
        late.append(deferred.process(c))
    assert max(calls) == CHUNKS_PER_PASS, "kept chunks are caught up a few per pass"
    late += deferred.finish()
    got = joined(late)
    # the live metrics depend on how angles are cut into emissions: the same cuts, in order
    assert len([a for a in late if len(a)]) == len(emissions)
    for a, times in zip([a for a in late if len(a)], emissions, strict=True):
        np.testing.assert_array_equal(a.time_s, times)

    assert deferred.calibration is not None
    np.testing.assert_array_equal(got.time_s, expected.time_s)
    assert got.columns.keys() == expected.columns.keys()
    for name, values in expected.columns.items():
        np.testing.assert_array_equal(got.columns[name], values, err_msg=name)
    for side, leg in expected.legs.items():
        for name, values in leg.items():
            np.testing.assert_array_equal(got.legs[side][name], values, err_msg=name)
    # and every causal estimate, the kept chunks' ones too, once and in order
    expected_causal = one([a.causal for a in first if a.causal is not None])
    got_causal = one([a.causal for a in late if a.causal is not None])
    np.testing.assert_array_equal(got_causal.time_s, expected_causal.time_s)
    for name, values in expected_causal.columns.items():
        np.testing.assert_array_equal(got_causal.columns[name], values, err_msg=name)
