"""The rig file's ``[fusion]`` table picks the filter and 6- or 9-axis fusion per sensor."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hiprot.config import FILTERS, load_rig
from hiprot.fusion import FILTER_CLASSES, VqfFilter, make_filter
from hiprot.pipeline import Pipeline

RIG = """
device_id = "fusion-test"
sample_rate_hz = 100
{fusion}

[[sensors]]
name = "thigh"
segment = "thigh"
side = "right"
chip = "lsm6dsox"
address = 0x6a
mag_chip = "lis3mdl"

[[sensors]]
name = "shank"
segment = "shank"
side = "right"
chip = "icm42688"
address = 0x68
"""


def _rig(tmp_path, fusion: str):
    path = tmp_path / "rig.toml"
    path.write_text(RIG.format(fusion=fusion))
    return path


def test_every_configurable_filter_is_offered():
    assert set(FILTERS) == set(FILTER_CLASSES)


def test_default_is_vqf_six_axis(tmp_path):
    pipeline = Pipeline(load_rig(_rig(tmp_path, "")))
    assert all(isinstance(f, VqfFilter) for f in pipeline.filters.values())
    assert not any(f.magnetometer for f in pipeline.filters.values())


@pytest.mark.parametrize("name", FILTERS)
def test_rig_picks_filter_and_magnetometer_per_sensor(tmp_path, name):
    rig = load_rig(_rig(tmp_path, f'[fusion]\nfilter = "{name}"\nuse_magnetometer = true'))
    filters = Pipeline(rig).filters
    assert {type(f) for f in filters.values()} == {FILTER_CLASSES[name]}
    assert filters["thigh"].magnetometer  # has a LIS3MDL
    assert not filters["shank"].magnetometer  # has none: 6-axis
    assert filters["thigh"].rate_hz == 100


def test_magnetometer_unused_unless_asked(tmp_path):
    rig = load_rig(_rig(tmp_path, '[fusion]\nfilter = "madgwick"'))
    assert not Pipeline(rig).filters["thigh"].magnetometer


def test_make_filter_takes_a_plain_name_too():
    assert isinstance(make_filter("vqf", 200.0), VqfFilter)


def test_unknown_filter_is_one_clear_line(tmp_path):
    path = _rig(tmp_path, '[fusion]\nfilter = "kalman"')
    done = subprocess.run(
        [sys.executable, "-m", "hiprot", "demo", "--rig", str(path), "--no-mqtt"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "fusion.filter" in lines[0] and "vqf|madgwick|mahony|ekf" in lines[0]
    assert str(path) in lines[0]
