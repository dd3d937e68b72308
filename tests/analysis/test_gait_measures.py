"""Gait measures of issue #17: the pelvis' angles and per-stride pelvic measures, hip IR after
heel strike, the symmetry index, and thigh + shank walks named for what they measure."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from simulated import target_rig

from hiprot import quat
from hiprot.analysis.comparability import session_facts
from hiprot.analysis.compare import compare
from hiprot.analysis.history import history
from hiprot.analysis.live import LiveAnalysis
from hiprot.analysis.strides import StrideSegmenter, _asymmetry
from hiprot.anatomy import HEADING_TO_WORLD, pelvis_angles
from hiprot.columns import (
    HIP_IR,
    HIP_IR_MAX,
    HIP_IR_ROM,
    PELVIC_ROTATION_ROM,
    PELVIS_OBLIQUITY,
    PELVIS_ROTATION,
    PELVIS_SEGMENT,
    REFERENCE_WALKING,
    WALKING_RENAMES,
    current_names,
    hip_ir,
    measured_names,
)
from hiprot.evaluation.analysis import run
from hiprot.evaluation.gait import pelvis_rmse, stride_range_errors


def test_pelvis_angles_are_bakers_and_tilt_and_obliquity_ignore_the_heading():
    tilt, obliquity, rotation = 7.0, -4.0, 12.0  # anterior, left side up, right side forward
    q_h_p = quat.from_rotation(
        Rotation.from_euler("YXZ", [rotation, -obliquity, -tilt], degrees=True)
    )
    for heading in (0.0, 100.0):
        q_e_p = quat.multiply(
            quat.from_rotation(Rotation.from_euler("z", heading, degrees=True)),
            quat.multiply(HEADING_TO_WORLD, q_h_p),
        )
        inclination, facing = pelvis_angles(q_e_p)
        assert inclination[0] == pytest.approx([tilt, obliquity], abs=1e-9)
        assert np.degrees(facing[0]) == pytest.approx(heading + rotation, abs=1e-9)


def _stride(ir, toe_off_s: float):
    """One stride from heel strike at 1 s to the next at 2 s, IR ``ir(t)``, at 100 Hz."""
    t = np.arange(0.0, 2.5, 0.01)
    segmenter = StrideSegmenter("right")
    (stride,) = segmenter.update(t, {HIP_IR: ir(t)}, [1.0, 2.0], [toe_off_s])
    return stride


def test_ir_after_heel_strike_is_measured_where_stance_is_plausible():
    def ir(t):  # 2° at heel strike, a peak of 10° at 20 % of the stride, 2° again from 1.4 s
        return 2.0 + 8.0 * np.clip(1.0 - np.abs(t - 1.2) / 0.2, 0.0, None)

    stride = _stride(ir, 1.6)
    assert stride.hip_ir_stance_peak_deg == pytest.approx(10.0)
    assert stride.hip_ir_stance_peak_percent == pytest.approx(20.0)
    assert stride.hip_ir_loading_excursion_deg == pytest.approx(8.0)
    assert stride.hip_ir_stance_mean_deg == pytest.approx(2.0 + 1.6 / 0.6, abs=0.01)
    implausible = _stride(ir, 1.9)  # a toe off at 90 % of the stride: its stance is wrong
    assert implausible.hip_ir_loading_excursion_deg is None
    assert implausible.hip_ir_stance_peak_percent is None and implausible.hip_ir_max_deg == 10.0


def test_a_symmetry_index_only_for_ranges_and_timings():
    right = {HIP_IR_MAX: {"mean": 2.0}, HIP_IR_ROM: {"mean": 10.0}}
    left = {HIP_IR_MAX: {"mean": 1.4}, HIP_IR_ROM: {"mean": 8.0}}
    found = _asymmetry(right, left)
    assert found[HIP_IR_MAX] == {"right_minus_left": pytest.approx(0.6)}  # a signed angle
    assert found[HIP_IR_ROM]["symmetry_index_percent"] == pytest.approx(100 * 2 / 9)


def test_pelvic_stride_measures_in_each_legs_own_convention():
    t = np.arange(0.0, 3.0, 0.01)
    obliquity = 3.0 + 4.0 * np.sin(2 * np.pi * t)  # right side up by 3° on average
    rotation = 5.0 * np.cos(2 * np.pi * t)
    live = LiveAnalysis(("right", "left"), 100.0, "walk")
    live.update(
        t,
        {
            hip_ir("right"): np.zeros_like(t),
            hip_ir("left"): np.zeros_like(t),
            PELVIS_OBLIQUITY: obliquity,
            PELVIS_ROTATION: rotation,
        },
        {
            "right": {"heel_strike": [0.5, 1.5], "toe_off": [1.1]},
            "left": {"heel_strike": [1.0, 2.0], "toe_off": [1.6]},
        },
    )
    right, left = sorted(live.strides, key=lambda s: s.side != "right")
    assert right.pelvic_obliquity_mean_deg == pytest.approx(3.0, abs=0.05)
    assert left.pelvic_obliquity_mean_deg == pytest.approx(-3.0, abs=0.05)  # left side down
    assert right.pelvic_rotation_rom_deg == pytest.approx(10.0, abs=0.01)
    assert right.pelvic_rotation_max_deg == pytest.approx(5.0, abs=0.01)
    assert right.pelvic_obliquity_rom_deg == pytest.approx(8.0, abs=0.01)


def test_a_walk_with_a_pelvis_sensor_reports_the_pelvis_within_two_degrees():
    """Realistic simulator: obliquity and the rotation within each stride within 2° RMSE, the
    per-stride pelvic rotation range within 2° of the truth on average."""
    scored = run(target_rig("walk", 1, pelvis=True, duration_s=30.0, realism="realistic"))
    assert set(PELVIS_SEGMENT) <= set(scored.processed.angles.columns)
    assert pelvis_rmse(scored)[PELVIS_OBLIQUITY] <= 2.0
    assert pelvis_rmse(scored, centred=True)[PELVIS_ROTATION] <= 2.0
    errors = stride_range_errors(scored, PELVIC_ROTATION_ROM, PELVIS_ROTATION)
    assert len(errors) >= 8 and np.abs(errors).mean() <= 2.0


def test_a_thigh_and_shank_walk_names_thigh_rotation_and_old_reports_load_so():
    stride = {"side": "right", "turning": False, HIP_IR_ROM: 12.0, HIP_IR_MAX: 5.0}
    assert measured_names(stride, REFERENCE_WALKING) == {
        "side": "right",
        "turning": False,
        "thigh_rotation_rom_deg": 12.0,
        "thigh_rotation_max_deg": 5.0,
    }

    def report(activity, listing):
        return {
            "session": {"name": "old", "activity": activity},
            "angles": {"hip_ir_reference": REFERENCE_WALKING},
            "strides": {"right": [stride]} if listing == "strides" else {},
            "tests": [stride] if listing == "tests" else [],
        }

    walk = current_names(report("walk", "strides"))  # written before the rename
    assert walk["strides"]["right"][0][WALKING_RENAMES[HIP_IR_ROM]] == 12.0
    test = current_names(report("seated-test", "tests"))  # hip IR against gravity: kept
    assert test["tests"][0][HIP_IR_MAX] == 5.0
    before, after = report("walk", "strides"), report("walk", "strides")
    after["session"]["name"] = "new"
    after["strides"]["right"] = [measured_names({**stride, HIP_IR_ROM: 20.0}, REFERENCE_WALKING)]
    (change,) = compare(before, after)["changes"]  # an old and a new report
    assert change["key"] == WALKING_RENAMES[HIP_IR_ROM] and "not hip IR" in change["measure"]
    (session,) = history([(before, session_facts(None, before))])["sessions"]
    assert set(session["legs"]["right"]) == {WALKING_RENAMES[HIP_IR_ROM]}


def test_the_pelvis_chart_is_drawn(tmp_path):
    from hiprot.analysis import plots

    t = np.linspace(0.0, 10.0, 1001)
    columns = {name: np.sin(t + k) for k, name in enumerate(PELVIS_SEGMENT)}
    path = plots.pelvis_timeline(t, columns, "walk", tmp_path / "pelvis.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
