"""Joint angles from segment orientations: heading alignment, walking direction, ISB angles."""

from hiprot.kinematics.thigh_twist import ThighTwist

__all__ = ["ThighTwist"]
