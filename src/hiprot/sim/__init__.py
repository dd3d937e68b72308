"""Simulated motion with ground truth, and the IMU signals it produces.

``simulate(rig)`` runs the rig's ``[simulation]`` scenario: a body model (pelvis,
thighs, shanks) moves, sensors strapped to it measure, and the true joint angles,
events, orientations and mountings come along for scoring.
"""

from hiprot.sim.simulator import Simulation, simulate

__all__ = ["Simulation", "simulate"]
