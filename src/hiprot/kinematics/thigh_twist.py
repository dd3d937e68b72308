"""A first hip-rotation estimate from the thigh sensor alone.

Standing still at the start gives the thigh's long axis in the sensor frame
(the accelerometer's gravity direction); hip internal rotation is then the
thigh's twist about that axis relative to the standing posture. The pelvis
is not measured, so this is rotation relative to the standing heading.
"""

from __future__ import annotations

import numpy as np

from hiprot import quat
from hiprot.errors import CalibrationError

STANDING_S = 2.0


class ThighTwist:
    """Hip IR (degrees) as the thigh's twist about its long axis since standing."""

    def __init__(self, side: str, rate_hz: float, standing_s: float = STANDING_S):
        self.sign = 1.0 if side == "right" else -1.0
        self.needed = int(standing_s * rate_hz)
        self._acc: list[np.ndarray] = []
        self._q: list[np.ndarray] = []
        self.long_axis_s: np.ndarray | None = None
        self.q_es0: np.ndarray | None = None

    @property
    def calibrated(self) -> bool:
        return self.long_axis_s is not None

    def update(self, q_es: np.ndarray, acc_s: np.ndarray) -> np.ndarray:
        """Hip IR in degrees per sample; NaN until the standing phase is complete."""
        out = np.full(len(q_es), np.nan)
        start = 0
        if not self.calibrated:
            take = min(self.needed - sum(len(a) for a in self._acc), len(q_es))
            self._acc.append(acc_s[:take])
            self._q.append(q_es[:take])
            start = take
            if sum(len(a) for a in self._acc) >= self.needed:
                self._calibrate()
        if self.calibrated and start < len(q_es):
            q_rel = quat.multiply(quat.conjugate(self.q_es0), q_es[start:])
            along = q_rel[:, 1:] @ self.long_axis_s
            out[start:] = self.sign * np.degrees(2 * np.arctan2(along, q_rel[:, 0]))
            out[start:] = (out[start:] + 180.0) % 360.0 - 180.0
        return out

    def _calibrate(self) -> None:
        acc = np.concatenate(self._acc)
        if np.linalg.norm(acc.std(axis=0)) > 0.5:
            raise CalibrationError("the thigh sensor was not still during the standing phase")
        mean = acc.mean(axis=0)
        self.long_axis_s = mean / np.linalg.norm(mean)
        q = np.concatenate(self._q)[-1]
        self.q_es0 = q
