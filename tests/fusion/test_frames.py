"""Frame conventions: every filter reports sensor → earth, z up, and x east with a magnetometer."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from synthetic import FIELD_ENU, GRAVITY, samples_for, still

from hiprot import quat
from hiprot.config import FusionConfig
from hiprot.fusion import FILTER_CLASSES, make_filter
from hiprot.fusion.frames import initial_orientation, relevel

RATE = 200.0
POSES = Rotation.from_euler(
    "ZYX", [[0, 0, 0], [90, 0, 0], [-135, 20, -10], [30, -40, 60]], degrees=True
)


def _angle_deg(q_a: np.ndarray, q_b: np.ndarray) -> np.ndarray:
    return quat.angle_deg(quat.multiply(q_a, quat.conjugate(q_b)))


def test_initial_orientation_of_a_known_pose():
    for pose in POSES:
        acc = pose.inv().apply([0, 0, GRAVITY])
        mag = pose.inv().apply(FIELD_ENU)
        q = initial_orientation(acc, mag)
        assert _angle_deg(q, quat.from_rotation(pose)) < 1e-4
        level = initial_orientation(acc)
        assert np.allclose(quat.rotate(level, acc), [0, 0, GRAVITY])


def test_east_is_x():
    """A sensor lying flat with its x axis pointing east is the identity orientation."""
    q = initial_orientation(np.array([0, 0, GRAVITY]), FIELD_ENU)
    assert _angle_deg(q, quat.IDENTITY) < 1e-4


def test_relevel_keeps_heading():
    q = quat.from_rotation(Rotation.from_euler("ZX", [70, 25], degrees=True))
    acc_level = np.array([0.0, 0.0, GRAVITY])
    leveled = relevel(q, acc_level)
    assert np.allclose(quat.rotate(leveled, acc_level), acc_level)
    heading = Rotation.from_quat(leveled, scalar_first=True).as_euler("ZYX", degrees=True)[0]
    assert heading == pytest.approx(70.0, abs=1e-9)


@pytest.mark.parametrize("name", list(FILTER_CLASSES))
def test_nine_axis_converges_to_the_known_pose_in_enu(name):
    """Started with a wrong heading (a disturbed first magnetometer second), each 9D filter
    settles on the true sensor → ENU orientation: its own frame convention is converted right."""
    pose = POSES[2]
    t = np.arange(0, 60 if name == "vqf" else 40, 1 / RATE)  # VQF's magnetometer τ is 9 s
    samples = samples_for(t, still(t, pose), noise=0.002, seed=1)
    wrong = Rotation.from_euler("Z", 60, degrees=True).inv().apply(FIELD_ENU)
    samples.mag[t < 1.0] = pose.inv().apply(wrong)
    gains = {"madgwick": 0.3, "mahony": 2.0}
    kind = FILTER_CLASSES[name]
    orientation = kind(
        RATE,
        magnetometer=True,
        **(
            {"gain": gains[name]}
            if name == "madgwick"
            else {"k_p": gains[name]}
            if name == "mahony"
            else {}
        ),
    )
    q = orientation.update(samples)
    assert _angle_deg(q[0], quat.from_rotation(pose)) > 30
    assert _angle_deg(q[-1], quat.from_rotation(pose)) < 1.0


@pytest.mark.parametrize("use_mag", [False, True], ids=["6D", "9D"])
@pytest.mark.parametrize("name", list(FILTER_CLASSES))
def test_turning_counter_clockwise_about_up_turns_the_quaternion_so(name, use_mag):
    """A quarter turn at 90°/s about the vertical: q_ES ends at Rz(+90°) ⊗ q_ES(start)."""
    start = POSES[3]
    t = np.arange(0, 4, 1 / RATE)
    rate = np.where(t < 1.0, 0.0, np.where(t < 2.0, np.pi / 2, 0.0))
    angle = np.concatenate([[0.0], np.cumsum(rate[1:] * np.diff(t))])
    path = Rotation.from_rotvec(np.outer(angle, [0, 0, 1])) * start
    samples = samples_for(t, path, noise=0.001, seed=2)
    orientation = make_filter(FusionConfig(name, use_mag), RATE, magnetometer=True)
    q = orientation.update(samples)
    first_turned = int(np.searchsorted(t, 2.0))
    expected = quat.multiply(quat.from_rotation(Rotation.from_euler("Z", 90, degrees=True)), q[0])
    assert _angle_deg(q[first_turned], expected) < 1.5
    if use_mag:
        assert _angle_deg(q[-1], quat.from_rotation(path[-1])) < 1.5
