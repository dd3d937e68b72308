"""``hiprot analyze`` splits a session at its labelled segments: each is analysed as its own
activity in ``analysis/segments/<name>/``, and the before/after pairs are found from the labels."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from hiprot.analysis.outputs import read_report
from hiprot.csvio import read_angles_csv
from hiprot.recording.segments import SegmentLog

from .conftest import sim_rig, write_sim


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _analyze(session, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hiprot", "analyze", str(session), "--no-charts"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )


def test_each_segment_is_analysed_as_its_own_activity(tmp_path):
    session = write_sim(sim_rig("seated-ir", 31, "right", trials=4), tmp_path / "seated")
    whole = _analyze(session, tmp_path)
    assert whole.returncode == 0, whole.stderr
    trials = read_report(session / "analysis")["tests"]
    assert len(trials) == 4, "the scenario's four trials, found in the whole session"
    # a "before" segment around the first two trials, an "after" one from the third to the end
    split = (trials[1]["end_s"] + trials[2]["start_s"]) / 2
    clock = Clock()
    with SegmentLog(session, clock) as log:
        clock.now = trials[0]["start_s"] - 1.0
        labels = {"activity": "seated-test", "side": "right"}
        log.apply({"id": "a", "op": "start", "labels": {**labels, "phase": "before"}})
        clock.now = split
        log.apply({"id": "b", "op": "start", "labels": {**labels, "phase": "after"}})
    result = _analyze(session, tmp_path)
    assert result.returncode == 0, result.stderr
    index = json.loads((session / "analysis" / "segments.json").read_text())
    names = [s["name"] for s in index["segments"]]
    assert names == ["01-seated-test-right-before", "02-seated-test-right-after"]
    assert index["pairs"] == [{"before": names[0], "after": names[1]}]
    found = []
    for entry, (lo, hi) in zip(
        index["segments"], [(trials[0]["start_s"] - 1.0, split), (split, float("inf"))], strict=True
    ):
        report = read_report(session / "analysis" / entry["dir"])
        assert report["session"]["activity"] == "seated-test"
        assert report["segment"]["name"] == entry["name"] and entry["trials"] == 2
        assert all(lo <= t["start_s"] and t["end_s"] <= hi for t in report["tests"])
        found += report["tests"]
    # the same trials (their onsets found within a few samples of the whole session's: the
    # detector sees less of the rest before a trial that opens a segment)
    assert [t["start_s"] for t in found] == pytest.approx([t["start_s"] for t in trials], abs=0.05)
    assert [t["hip_ir_max_deg"] for t in found] == pytest.approx(
        [t["hip_ir_max_deg"] for t in trials], abs=0.5
    )
    assert read_report(session / "analysis")["segments"] == index["segments"]


def test_a_guided_sessions_exercise_segment_is_measured_as_an_exercise(tmp_path):
    """`hiprot simulate --scenario guided` labels the test, the exercises and the re-test as the
    dashboard does; the batch analysis measures each labelled stretch as its activity, as the
    recorder's live pipeline does: the working leg of the standing activations (hip and knee at
    90°) on the test reference. Unlabelled, the hinge's thigh frame read the reps about 10° off
    on this person (seed 2, the simulator's realistic defaults)."""
    session = tmp_path / "guided"
    made = subprocess.run(
        [sys.executable, "-m", "hiprot", "simulate", "--scenario", "guided", "--seed", "2"]
        + ["--out", str(session)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    result = _analyze(session, tmp_path)
    assert result.returncode == 0, result.stderr
    index = json.loads((session / "analysis" / "segments.json").read_text())
    names = [s["name"] for s in index["segments"]]
    assert names == ["01-seated-test-before-active", "02-exercise", "03-seated-test-after-active"]
    exercise = index["segments"][1]
    time_s, angles = read_angles_csv(session / "analysis" / "angles.csv")
    true_time_s, truth = read_angles_csv(session / "truth.csv")
    inside = (time_s >= exercise["start_s"]) & (time_s <= exercise["end_s"])
    true = np.interp(time_s[inside], true_time_s, truth["right_hip_ir_deg"])
    error = angles["right_hip_ir_deg"][inside] - true
    assert np.sqrt(np.mean(error**2)) < 3.0
    spans = read_report(session / "analysis")["angles"]["test_reference_s"]["right"]
    assert any(a < exercise["end_s"] and b > exercise["start_s"] for a, b in spans)
