"""The pipeline built on a thread beside the run loop emits exactly the angles of one built first,
and catches up with the chunks it kept a few per pass of the loop (never stalling it)."""

from __future__ import annotations

import threading

import numpy as np
from simulated import processed, target_rig

from hiprot.deferred_pipeline import CHUNKS_PER_PASS, DeferredPipeline
from hiprot.live_angles import joined
from hiprot.pipeline import Pipeline
from hiprot.samples import split_chunk

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
    got = joined(late + [deferred.finish()])

    assert deferred.calibration is not None
    np.testing.assert_array_equal(got.time_s, expected.time_s)
    assert got.columns.keys() == expected.columns.keys()
    for name, values in expected.columns.items():
        np.testing.assert_array_equal(got.columns[name], values, err_msg=name)
    for side, leg in expected.legs.items():
        for name, values in leg.items():
            np.testing.assert_array_equal(got.legs[side][name], values, err_msg=name)
