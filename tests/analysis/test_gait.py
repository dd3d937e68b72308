"""Gait: heel strikes against the simulator's truth, strides and their metrics, summaries."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hiprot import processing
from hiprot.analysis.live import LiveAnalysis
from hiprot.analysis.report import build_report, tables, write_table
from hiprot.analysis.session import analysis_inputs, analyze_session
from hiprot.analysis.strides import (
    CURVE_POINTS,
    INCLINATION,
    StrideSegmenter,
    gait_summary,
    stance_warnings,
)
from hiprot.evaluation.analysis import match_events, stride_peak_errors
from hiprot.processing import process_session
from hiprot.recording import Session


def heel_strikes(scored, side):
    leg = scored.processed.angles.legs[side]
    return leg.events.times(scored.processed.angles.time_s)["heel_strike"]


@pytest.mark.parametrize("walk", ["walk_with_pelvis", "walk_without_pelvis"])
def test_heel_strikes_within_20_ms_of_truth_and_none_false(walk, request):
    scored = request.getfixturevalue(walk)
    for side in scored.processed.session.rig.sides:
        found = match_events(heel_strikes(scored, side), scored.true_events(side, "heel_strike"))
        within = np.sum(np.abs(found["errors_s"]) <= 0.020)
        assert found["true"] > 40
        assert within >= 0.98 * found["true"], (side, np.round(found["errors_s"] * 1000))
        assert found["false"] == 0


def test_stride_timing_without_joint_angles(walk_without_pelvis, tmp_path, monkeypatch):
    """Cut the standing phase off and let calibrating from walking find nothing either (as
    in a walk too short or too irregular for it): calibration fails, the shank still times
    every stride."""
    monkeypatch.setattr(processing, "walk_window", lambda rig, grid: None)
    scored = walk_without_pelvis
    heel = scored.true_events("right", "heel_strike")
    samples = {
        name: s[(s.time_s > heel[2] - 0.3) & (s.time_s < heel[-3] + 0.3)]
        for name, s in scored.sim.samples.items()
    }
    session = Session(Path("walk-no-standing"), scored.processed.rig, {}, samples)
    processed = process_session(session)
    assert processed.angles is None
    analysis = analyze_session(processed)
    assert analysis.activity == "walk"
    starts = [s.start_s for s in analysis.strides]
    found = match_events(starts, heel)
    assert len(starts) >= len(heel) - 6 and found["false"] == 0
    assert np.all(np.abs(found["errors_s"]) <= 0.020)
    assert all(
        s.hip_ir_max_deg is None and s.knee_flexion_max_deg is None for s in analysis.strides
    )
    assert all(50 < s.stance_percent < 65 for s in analysis.strides if not s.turning)
    assert any("stride timing only" in w for w in analysis.warnings)
    written = tables(analysis)
    assert "strides.csv" in written
    write_table(tmp_path / "strides.csv", "strides.csv", written["strides.csv"])
    rows = list(csv.DictReader(open(tmp_path / "strides.csv")))
    assert len(rows) == len(analysis.strides)
    assert all(
        float(r["stride_time_s"]) > 0.6 and float(r["cadence_steps_per_min"]) > 0 for r in rows
    )


def test_implausible_stance_flagged():
    t, ir, heel, toe = synthetic_walk()
    plausible = StrideSegmenter("right").update(t, {"hip_ir_deg": ir}, heel, toe)
    early = StrideSegmenter("left").update(t, {"hip_ir_deg": ir}, heel, heel[:-1] + 0.2)
    summary = gait_summary(plausible + early)["legs"]
    assert summary["right"]["stance_plausible"] and not summary["left"]["stance_plausible"]
    assert summary["left"]["stance_median_percent"] == pytest.approx(20.0)
    warnings = stance_warnings(plausible + early)
    assert len(warnings) == 1 and warnings[0].startswith("left leg: median stance 20 %")


def test_every_true_stride_found_and_turns_marked(walk_with_pelvis):
    scored = walk_with_pelvis
    turns = list(
        zip(scored.true_events("both", "turn_start"), scored.true_events("both", "turn_end"))
    )
    assert turns
    for side in ("left", "right"):
        strides = [s for s in scored.analysis.strides if s.side == side]
        assert len(strides) >= len(scored.true_events(side, "heel_strike")) - 2
        for s in strides:
            in_turn = any(a < s.end_s and b > s.start_s for a, b in turns)
            assert in_turn or not s.turning, f"straight stride at {s.start_s:.1f} s marked turning"
        assert sum(s.turning for s in strides) >= len(turns)


def test_stride_metrics_match_the_true_angles(walk_with_pelvis):
    """The analysis alone (detected events, true angles): per-stride peaks within 0.5°."""
    scored = walk_with_pelvis
    _, _, events = analysis_inputs(scored.processed)
    live = LiveAnalysis(("left", "right"), 200.0, "walk")
    live.update(scored.sim.time_s, scored.sim.truth_deg, events)
    for side in ("left", "right"):
        truth, t = scored.sim.truth_deg[f"{side}_hip_ir_deg"], scored.sim.time_s
        strides = [s for s in live.strides if s.side == side]
        assert len(strides) > 40
        for s in strides:
            inside = (t >= s.start_s) & (t <= s.end_s)
            assert abs(s.hip_ir_max_deg - truth[inside].max()) < 0.5
            assert abs(s.hip_er_max_deg + truth[inside].min()) < 0.5
            assert abs(s.hip_ir_at_heel_strike_deg - np.interp(s.start_s, t, truth)) < 0.5


def test_per_stride_peak_ir_within_3_deg_of_truth_with_a_pelvis_sensor(walk_with_pelvis):
    for side in ("left", "right"):
        errors = stride_peak_errors(walk_with_pelvis, side)
        assert len(errors) > 30
        assert np.all(np.abs(errors) <= 3.0), np.round(errors, 1)


def test_gait_summary_over_straight_strides_with_asymmetry(walk_with_pelvis):
    strides = walk_with_pelvis.analysis.strides
    summary = gait_summary(strides)
    for side in ("left", "right"):
        leg = summary["legs"][side]
        straight = [s for s in strides if s.side == side and not s.turning]
        assert leg["straight_strides"] == len(straight)
        assert leg["stride_time_s"]["mean"] == pytest.approx(
            np.mean([s.stride_time_s for s in straight]), abs=1e-3
        )
        assert 100 < leg["cadence_steps_per_min"]["mean"] < 120  # the simulator walks at 110
        assert 0 < leg["stride_time_cv_percent"] < 5
        assert len(leg["curves"]["hip_ir_mean_deg"]) == CURVE_POINTS
    asym = summary["asymmetry"]["hip_ir_rom_deg"]
    rv, lv = (summary["legs"][s]["hip_ir_rom_deg"]["mean"] for s in ("right", "left"))
    assert asym["right_minus_left"] == pytest.approx(rv - lv, abs=0.02)
    assert asym["symmetry_index_percent"] == pytest.approx(
        100 * (rv - lv) / ((rv + lv) / 2), abs=0.1
    )


def test_leg_cycles_with_the_thigh_flexed_throughout_are_not_strides():
    """Pedalling seated swings the shank once a cycle like a stride, but the thigh stays
    40-100° from the vertical; walking passes it within 30° every stride."""
    t, ir, heel, toe = synthetic_walk()
    phase = 2 * np.pi * t
    for low, strides in ((40.0, 0), (0.0, 5)):
        segmenter = StrideSegmenter("right")
        inclination = low + 30.0 * (1 - np.cos(phase))  # low ... low + 60°
        found = segmenter.update(t, {"hip_ir_deg": ir, INCLINATION: inclination}, heel, toe)
        assert len(found) == strides and segmenter.not_walking == 5 - strides


def synthetic_walk(stride_s=1.0, strides=6, rate=100.0):
    """A hip IR wave with one cycle per stride: +8° at 20 %, −6° at 70 %; toe off at 60 %."""
    t = np.arange(0, stride_s * strides, 1 / rate)
    phase = (t / stride_s) % 1.0
    ir = np.interp(phase, [0, 0.2, 0.7, 1.0], [0, 8, -6, 0])
    heel = np.arange(strides + 1) * stride_s
    toe = heel[:-1] + 0.6 * stride_s
    return t, ir, heel, toe


def test_stride_metrics_on_a_known_wave_in_any_chunking():
    t, ir, heel, toe = synthetic_walk()
    whole = StrideSegmenter("right").update(t, {"hip_ir_deg": ir}, heel, toe)
    assert len(whole) == 5  # the last heel strike lies past the last sample
    s = whole[0]
    assert (s.start_s, s.end_s, s.stride_time_s) == (0.0, 1.0, 1.0)
    assert s.hip_ir_max_deg == pytest.approx(8.0) and s.hip_er_max_deg == pytest.approx(6.0)
    assert s.hip_ir_rom_deg == pytest.approx(14.0)
    assert s.stance_percent == pytest.approx(60.0) and s.cadence_steps_per_min == pytest.approx(
        120.0
    )
    at_toe_off = 8 - 14 * (0.6 - 0.2) / 0.5  # on the way from +8 down to -6
    assert s.hip_ir_rom_stance_deg == pytest.approx(8 - at_toe_off, abs=0.05)
    assert s.hip_ir_rom_swing_deg == pytest.approx(0 - (-6), abs=0.05)
    assert s.turning is None and s.knee_flexion_max_deg is None
    assert len(s.curves["hip_ir_deg"]) == CURVE_POINTS

    chunked, pieces, told = StrideSegmenter("right"), [], 0.0
    for i in range(0, len(t), 7):
        now = t[min(i + 6, len(t) - 1)]

        def due(events, since=told, until=now):  # events are reported 0.3 s late
            return [e for e in events if since <= e + 0.3 < until]

        pieces += chunked.update(t[i : i + 7], {"hip_ir_deg": ir[i : i + 7]}, due(heel), due(toe))
        told = now
    pieces += chunked.update(
        t[:0],
        {"hip_ir_deg": ir[:0]},
        [h for h in heel if h + 0.3 >= told],
        [x for x in toe if x + 0.3 >= told],
    )
    assert [p.payload() for p in pieces] == [w.payload() for w in whole]


def test_strides_with_missing_angles_or_implausible_times_are_left_out():
    t, ir, heel, toe = synthetic_walk()
    ir = ir.copy()
    ir[(t > 1.3) & (t < 1.4)] = np.nan
    segmenter = StrideSegmenter("right", max_stride_s=1.5)
    strides = segmenter.update(t, {"hip_ir_deg": ir}, np.append(heel[:3], heel[4:]), toe)
    assert [s.start_s for s in strides] == [0.0, 4.0]  # 1-2 has a gap, 2-4 is too long
    assert segmenter.skipped == 1


def test_a_column_missing_in_some_chunks_counts_as_missing_there():
    t, ir, heel, toe = synthetic_walk()
    knee = 30 + 20 * np.sin(2 * np.pi * t)
    segmenter, strides = StrideSegmenter("right"), []
    for i in range(0, len(t), 50):  # the shank drops out from 2.5 s to 3 s: no knee angle there
        part = slice(i, i + 50)
        columns = {"hip_ir_deg": ir[part]}
        if not 2.5 <= t[i] < 3.0:
            columns["knee_flexion_deg"] = knee[part]
        strides += segmenter.update(
            t[part],
            columns,
            [h for h in heel if t[i] <= h < t[i] + 0.5],
            [x for x in toe if t[i] <= x < t[i] + 0.5],
        )
    assert [s.start_s for s in strides] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert [s.knee_flexion_max_deg is None for s in strides] == [False, False, True, False, False]


def test_turning_from_the_thigh_heading():
    t, ir, heel, toe = synthetic_walk()
    heading = np.where(t < 2.0, 0.0, np.minimum((t - 2.0) * 90.0, 180.0))  # a turn from 2 to 4 s
    heading = (heading + 180.0) % 360.0 - 180.0  # as a wrapped angle
    strides = StrideSegmenter("right").update(
        t, {"hip_ir_deg": ir, "heading_deg": heading}, heel, toe
    )
    assert [s.turning for s in strides] == [False, False, True, True, False]


@pytest.mark.parametrize(
    "name, activity",
    [
        ("walk_with_pelvis", "walk"),
        ("exercise", "exercise"),
        ("lunge", "exercise"),
        ("prone", "prone-test"),
    ],
)
def test_activity_inferred_when_the_session_does_not_say(name, activity, request):
    processed = request.getfixturevalue(name).processed
    unlabelled = replace(processed, session=replace(processed.session, meta={}))
    result = analyze_session(unlabelled)
    assert (result.activity, result.activity_source) == (activity, "inferred from the data")


def test_strides_during_saturated_samples_are_marked_and_counted(walk_without_pelvis):
    scored = walk_without_pelvis
    samples = dict(scored.sim.samples)
    name = scored.processed.rig.find("shank", "right").name
    clipped = samples[name][np.arange(len(samples[name]))]  # a copy
    hit = (clipped.time_s > 30.0) & (clipped.time_s < 30.2)
    clipped.acc[hit, 0] = 16 * 9.80665  # 0.2 s at the accelerometer's ±16 g
    samples[name] = clipped
    processed = process_session(Session(Path("clipped"), scored.processed.rig, {}, samples))
    analysis = analyze_session(processed, "walk")
    marked = [s for s in analysis.strides if s.saturated]
    assert marked and all(s.start_s < 30.2 and s.end_s > 30.0 for s in marked)
    assert all(s.saturated is False for s in analysis.strides if s not in marked)
    report = build_report(processed, analysis)
    assert report["recording"]["sensors"][name]["saturated"] == {"acc": int(hit.sum()), "gyr": 0}
    assert any(
        w.startswith(f"sensor {name}: {hit.sum()} accelerometer") for w in report["warnings"]
    )
    unclipped = build_report(scored.processed, scored.analysis)
    assert unclipped["recording"]["sensors"][name]["saturated"] == {"acc": 0, "gyr": 0}
