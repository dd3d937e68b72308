"""What a calibration found: every sensor's mounting rotation and the figures of how."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STANDING, WALKING_ONLY = "standing", "walking-only"  # how the zero was found


@dataclass
class Calibration:
    """Mounting rotation per sensor (``q_EB = q_ES ⊗ q_SB``) and how it was found;
    ``standing_s``: the standing phase, or (``method`` walking-only) the steady strides
    that stood in for it."""

    q_sb: dict[str, np.ndarray]
    standing_s: tuple[float, float]
    quality: dict[str, dict] = field(default_factory=dict)
    method: str = STANDING

    def as_dict(self) -> dict:
        """JSON-ready summary for reports and session metadata."""
        return {
            "method": self.method,
            "standing_s": [round(v, 3) for v in self.standing_s],
            "mounting_q_sb": {k: [round(float(x), 6) for x in v] for k, v in self.q_sb.items()},
            "quality": self.quality,
        }
