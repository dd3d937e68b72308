"""The names of columns and measure keys, and files written under names since changed."""

import json
from dataclasses import fields

import numpy as np
import pytest

from hiprot import columns
from hiprot.analysis.comparability import session_facts
from hiprot.analysis.compare import compare
from hiprot.analysis.history import history
from hiprot.analysis.outputs import AnalysisOutputError, read_report
from hiprot.analysis.report import read_table
from hiprot.analysis.strides import Stride
from hiprot.columns import REFERENCE_PELVIS, REFERENCE_WALKING, current_names
from hiprot.csvio import read_angles_csv, write_angles_csv


def test_names_are_those_of_the_files_users_have():
    """The names in angles.csv, report.json and MQTT (docs/) are built here; they must not
    change without an entry in LEGACY_NAMES."""
    assert columns.hip_ir("right") == "right_hip_ir_deg"
    assert columns.knee_flexion("left") == "left_knee_flexion_deg"
    assert columns.hip_flexion("right") == "right_hip_flexion_deg"
    assert columns.hip_adduction("left") == "left_hip_adduction_deg"
    assert columns.thigh_heading("right") == "right_thigh_heading_deg"
    assert columns.mean_key(columns.HIP_IR) == "hip_ir_mean_deg"
    assert columns.sd_key(columns.HIP_IR_ROM) == "hip_ir_rom_sd_deg"
    assert columns.trial_summary_key("er", "detectable_change") == "er_detectable_change_deg"
    assert columns.split_column("left_hip_ir_deg") == ("left", "hip_ir_deg")
    assert (columns.VALUE, columns.SD, columns.DETECTABLE_CHANGE) == (
        "value_deg",
        "sd_deg",
        "detectable_change_deg",
    )
    assert ",".join(columns.HISTORY_COLUMNS) == (
        "subject,session,start_utc,activity,reference,side,measure,value_deg,sd_deg,n,"
        "compensated_trials,repeat_of"
    )


def test_angle_columns_follow_the_sensors_worn_in_file_order():
    assert columns.angle_columns(("right", "left"), ("right",), pelvis=True) == [
        "right_hip_ir_deg",
        "right_knee_flexion_deg",
        "right_hip_flexion_deg",
        "right_hip_adduction_deg",
        "left_hip_ir_deg",
        "left_hip_flexion_deg",
        "left_hip_adduction_deg",
        "pelvis_tilt_deg",
        "pelvis_obliquity_deg",
        "pelvis_rotation_deg",
    ]
    assert columns.angle_columns(("left",), ("left",), pelvis=False) == [
        "left_hip_ir_deg",
        "left_knee_flexion_deg",
    ]


def test_every_stride_metric_is_a_field_of_the_stride():
    assert set(columns.STRIDE_METRICS) <= {f.name for f in fields(Stride)}


def test_the_reference_of_an_angle_table_is_told_by_its_pelvis_columns():
    with_pelvis = columns.angle_columns(("right",), ("right",), pelvis=True)
    without = columns.angle_columns(("right",), ("right",), pelvis=False)
    assert columns.reference_of(with_pelvis) == REFERENCE_PELVIS
    assert columns.reference_of(without) == REFERENCE_WALKING


@pytest.fixture
def legacy(monkeypatch):
    """Two names as if an earlier version had written them: ``hip_twist_deg`` for hip IR in
    sessions measured against the walking direction only, ``hip_ir_range_deg`` for the IR range
    in every session."""
    monkeypatch.setattr(
        columns,
        "LEGACY_NAMES",
        {
            None: {"hip_ir_range_deg": "hip_ir_rom_deg"},
            REFERENCE_WALKING: {"hip_twist_deg": "hip_ir_deg"},
        },
    )


def test_an_angle_table_written_under_an_old_name_reads_under_the_current_one(legacy, tmp_path):
    time_s = np.arange(3) / 100
    old = tmp_path / "angles.csv"
    write_angles_csv(
        old, time_s, {"right_hip_twist_deg": np.ones(3), "right_knee_flexion_deg": np.zeros(3)}
    )
    _, read = read_angles_csv(old)
    assert list(read) == ["right_hip_ir_deg", "right_knee_flexion_deg"]
    assert np.array_equal(read["right_hip_ir_deg"], np.ones(3))


