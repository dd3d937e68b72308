"""ISB joint angles: signs as a physiotherapist means them, round trips, mirroring."""

from __future__ import annotations

import numpy as np
import pytest

from hiprot import quat
from hiprot.anatomy import heading_rotation, joint_angles, joint_rotation

ANTERIOR, SUPERIOR, RIGHT = np.eye(3)


def femur_axis_in_pelvis(flexion, adduction, rotation, side, axis):
    return quat.rotate(joint_rotation(flexion, adduction, rotation, side)[0], axis)


@pytest.mark.parametrize("side, medial", [("right", -RIGHT), ("left", RIGHT)])
def test_internal_rotation_turns_the_front_of_the_femur_medially(side, medial):
    front = femur_axis_in_pelvis(0, 0, 30, side, ANTERIOR)
    assert front @ medial == pytest.approx(np.sin(np.radians(30)))


@pytest.mark.parametrize("side, medial", [("right", -RIGHT), ("left", RIGHT)])
def test_adduction_moves_the_knee_medially(side, medial):
    knee_direction = femur_axis_in_pelvis(0, 20, 0, side, -SUPERIOR)
    assert knee_direction @ medial == pytest.approx(np.sin(np.radians(20)))


def test_hip_flexion_brings_the_knee_forward():
    knee_direction = femur_axis_in_pelvis(40, 0, 0, "right", -SUPERIOR)
    assert knee_direction @ ANTERIOR == pytest.approx(np.sin(np.radians(40)))


def test_knee_flexion_moves_the_ankle_backwards():
    ankle_direction = quat.rotate(joint_rotation(60, 0, 0, "right", "knee")[0], -SUPERIOR)
    assert ankle_direction @ ANTERIOR == pytest.approx(-np.sin(np.radians(60)))


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("joint", ["hip", "knee"])
def test_angles_round_trip(side, joint):
    rng = np.random.default_rng(3)
    angles = rng.uniform([-30, -20, -45], [90, 20, 45], (50, 3))
    q = joint_rotation(angles[:, 0], angles[:, 1], angles[:, 2], side, joint)
    np.testing.assert_allclose(joint_angles(q, side, joint), angles, atol=1e-9)


def test_heading_frame_faces_world_x_and_up_is_z():
    q = heading_rotation(90.0)[0]
    np.testing.assert_allclose(quat.rotate(q, ANTERIOR), [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(quat.rotate(q, SUPERIOR), [0, 0, 1], atol=1e-12)
