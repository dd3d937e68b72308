"""Where the rotation-test reference holds, stretch by stretch of a session's labelled activity."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from hiprot import quat
from hiprot.activities import ActivityTimeline
from hiprot.kinematics.rotation_test import test_spans as spans_of

RATE_HZ = 100.0


def _tilted(deg: np.ndarray) -> np.ndarray:
    """Segments whose long axis (Y) lies ``deg`` from the vertical (world Z up)."""
    return quat.from_rotation(
        Rotation.from_euler("x", (90.0 - np.asarray(deg))[:, None], degrees=True)
    )


def test_a_timeline_gives_each_sample_its_activity_and_runs_of_one():
    time_s = np.arange(7.0)
    timeline = ActivityTimeline("walk", ((2.0, 4.0, "seated-test"), (3.5, 4.5, "exercise")))
    assert (
        list(timeline.at(time_s))
        == ["walk"] * 2 + ["seated-test", "seated-test"] + ["exercise"] + ["walk"] * 2
    )
    assert timeline.blocks(time_s) == [
        (0, 2, "walk"),
        (2, 4, "seated-test"),
        (4, 5, "exercise"),
        (5, 7, "walk"),
    ]
    assert ActivityTimeline.of("walk").blocks(time_s) == [(0, 7, "walk")]


def test_the_test_reference_holds_through_the_sitting_a_test_segment_lies_in():
    """Seated (thigh horizontal, shank hanging still) until standing up at 18 s: a segment
    labelled a seated test has the reference, and so has the rest of that sitting — before the
    segment started, after it stopped, in an exercise segment started while still seated — but
    a stretch labelled walking never; sitting down again is no test, and unlabelled sitting
    with no held swing (nothing says it is a test) neither."""
    time_s = np.arange(0.0, 30.0, 1 / RATE_HZ)
    thigh_deg = np.where((time_s >= 18.0) & (time_s < 19.0), 0.0, 90.0)
    thigh, shank = _tilted(thigh_deg), _tilted(np.zeros_like(time_s))
    labels = ((5.0, 10.0, "seated-test"), (10.01, 14.0, "exercise"), (14.01, 16.0, "walk"))
    held = spans_of(thigh, shank, RATE_HZ, ActivityTimeline(None, labels), time_s)
    assert held[time_s < 5.0].all(), "sitting before the segment started"
    assert held[(time_s >= 5.0) & (time_s <= 14.0)].all(), "the test, the exercise sitting"
    assert not held[(time_s > 14.005) & (time_s <= 16.0)].any(), "a labelled walk"
    assert held[(time_s > 16.005) & (time_s < 18.0)].all(), "still the same sitting"
    assert not held[time_s >= 18.0].any(), "standing up, then sitting down again"
    assert not spans_of(thigh, shank, RATE_HZ, None, time_s).any()
    in_a_walk = ActivityTimeline("walk", ((5.0, 10.0, "seated-test"),))
    held = spans_of(thigh, shank, RATE_HZ, in_a_walk, time_s)
    assert np.array_equal(held, (time_s >= 5.0) & (time_s <= 10.0)), "a walking session's test"
