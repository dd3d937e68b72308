"""The simulated rig as a source: simulator motion through emulated chips and the real drivers."""

from __future__ import annotations

import json

import numpy as np

from hiprot import run_loop
from hiprot.config import load_rig
from hiprot.recording import SessionWriter
from hiprot.sources import Source, open_source


def test_simulated_rig_source_yields_every_sample_through_the_drivers():
    rig = load_rig()
    source = open_source(rig, duration_s=5.0, realtime=False)
    assert isinstance(source, Source)
    parts: dict[str, list] = {}
    try:
        for chunk in source:
            for name, samples in chunk.items():
                parts.setdefault(name, []).append(samples)
    finally:
        source.close()
    truth = source.simulation.samples
    for name, pieces in parts.items():
        times = np.concatenate([p.time_s for p in pieces])
        gyr = np.concatenate([p.gyr for p in pieces])
        assert len(times) == 5 * 200 and np.all(np.diff(times) > 0)
        expected = np.column_stack(
            [np.interp(times, truth[name].time_s, truth[name].gyr[:, i]) for i in range(3)]
        )
        error = np.abs(gyr - expected)
        assert np.median(error) < 0.01, (
            name
        )  # rad/s: quantisation and at most half a period of timing
    health = source.health()
    assert set(health) == {"right_thigh", "right_shank"}
    assert all(
        h["samples"] == 1000 and h["dropped"] == 0 and h["available"] for h in health.values()
    )


def test_sensor_health_goes_into_the_session_metadata(tmp_path):
    rig = load_rig()
    source = open_source(rig, duration_s=2.0, realtime=False)
    try:
        summary = run_loop.run(rig, source, SessionWriter(rig, tmp_path), None)
    finally:
        source.close()
    meta = json.loads((summary.session / "session.json").read_text())
    assert meta["complete"]
    assert meta["health"]["right_thigh"]["samples"] == 400
    assert meta["health"]["right_shank"]["odr_hz"] == 200.0
    assert meta["health"]["right_shank"]["gaps"] == []
