"""The causal estimate: the refined formulas with the fits held (hiprot.kinematics.causal)."""

from __future__ import annotations

import numpy as np
import pytest
from simulated import processed

from hiprot import quat
from hiprot.kinematics.causal import StrideMean, causal_angles, held_at


def test_the_stride_mean_fed_in_pieces_equals_it_fed_whole():
    rng = np.random.default_rng(1)
    heading = np.cumsum(rng.normal(0, 0.05, 1000))
    weight = rng.uniform(0.5, 1.0, 1000)
    whole = StrideMean(200.0).update(heading, weight, 1.1)
    pieces = StrideMean(200.0)
    parts = [
        pieces.update(heading[a : a + 10], weight[a : a + 10], 1.1) for a in range(0, 1000, 10)
    ]
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-9)
    # a stride past: the mean of the last 220 samples' directions
    expected = np.angle(np.sum(weight[-220:] * np.exp(1j * heading[-220:])))
    assert whole[-1] == pytest.approx(expected)


@pytest.mark.parametrize("scenario, pelvis", [("seated-ir", False), ("walk", True)])
def test_with_each_samples_own_fits_the_causal_estimate_is_the_refined_one(scenario, pelvis):
    """One function, live and batch: given the fits of every sample rather than held ones, the
    causal formulas give batch's angles exactly (so what batch reports as the causal figure's
    distance is the holding's alone)."""
    options = {"duration_s": 60.0} if scenario == "walk" else {}
    _, batch = processed(scenario, 1, pelvis, **options)
    angles = batch.angles
    q_eb = {
        name: quat.multiply(track.q_es, batch.calibration.q_sb[name])
        for name, track in batch.grid.tracks.items()
    }
    held = held_at(angles, np.arange(len(angles.time_s)))
    held.walk_offset = {}  # the reference's own heading at every sample: nothing to follow
    causal = causal_angles(batch.rig, q_eb, held, {})
    assert set(causal) >= {"right_hip_ir_deg", "right_knee_flexion_deg"}
    for name, values in causal.items():
        np.testing.assert_allclose(values, angles.columns[name], atol=1e-6, err_msg=name)
