"""Physical constants and unit conversions: one home for each, so every module agrees.

Gravity is the standard acceleration of free fall, 9.80665 m/s² exactly (CGPM 1901,
kept by ISO 80000-3 and NIST SP 330): the value the IMU datasheets mean by "1 g".
The local value differs by at most 0.3 %, far below accelerometer scale errors,
and the accelerometer correction (:mod:`hiprot.calibration.accelerometer`) fits
each sensor's rest readings to this one value.
"""

from __future__ import annotations

import math

STANDARD_GRAVITY = 9.80665  # m/s² per g
DEG_TO_RAD = math.pi / 180.0
GAUSS_TO_UT = 100.0  # 1 gauss = 100 µT
