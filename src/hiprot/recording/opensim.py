"""OpenSim text tables: OpenSense orientation files and motion (``.mot``) tables.

Orientations (``*_orientations.sto``), as OpenSense's IMU Placer and IMU
Inverse Kinematics read them: a header ``DataRate=``, ``DataType=Quaternion``,
``version=3``, ``OpenSimVersion=``, ``endheader``; then tab-separated columns
``time`` and one per IMU named after the model body it is on (``pelvis_imu``,
``femur_r_imu``...), each cell ``w,x,y,z``: the rotation from the sensor frame
to the IMU's world frame (our ``q_ES``, world z up).

Motion tables (``.mot``): a name line, ``version=1``, ``nRows=``,
``nColumns=`` (time included), ``inDegrees=yes``, ``endheader``, then
tab-separated ``time`` and value columns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OPENSIM_VERSION = "4.5"
# Body names of OpenSim's gait models (Rajagopal 2015, gait2392) for our segments.
BODIES = {
    ("pelvis", None): "pelvis",
    ("thigh", "right"): "femur_r",
    ("thigh", "left"): "femur_l",
    ("shank", "right"): "tibia_r",
    ("shank", "left"): "tibia_l",
}


def imu_label(segment: str, side: str | None) -> str:
    """The OpenSense IMU column name for a sensor on ``segment`` of ``side``."""
    return f"{BODIES[(segment, side if segment != 'pelvis' else None)]}_imu"


def write_orientations(
    path: Path, time_s: np.ndarray, quaternions: dict[str, np.ndarray], rate_hz: float
) -> None:
    """Write an OpenSense orientation file; ``quaternions``: IMU label → (n, 4) ``[w, x, y, z]``."""
    labels = list(quaternions)
    table = np.column_stack([time_s, *(quaternions[label] for label in labels)])
    header = (
        f"DataRate={rate_hz:.6f}\nDataType=Quaternion\nversion=3\n"
        f"OpenSimVersion={OPENSIM_VERSION}\nendheader\n" + "\t".join(["time", *labels])
    )
    row = "%.6f" + "\t%.8f,%.8f,%.8f,%.8f" * len(labels)
    np.savetxt(path, table, fmt=row, header=header, comments="")


def write_motion(path: Path, name: str, time_s: np.ndarray, columns: dict[str, np.ndarray]) -> None:
    """Write a ``.mot`` table of angles in degrees (NaN where a value is unknown)."""
    labels = list(columns)
    table = np.column_stack([time_s, *(columns[label] for label in labels)])
    header = (
        f"{name}\nversion=1\nnRows={len(table)}\nnColumns={len(labels) + 1}\ninDegrees=yes\n"
        "endheader\n" + "\t".join(["time", *labels])
    )
    np.savetxt(path, table, delimiter="\t", header=header, comments="", fmt="%.6f")
