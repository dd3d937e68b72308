"""VQF (Laidig & Seel 2023, package ``vqf``): the default orientation filter.

Chosen by measurement on BROAD (``scripts/broad_eval.py``): the most accurate
filter offered and about a hundred times faster than ``ahrs``'s, since every
chunk goes through VQF's C++ batch path. It estimates the gyroscope bias at
rest and in motion and rejects magnetic disturbances itself. Its 6D and 9D
earth frames are z up, 9D x east (ENU): no conversion.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from vqf import VQF

from hiprot import quat
from hiprot.fusion.base import OrientationFilter
from hiprot.fusion.timeline import MAX_GAP_S, Steps

_LOWPASS_RESTART = [float("nan")] * 6
_DEFAULTS = VQF(0.01).params


class VqfFilter(OrientationFilter):
    """VQF with its default parameters; ``params`` override them (``VQFParams`` names)."""

    name = "vqf"

    def __init__(
        self, rate_hz: float, magnetometer: bool = False, max_gap_s: float = MAX_GAP_S, **params
    ):
        clip = params.get("biasClip", _DEFAULTS["biasClip"])
        super().__init__(rate_hz, magnetometer, max_gap_s, max_bias=np.radians(clip))
        self._vqf = VQF(self.step_s, **params)

    @staticmethod
    def bias_params(max_bias_dps: float) -> dict[str, float]:
        """VQF parameters for a gyroscope whose bias may reach ``max_bias_dps`` per axis.

        VQF clips its bias estimate, and refuses rest while the rate is above, at
        ``biasClip`` (2 °/s by default); its initial bias uncertainty grows with the
        bound so that the first rest finds a large bias quickly.
        """
        clip, sigma = _DEFAULTS["biasClip"], _DEFAULTS["biasSigmaInit"]
        if max_bias_dps <= clip:
            return {}
        return {"biasClip": max_bias_dps, "biasSigmaInit": sigma * max_bias_dps / clip}

    @property
    def bias_(self) -> np.ndarray:
        return np.asarray(self._vqf.getBiasEstimate()[0])

    def _seed_bias(self, bias: np.ndarray) -> None:
        """VQF's estimate set to ``bias``, as uncertain as VQF's default start (``biasSigmaInit``)."""
        self._vqf.setBiasEstimate(np.asarray(bias, float), np.radians(_DEFAULTS["biasSigmaInit"]))

    def _run(self, steps: Steps) -> tuple[np.ndarray, np.ndarray]:
        bounds = [0, *np.flatnonzero(steps.restart), len(steps)]
        quats, rests = [], []
        for start, stop in pairwise(bounds):
            if start == stop:
                continue
            if steps.restart[start]:
                self._restart_leveling()
            part = slice(start, stop)
            q, rest = self._batch(
                steps.gyr[part], steps.acc[part], None if steps.mag is None else steps.mag[part]
            )
            quats.append(q)
            rests.append(rest)
        return np.concatenate(quats), np.concatenate(rests)

    def _batch(self, gyr: np.ndarray, acc: np.ndarray, mag: np.ndarray | None):
        if self.magnetometer and mag is not None:
            out = self._vqf.updateBatch(gyr, acc, mag)
            return out["quat9D"], out["restDetected"]
        out = self._vqf.updateBatch(gyr, acc)
        q = out["quat6D"]
        if self.magnetometer:
            half = 0.5 * self._vqf.getDelta()
            q = quat.multiply(np.array([np.cos(half), 0.0, 0.0, np.sin(half)]), q)
        return q, out["restDetected"]

    def _restart_leveling(self) -> None:
        """Restart VQF's accelerometer low-pass: the next step levels fully, as at the start."""
        state = self._vqf.state
        state["accLpState"] = _LOWPASS_RESTART
        self._vqf.state = state
