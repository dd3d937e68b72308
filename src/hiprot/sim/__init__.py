"""Simulated motion with ground truth, and the IMU signals it produces."""

from hiprot.sim.simple import Simulation, simulate

__all__ = ["Simulation", "simulate"]
