"""segments.jsonl: commands apply once, durably, whole or not at all; segments and before/after
pairs follow from the lines."""

from __future__ import annotations

import json

import pytest

from hiprot.recording.segments import (
    SEGMENTS_FILE,
    CommandRejected,
    SegmentLog,
    before_after_pairs,
    read_timeline,
    validate,
)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def lines(directory) -> list[dict]:
    return [json.loads(x) for x in (directory / SEGMENTS_FILE).read_text().splitlines()]


def start(cid, **labels) -> dict:
    return {"id": cid, "op": "start", "labels": labels}


def test_start_stop_label_and_mark_make_segments(tmp_path):
    clock = Clock()
    with SegmentLog(tmp_path, clock) as log:
        clock.now = 5.0
        assert log.apply({"id": "m", "op": "mark", "note": "forgot to start"})["status"] == "ok"
        clock.now = 12.0
        started = log.apply(start("a", activity="seated-test", side="right", phase="before"))
        assert started["status"] == "ok" and started["segment"]["end_s"] is None
        clock.now = 40.0
        assert log.apply({"id": "b", "op": "stop"})["segment"]["end_s"] == 40.0
        clock.now = 60.0
        back = log.apply({"id": "c", "op": "start", "labels": {}, "from_mark": "m"})
        assert (
            back["segment"]["start_s"] == 5.0
        )  # a forgotten start: the segment begins at the mark
        clock.now = 61.0
        log.apply({"id": "d", "op": "label", "labels": {"activity": "exercise", "mode": "active"}})
    timeline = read_timeline(tmp_path)
    first, second = timeline.segments
    assert (first.start_s, first.end_s, first.name) == (12.0, 40.0, "01-seated-test-right-before")
    assert (second.start_s, second.end_s) == (5.0, None)
    assert second.labels == {"activity": "exercise", "mode": "active"}
    assert [line["id"] for line in lines(tmp_path)] == ["m", "a", "b", "c", "d"]


def test_a_repeated_command_changes_nothing(tmp_path):
    clock = Clock()
    with SegmentLog(tmp_path, clock) as log:
        first = log.apply(start("a", activity="walk"))
        clock.now = 3.0
        again = log.apply(start("a", activity="walk"))
    assert first["status"] == "ok" and again["status"] == "duplicate"
    assert again["segment"] == first["segment"]
    assert len(lines(tmp_path)) == 1
    with SegmentLog(tmp_path, clock) as log:  # also across a restart of the recorder
        assert log.apply(start("a", activity="walk"))["status"] == "duplicate"
    assert len(lines(tmp_path)) == 1


@pytest.mark.parametrize(
    "command, reason",
    [
        ({"id": "x", "op": "stop"}, "no segment is open"),
        ({"id": "x", "op": "label", "labels": {"side": "left"}}, "no segment to label"),
        (start("x", activity="juggling"), "must be one of"),
        (start("x", colour="red"), "unknown label"),
        ({"id": "x", "op": "start", "from_mark": "nope"}, "no marker"),
        ({"id": "", "op": "mark"}, "'id'"),
        ({"id": "x", "op": "explode"}, "'op'"),
    ],
)
def test_a_rejected_command_writes_nothing(tmp_path, command, reason):
    with SegmentLog(tmp_path, Clock()) as log:
        result = log.apply(command)
    assert result["status"] == "rejected" and reason in result["reason"]
    assert (tmp_path / SEGMENTS_FILE).read_bytes() == b""


def test_a_torn_last_line_is_skipped_and_the_next_command_stays_whole(tmp_path):
    """What a recorder killed in mid-write leaves: the command never half applies."""
    clock = Clock()
    with SegmentLog(tmp_path, clock) as log:
        log.apply(start("a", activity="walk"))
    with open(tmp_path / SEGMENTS_FILE, "ab") as f:
        f.write(b'{"id":"b","op":"stop","time_')
    timeline = read_timeline(tmp_path)
    assert timeline.open is not None and "torn last line" in timeline.skipped[0]
    clock.now = 9.0
    with SegmentLog(tmp_path, clock) as log:
        assert log.apply({"id": "b", "op": "stop"})["status"] == "ok"  # it never applied
    timeline = read_timeline(tmp_path)
    assert timeline.segments[0].end_s == 9.0 and timeline.open is None
    assert len(timeline.skipped) == 1 and timeline.skipped[0].startswith("line 2")


def test_close_twice_does_nothing_and_a_closed_log_applies_nothing(tmp_path):
    log = SegmentLog(tmp_path, Clock())
    log.close()
    log.close()
    with pytest.raises(OSError):
        log.apply(start("a"))


def test_before_after_pairs_match_their_labels(tmp_path):
    clock = Clock()
    with SegmentLog(tmp_path, clock) as log:
        for i, (side, phase) in enumerate(
            [("right", "before"), ("left", "before"), ("right", "after"), ("left", "after")]
        ):
            clock.now = 10.0 * i
            log.apply(start(f"s{i}", activity="seated-test", side=side, phase=phase))
    pairs = before_after_pairs(read_timeline(tmp_path).segments)
    assert [(b.index, a.index) for b, a in pairs] == [(1, 3), (2, 4)]


def test_validate_keeps_only_the_line_fields():
    assert validate({"id": "a", "op": "mark", "note": "x", "device": "d"}) == {
        "id": "a",
        "op": "mark",
        "note": "x",
    }
    with pytest.raises(CommandRejected, match="takes no labels"):
        validate({"id": "a", "op": "stop", "labels": {"side": "left"}})