def test_a_rename_of_one_kind_of_session_leaves_the_other_kind_alone(legacy, tmp_path):
    with_pelvis = tmp_path / "angles.csv"
    names = ["right_hip_twist_deg", "right_hip_flexion_deg", "right_hip_adduction_deg"]
    write_angles_csv(with_pelvis, np.arange(2.0), {n: np.zeros(2) for n in names})
    assert list(read_angles_csv(with_pelvis)[1]) == names


def test_without_renames_the_table_is_read_as_written(tmp_path):
    path = tmp_path / "angles.csv"
    written = {"right_hip_twist_deg": np.zeros(2), "right_knee_flexion_deg": np.ones(2)}
    write_angles_csv(path, np.arange(2.0), written)
    assert list(read_angles_csv(path)[1]) == list(written)


def _walk_report(name: str, range_key: str, reference: str, ranges: list[float]) -> dict:
    """A walk's report as far as compare and history read it, its IR ranges under ``range_key``."""
    strides = [
        {"side": "right", "turning": False, range_key: r, "hip_ir_max_deg": 10.0 + r}
        for r in ranges
    ]
    return {
        "session": {"name": name, "activity": "walk", "start_utc": f"2026-01-01T00:00:0{name}"},
        "angles": {"columns": ["right_hip_twist_deg"], "hip_ir_reference": reference},
        "strides": {"right": strides},
        "reps": [],
        "tests": [],
        "summaries": {"gait": {"legs": {"right": {range_key: {"mean": 1.0, "sd": None}}}}},
    }


def _saved(directory, report: dict):
    """``report`` saved as an analysis directory's ``report.json`` (a run listing no outputs)."""
    path = directory / "report.json"
    path.write_text(json.dumps({**report, "run_id": "legacy", "outputs": {}}))
    return path


def test_a_report_written_under_old_names_loads_and_compares_under_the_current_ones(
    legacy, tmp_path
):
    old = _saved(tmp_path, _walk_report("1", "hip_ir_range_deg", REFERENCE_WALKING, [8, 9]))
    report = read_report(tmp_path)
    assert report["strides"]["right"][0]["hip_ir_rom_deg"] == 8
    assert "hip_ir_range_deg" not in report["strides"]["right"][0]
    assert report["summaries"]["gait"]["legs"]["right"]["hip_ir_rom_deg"]["mean"] == 1.0
    assert report["angles"]["columns"] == ["right_hip_ir_deg"]
    new = _walk_report("2", "hip_ir_rom_deg", REFERENCE_WALKING, [12, 13])
    result = compare(json.loads(old.read_text()), new)  # an old report handed in directly
    ranges = [c for c in result["changes"] if c["key"] == "hip_ir_rom_deg"]
    assert len(ranges) == 1 and ranges[0]["change_deg"] == 4.0
    reports = [current_names(json.loads(old.read_text())), new]
    legs = [
        s["legs"]["right"]
        for s in history([(r, session_facts(None, r)) for r in reports])["sessions"]
    ]
    assert [leg["hip_ir_rom_deg"]["value_deg"] for leg in legs] == [8.5, 12.5]


def test_a_report_of_the_other_reference_keeps_its_names(legacy, tmp_path):
    _saved(tmp_path, _walk_report("1", "hip_ir_rom_deg", REFERENCE_PELVIS, [1]))
    assert read_report(tmp_path)["angles"]["columns"] == ["right_hip_twist_deg"]


def test_a_strides_table_written_under_an_old_name_reads_under_the_current_one(legacy, tmp_path):
    path = tmp_path / "strides.csv"
    path.write_text("side,index,hip_ir_range_deg,hip_twist_deg\nright,1,8.5,3\n")
    assert read_table(path) == [
        {"side": "right", "index": "1", "hip_ir_rom_deg": "8.5", "hip_twist_deg": "3"}
    ]
    assert read_table(path, REFERENCE_WALKING)[0]["hip_ir_deg"] == "3"


def test_an_unreadable_report_is_one_clear_error(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("{not json")
    with pytest.raises(AnalysisOutputError, match="unreadable: not valid JSON"):
        read_report(tmp_path)
    path.write_text("[1, 2]")
    with pytest.raises(AnalysisOutputError, match="lists no checked outputs"):
        read_report(tmp_path)
