"""``hiprot analyze`` splits a session at its labelled segments: each is analysed as its own
activity in ``analysis/segments/<name>/``, and the before/after pairs are found from the labels."""

from __future__ import annotations

import json
import shutil
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


def _hiprot(*args, cwd=None) -> subprocess.CompletedProcess:
    """``hiprot ARGS`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "hiprot", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )


def _analyze(session, tmp_path) -> subprocess.CompletedProcess:
    return _hiprot("analyze", session, "--no-charts", cwd=tmp_path)


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
    [pair] = index["pairs"]
    assert (pair["before"], pair["after"]) == (names[0], names[1])
    # the same hip before and after: compared as --compare compares two sessions
    assert {c["key"] for c in pair["changes"]} == {"hip_ir_max_deg", "hip_er_max_deg"}
    assert all(c["verdict"] == "within measurement error" for c in pair["changes"])
    assert all(c["mdc95_deg"] == 5.4 and c["before"]["n"] == 2 for c in pair["changes"])
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
    whole_report = read_report(session / "analysis")
    assert whole_report["segments"] == index["segments"]
    mixed = [w for w in whole_report["warnings"] if "each segment's own analysis" in w]
    assert mixed == [
        "the whole session was analysed as seated-test (session.json), but its segments are "
        "labelled seated-test before and after: each segment's own analysis is the one to read"
    ]
    # the terminal summary gives the segments' figures, not the whole session's mixed ones
    assert whole_report["segments_mixed"] is True
    assert "right: 4 trials, peak IR best" in whole.stdout
    assert "  right: 4 trials" not in result.stdout
    assert "whole session: mixes what its segments keep apart" in result.stdout
    # each segment's own figures, under its line
    assert result.stdout.count("    right: 2 trials, peak IR best ") == 2
    assert all(entry["summaries"]["tests"]["right"]["trials"] == 2 for entry in index["segments"])


def _simulate_guided(path, *options) -> None:
    made = _hiprot("simulate", "--scenario", "guided", "--seed", "2", "--out", path, *options)
    assert made.returncode == 0, made.stderr


@pytest.fixture(scope="module")
def guided(tmp_path_factory):
    """Two guided sessions of one person a week apart (`hiprot simulate --scenario guided`)."""
    directory = tmp_path_factory.mktemp("guided")
    _simulate_guided(directory / "week1", "--start-utc", "2026-11-02T09:00:00")
    _simulate_guided(directory / "week2", "--start-utc", "2026-11-09T09:00:00", "--session", "2")
    return directory


def _copy(guided, tmp_path):
    """The guided sessions, as simulated, in a directory of this test's own."""
    sessions = tmp_path / "sessions"
    shutil.copytree(guided, sessions, ignore=shutil.ignore_patterns("analysis", "history"))
    return sessions


def test_a_guided_sessions_exercise_segment_is_measured_as_an_exercise(guided, tmp_path):
    """`hiprot simulate --scenario guided` labels the test, the exercises and the re-test as the
    dashboard does; the batch analysis measures each labelled stretch as its activity, as the
    recorder's live pipeline does: the working leg of the standing activations (hip and knee at
    90°) on the test reference. Unlabelled, the hinge's thigh frame read the reps about 10° off
    on this person (seed 2, the simulator's realistic defaults)."""
    session = _copy(guided, tmp_path) / "week1"
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
    report = read_report(session / "analysis")
    spans = report["angles"]["test_reference_s"]["right"]
    assert any(a < exercise["end_s"] and b > exercise["start_s"] for a, b in spans)
    assert any("each segment's own analysis is the one to read" in w for w in report["warnings"])


def test_the_history_of_guided_sessions_follows_their_test_segments(guided, tmp_path):
    """Each guided session enters the history as its labelled segments, not as one activity
    (analysed whole it is inferred a seated test and its exercises' reps count as trials):
    the tests before and after the exercises are series of their own. A session with no
    samples beside them is skipped and counted as one session."""
    sessions = _copy(guided, tmp_path)
    (sessions / "empty").mkdir()
    (sessions / "empty" / "session.json").write_text("{}")
    result = _hiprot("analyze", "--history", sessions, "--no-charts", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 of 3 sessions skipped" in result.stderr
    history = json.loads((sessions / "history" / "history.json").read_text())
    names = [s["name"] for s in history["sessions"]]
    parts = ["01-seated-test-before-active", "02-exercise", "03-seated-test-after-active"]
    assert names == [f"{week}/{part}" for week in ("week1", "week2") for part in parts]
    tests = [s for s in history["series"] if s["activity"] == "seated-test"]
    for phase, part in (("before", parts[0]), ("after", parts[2])):
        series = [s for s in tests if s["reference"].endswith(f"{phase} the exercises")]
        assert {s["key"] for s in series} == {"hip_ir_max_deg", "hip_er_max_deg"}
        for s in series:
            assert [p["session"] for p in s["points"]] == [f"week1/{part}", f"week2/{part}"]
            assert all(p["n"] == 3 for p in s["points"]), "the test's three trials, no reps"


def test_a_history_never_reuses_results_its_segments_no_longer_match(guided, tmp_path):
    """A session whose segment results were removed, or whose segments file changed, is
    analysed again, not taken from the cache: its entries follow what is on disk now."""
    sessions, history_dir = _copy(guided, tmp_path), tmp_path / "history"

    def run_history() -> tuple[subprocess.CompletedProcess, list[str]]:
        result = _hiprot("analyze", "--history", sessions, "--no-charts", "--out", history_dir)
        assert result.returncode == 0, result.stderr
        names = [
            s["name"] for s in json.loads((history_dir / "history.json").read_text())["sessions"]
        ]
        return result, names

    run_history()
    shutil.rmtree(history_dir / "week2" / "segments" / "02-exercise")
    result, names = run_history()
    assert "reused the results of 1 unchanged sessions" in result.stdout
    assert "week2/02-exercise" in names
    (history_dir / "week1" / "segments" / "01-seated-test-before-active" / "tests.csv").unlink()
    result, names = run_history()
    assert "reused the results of 1 unchanged sessions" in result.stdout, "a damaged result"
    assert "week1/01-seated-test-before-active" in names
    (sessions / "week2" / "segments.jsonl").unlink()
    result, names = run_history()
    assert "reused the results of 1 unchanged sessions" in result.stdout
    assert [n for n in names if n.startswith("week2")] == ["week2"], "no labels: the whole session"


def test_an_unreadable_segments_file_leaves_the_session_analysed_without_its_segments(
    guided, tmp_path
):
    session = _copy(guided, tmp_path) / "week1"
    (session / "segments.jsonl").unlink()
    (session / "segments.jsonl").mkdir()  # not a file: cannot be read
    result = _analyze(session, tmp_path)
    assert result.returncode == 0, result.stderr
    report = read_report(session / "analysis")
    assert "segments" not in report
    assert any("analysed without its segments" in w for w in report["warnings"])
    assert report["recording"]["recovery"]["complete"], "the samples were all read"
