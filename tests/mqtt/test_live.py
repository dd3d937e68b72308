"""What a running logger publishes: session, decimated angles, health, raw, Home Assistant configs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from hiprot.analysis.verdict import verdict
from hiprot.mqtt.live import AngleDecimator


def test_decimator_keeps_the_rate_and_sends_the_freshest_sample():
    times = np.arange(0, 10, 1 / 200)
    decimator = AngleDecimator(20.0)
    picked, lasts = [], []
    for chunk in np.array_split(times, 200):
        chosen = decimator.indices(chunk)
        picked += [chunk[i] for i in chosen]
        lasts.append(bool(chosen) and chosen[-1] == len(chunk) - 1)
    assert np.allclose(np.diff(picked), 0.05) and len(picked) == 200
    assert all(lasts), "50 ms chunks at 20 Hz: every chunk's last sample goes out"
    uneven = AngleDecimator(20.0)
    picked = []
    for chunk in np.array_split(times, 137):
        picked += [chunk[i] for i in uneven.indices(chunk)]
    assert abs(len(picked) - 200) <= 1 and len(set(picked)) == len(picked)
    assert np.diff(picked).max() < 0.05 + 10 / 137


def test_demo_publishes_session_angles_health_raw_and_discovery(
    broker, subscribe, tmp_path, sim_rig_text
):
    rig = tmp_path / "rig.toml"
    rig.write_text(
        sim_rig_text.replace(
            "port = 1883",
            "port = 1883\nangles_rate_hz = 10\nhomeassistant_discovery = true\nraw_topics = true",
        )
    )
    sub = subscribe(broker, "#")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hiprot",
            "demo",
            "--rig",
            str(rig),
            "--broker",
            broker.address,
            "--out",
            str(tmp_path / "sessions"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert sub.received.wait(lambda r: r.on("/status")[-1:] == [b"offline"], 20)

    sessions = sub.received.json("hiprot/hiprot-sim/session")
    assert sessions[0]["state"] == "recording" and sessions[0]["calibration"] == {
        "right": "standing"
    }
    assert any(s["calibration"] == {"right": "calibrated"} for s in sessions)
    assert sessions[0]["calibration_verdict"] == {}
    judged = [s["calibration_verdict"]["right"] for s in sessions if s["calibration_verdict"]]
    last = judged[-1] if judged else None
    # the demo's simulated person is realistic (skin, a screw-home knee): the verdict is the
    # figures' own, and a leg that is not good carries what to do
    assert last and last.pop("provisional") is True, last  # the batch analysis judges more
    assert last == verdict(last["figures"]), last
    # live, without the robust knee-axis fits (they would starve the sensors' FIFOs): the
    # plain fit's figures; batch adds the robust fit's (knee axis tilt, hinge residual)
    assert "method_agreement_deg" in last["figures"] and "knee_axis_tilt_deg" not in last["figures"]
    assert ("advice" in last) == (last["verdict"] != "good")
    assert sessions[-1]["state"] == "ended" and sessions[-1]["duration_s"] > 19
    assert sessions[-1]["sensors"][0]["name"] == "right_thigh"

    angles = sub.received.json("/angles")
    times = np.array([a["time_s"] for a in angles])
    assert 195 <= len(angles) <= 201, "20 s at 10 Hz"
    assert abs(np.mean(np.diff(times)) - 0.1) < 0.002 and np.abs(np.diff(times) - 0.1).max() <= 0.05
    assert sum("right_hip_ir_deg" in a for a in angles) >= 175, "IR after the 2 s standing phase"

    health = sub.received.json("/health")
    assert 18 <= len(health) <= 21
    last = health[-1]
    for name in ("right_thigh", "right_shank"):
        assert abs(last["sensors"][name]["rate_hz"] - 200) < 1
        assert last["sensors"][name]["missed_samples"] == 0
    assert last["mqtt"]["connected"] and last["mqtt"]["metrics_dropped"] == 0
    assert (
        last["recording_dropped_chunks"] == 0 and "cpu_percent" in last and "disk_free_mb" in last
    )

    raw = sub.received.json("/raw/right_thigh")
    assert sum(len(r["time_s"]) for r in raw) == 4000
    assert len(raw[0]["acc_m_s2"][0]) == 3 and abs(np.linalg.norm(raw[0]["acc_m_s2"][0]) - 9.81) < 1

    configs = {}
    with sub.received.lock:
        for topic, payload, _ in sub.received.messages:
            if topic.startswith("homeassistant/") and payload:  # empty: an entity removed
                configs[topic] = json.loads(payload)
    ir = configs["homeassistant/sensor/hiprot-sim/right_hip_ir/config"]
    assert (
        ir["state_topic"] == "hiprot/hiprot-sim/state"
        and "right_hip_ir_deg" in ir["value_template"]
    )
    states = sub.received.json("/state")
    assert 18 <= len(states) <= 21, "once a second of sample time, like health"
    state_ir = [s["right_hip_ir_deg"] for s in states]
    means = state_ir[next(i for i, v in enumerate(state_ir) if v is not None) :]
    assert len(means) >= 5 and None not in means, "every second once angles flow"
    published = [a["right_hip_ir_deg"] for a in angles if "right_hip_ir_deg" in a]
    assert min(published) - 1 <= min(means) <= max(means) <= max(published) + 1
    assert (
        ir["availability_topic"] == "hiprot/hiprot-sim/status" and ir["unit_of_measurement"] == "°"
    )
    assert "homeassistant/sensor/hiprot-sim/cadence/config" in configs
    assert (
        configs["homeassistant/binary_sensor/hiprot-sim/status/config"]["payload_off"] == "offline"
    )
    assert len({json.dumps(c["device"]) for c in configs.values()}) == 1, "one device"
    # default_entity_id (HA 2025.10+) instead of the deprecated object_id, with the entity ids
    # HA generated from the old object_id "hiprot_hiprot-sim_right_hip_ir" (slugified)
    assert not any("object_id" in c for c in configs.values())
    assert ir["default_entity_id"] == "sensor.hiprot_hiprot_sim_right_hip_ir"
    status = configs["homeassistant/binary_sensor/hiprot-sim/status/config"]
    assert status["default_entity_id"] == "binary_sensor.hiprot_hiprot_sim_status"


def test_health_carries_the_acquisition_counts(broker, subscribe, tmp_path, sim_rig_text):
    rig = tmp_path / "rig.toml"
    rig.write_text(sim_rig_text.replace("duration_s = 20", "duration_s = 6"))
    sub = subscribe(broker, "hiprot/hiprot-sim/health")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hiprot",
            "demo",
            "--rig",
            str(rig),
            "--broker",
            broker.address,
            "--out",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert sub.received.wait(lambda r: len(r.json("/health")) >= 3, 20)
    sensors = sub.received.json("/health")[-1]["sensors"]
    for counts in sensors.values():
        assert counts["available"] is True
        assert counts["i2c_errors"] == 0 and counts["gaps"] == 0
        assert counts["saturated"] == {"acc": 0, "gyr": 0}  # a walk stays within ±16 g
        assert counts["overflows"] == 0 and counts["max_read_interval_s"] > 0
