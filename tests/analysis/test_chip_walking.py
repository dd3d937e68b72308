"""Every supported chip measures while walking: the issue's case, ``hiprot simulate --scenario
walk --chip CHIP --seed 3 --duration 40`` on people (realistic), analysed as ``hiprot analyze``
does. The per-chip table over several seeds is scripts/chip_accuracy.py's (docs/methods.md)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from hiprot.cli.simulate import build_rig
from hiprot.config import load_rig
from hiprot.evaluation.analysis import Scored, run, straight_strides, walking_errors

CHEAP = ("mpu6050", "lsm6ds3")  # zero-rate offsets ±20 and ±10 °/s, the largest supported


@cache
def walk(chip: str) -> Scored:
    return run(build_rig(load_rig(), "walk", 3, 40.0, None, None, None, None, chip))


def hip_ir_rmse(chip: str) -> float:
    return float(np.sqrt(np.mean(walking_errors(walk(chip))["hip_ir"] ** 2)))


@pytest.mark.parametrize("chip", CHEAP)
def test_a_cheap_chip_keeps_most_straight_strides(chip):
    """At most a quarter of the strides that overlap no turn are flagged as turning (before
    its bias was found at rest: all 22 of the MPU-6050's, 10 of the LSM6DS3's)."""
    straight, flagged = straight_strides(walk(chip))
    assert straight >= 15
    assert flagged <= straight / 4


@pytest.mark.parametrize("chip", CHEAP)
def test_a_cheap_chip_measures_hip_ir_nearly_as_well_as_the_best(chip):
    """Hip IR RMSE within 1.5 times the ICM-42688-P's on the same walk (5.6 and 3.1 times before)."""
    assert hip_ir_rmse(chip) <= 1.5 * hip_ir_rmse("icm42688")
