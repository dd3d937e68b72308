"""``hiprot scan`` through the real CLI: listing an emulated rig and comparing it with rig files."""

from __future__ import annotations

import subprocess
import sys

from hiprot_testing import CONFIG

MIXED_RIG = """
device_id = "mixed"
sample_rate_hz = 200

[[sensors]]
name = "pelvis"
segment = "pelvis"
chip = "lsm6dsox"
address = 0x6A
mux_channel = 0
mag_chip = "lis3mdl"

[[sensors]]
name = "right_thigh"
segment = "thigh"
side = "right"
chip = "icm20948"
address = 0x68
mux_channel = 1

[[sensors]]
name = "right_shank"
segment = "shank"
side = "right"
chip = "mpu6050"
address = 0x68
mux_channel = 2

[[sensors]]
name = "left_thigh"
segment = "thigh"
side = "left"
chip = "lsm6ds3"
address = 0x6B
"""


def hiprot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hiprot", "scan", *args], capture_output=True, text=True, timeout=60
    )


def test_scan_lists_the_emulated_simulated_rig():
    result = hiprot("--emulated", str(CONFIG / "sim.toml"))
    assert result.returncode == 0, result.stderr
    assert "0x68  ICM-42688-P (id 0x47 at register 0x75)" in result.stdout
    assert "0x69  ICM-42688-P (id 0x47 at register 0x75)" in result.stdout
    assert "found 2 supported chips" in result.stdout


def test_scan_names_every_chip_behind_the_multiplexer(tmp_path):
    rig = tmp_path / "mixed.toml"
    rig.write_text(MIXED_RIG)
    result = hiprot("--emulated", str(rig), "--rig", str(rig))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "0x70  TCA9548A multiplexer" in out
    assert "channel 0: 0x1c  LIS3MDL (id 0x3d at register 0x0f)  <- pelvis magnetometer" in out
    assert "channel 0: 0x6a  LSM6DSOX (or LSM6DSO) (id 0x6c at register 0x0f)  <- pelvis" in out
    assert "channel 1: 0x68  ICM-20948 (id 0xea at register 0x00)  <- right_thigh" in out
    assert "channel 2: 0x68  MPU-6050 (id 0x68 at register 0x75)  <- right_shank" in out
    assert "0x6b  LSM6DS3 (id 0x69 at register 0x0f)  <- left_thigh" in out
    assert "every sensor of the rig answers where the rig says" in out


def test_scan_matches_a_rig_with_the_same_wiring():
    result = hiprot(
        "--emulated", str(CONFIG / "sim.toml"), "--rig", str(CONFIG / "two-sensors.toml")
    )
    assert result.returncode == 0, result.stderr
    assert "OK          right_thigh: ICM-42688-P at bus 1, address 0x68" in result.stdout


def test_scan_reports_missing_wrong_and_unexpected_chips(tmp_path, sim_rig_text):
    rig = tmp_path / "expected.toml"
    text = sim_rig_text.replace(
        'chip = "icm42688"\nbus = 1\naddress = 0x68', 'chip = "mpu6050"\nbus = 1\naddress = 0x68'
    )
    text = text.replace(
        'chip = "icm42688"\nbus = 1\naddress = 0x69', 'chip = "lsm6dsox"\nbus = 1\naddress = 0x6A'
    )
    rig.write_text(text)
    result = hiprot("--emulated", str(CONFIG / "sim.toml"), "--rig", str(rig))
    assert result.returncode == 2
    out = result.stdout
    assert (
        "WRONG CHIP  right_thigh: at bus 1, address 0x68 the rig expects mpu6050, "
        'found ICM-42688-P (id 0x47 at register 0x75); set chip = "icm42688"'
    ) in out
    assert (
        "MISSING     right_shank: nothing answers at bus 1, address 0x6a; the rig expects lsm6dsox"
        in out
    )
    assert "NOT IN RIG  ICM-42688-P (id 0x47 at register 0x75) at bus 1, address 0x69" in out
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "1 missing, 1 wrong chip" in result.stderr and str(rig) in result.stderr


def test_scan_of_a_missing_bus_is_one_clear_line():
    result = hiprot("--bus", "97")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "hiprot: error: cannot open I2C bus 97 (/dev/i2c-97): No such file or "
        "directory; enable I2C and join the i2c group (see firmware/README.md)"
    )
