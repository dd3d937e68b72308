"""The live/batch pipeline: samples → orientation per sensor → hip angles.

One object serves both modes: feed it chunks of any size in time order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hiprot.config import Rig
from hiprot.fusion import make_filter
from hiprot.kinematics import ThighTwist
from hiprot.samples import Chunk


@dataclass
class Angles:
    """Joint angles (degrees) at ``time_s``; column names as in ``angles.csv``."""

    time_s: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time_s)


class Pipeline:
    """Fuse every sensor and estimate hip internal rotation per leg."""

    def __init__(self, rig: Rig):
        self.rig = rig
        self.filters = {
            s.name: make_filter(rig.fusion, rig.sample_rate_hz, magnetometer=s.mag_chip is not None)
            for s in rig.sensors
        }
        self.hips = {side: ThighTwist(side, rig.sample_rate_hz) for side in rig.sides}

    def process(self, chunk: Chunk) -> Angles:
        """Angles for the samples in ``chunk`` (timed by the first leg's thigh sensor)."""
        orientations = {name: self.filters[name].update(s) for name, s in chunk.items()}
        angles = None
        for side, hip in self.hips.items():
            thigh = self.rig.find("thigh", side).name
            if thigh not in chunk:
                continue
            if angles is None:
                angles = Angles(chunk[thigh].time_s)
            ir = hip.update(orientations[thigh], chunk[thigh].acc)
            if len(ir) == len(angles):
                angles.columns[f"{side}_hip_ir_deg"] = ir
        return angles if angles is not None else Angles(np.empty(0))
