"""hiprot export: CSV in the import layout, OpenSense orientations and a .mot angle table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hiprot import quat
from hiprot.processing import process_session
from hiprot.recording import load_session
from hiprot.recording.opensim import imu_label


def _read_opensim(path: Path) -> tuple[list[str], list[str], list[list[str]]]:
    lines = path.read_text().splitlines()
    end = lines.index("endheader")
    return lines[:end], lines[end + 1].split("\t"), [line.split("\t") for line in lines[end + 2 :]]


def test_csv_export_is_an_importable_session(rig, record, hiprot, tmp_path):
    path, sent = record(rig, duration_s=3.0)
    result = hiprot("export", path, "--format", "csv", "--out", tmp_path / "csv")
    assert result.returncode == 0 and result.stderr == ""
    assert (
        (tmp_path / "csv" / "imu.csv")
        .read_text()
        .startswith("time_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z,mag_x,mag_y,mag_z\n")
    )
    imported = load_session(tmp_path / "csv")
    assert imported.kind == "imported" and imported.rig.sensors == rig.sensors
    for name, s in sent.items():
        got = imported.samples[name]
        np.testing.assert_allclose(got.time_s, s.time_s, atol=1e-6)
        np.testing.assert_allclose(got.acc, s.acc, rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(got.gyr, s.gyr, rtol=1e-5, atol=1e-9)


def test_sto_export_for_opensense(rig, record, hiprot):
    path, _ = record(rig, duration_s=10.0)
    result = hiprot("export", path, "--format", "sto")
    assert result.returncode == 0, result.stderr
    out = path / "export"
    header, labels, rows = _read_opensim(out / f"{path.name}_orientations.sto")
    assert header == [
        "DataRate=200.000000",
        "DataType=Quaternion",
        "version=3",
        "OpenSimVersion=4.5",
    ]
    assert labels == ["time", "femur_r_imu", "tibia_r_imu"]
    session = load_session(path)
    grid = process_session(session).grid
    assert len(rows) == len(grid.time_s) and 9.9 * rig.sample_rate_hz < len(grid.time_s)
    time_s = np.array([float(r[0]) for r in rows])
    np.testing.assert_allclose(time_s, grid.time_s, atol=1e-6)
    for column, name in ((1, "right_thigh"), (2, "right_shank")):
        q = np.array([[float(v) for v in r[column].split(",")] for r in rows])
        np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-6)
        # the fused orientation, slerped onto the grid (equal up to the quaternion's sign)
        fused = grid.tracks[name].q_es
        np.testing.assert_allclose(np.abs(np.sum(q * fused, axis=1)), 1.0, atol=1e-5)
        # sensor -> world with z up: the still sensor's measured gravity maps onto world +z
        standing = session.samples[name].acc[:200]
        up = quat.rotate(q[:200], standing / np.linalg.norm(standing, axis=1, keepdims=True))
        assert np.degrees(np.arccos(np.clip(up[:, 2], -1, 1))).max() < 2.0


def test_mot_export_holds_the_pipeline_angles(rig, record, hiprot):
    path, _ = record(rig, duration_s=10.0)
    assert hiprot("export", path, "--format", "sto").returncode == 0
    header, labels, rows = _read_opensim(path / "export" / f"{path.name}_angles.mot")
    assert header[1:] == [
        "version=1",
        f"nRows={len(rows)}",
        f"nColumns={len(labels)}",
        "inDegrees=yes",
    ]
    batch = process_session(load_session(path)).angles
    assert labels == ["time", *batch.columns]
    table = np.array([[float(v) for v in r] for r in rows])
    np.testing.assert_allclose(table[:, 0], batch.time_s, atol=1e-6)
    np.testing.assert_allclose(table[:, 1], batch.columns["right_hip_ir_deg"], atol=1e-6)
    assert np.isfinite(table[-1, 1])


@pytest.mark.parametrize(
    "segment, side, label",
    [
        ("pelvis", None, "pelvis_imu"),
        ("thigh", "right", "femur_r_imu"),
        ("thigh", "left", "femur_l_imu"),
        ("shank", "right", "tibia_r_imu"),
        ("shank", "left", "tibia_l_imu"),
    ],
)
def test_imu_columns_are_named_after_opensim_bodies(segment, side, label):
    assert imu_label(segment, side) == label


def test_export_of_a_missing_session_is_one_clear_line(hiprot, tmp_path):
    result = hiprot("export", tmp_path / "nope", "--format", "sto")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "nope: not a session directory" in result.stderr
