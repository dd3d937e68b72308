"""``hiprot monitor``: plain lines for pipes, a full screen in a real terminal (tmux), clear errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from hiprot.config import MqttConfig
from hiprot.mqtt import Publisher

from .conftest import USER

STRIDE = {"side": "right", "index": 3, "stride_time_s": 1.08, "hip_ir_max_deg": 12.5}


def _publish_session(broker, tmp_path) -> Publisher:
    publisher = Publisher(
        MqttConfig(port=broker.port),
        "hiprot-sim",
        broker.host,
        outbox_dir=tmp_path / "outbox",
    )
    assert publisher.start()
    publisher.begin_session("s1")
    publisher.publish(
        "session",
        {
            "session": "s1",
            "subject": "P07",
            "state": "recording",
            "calibration": {"right": "calibrated"},
        },
        qos=1,
        retain=True,
    )
    publisher.publish("angles", {"time_s": 4.25, "right_hip_ir_deg": 17.25})
    publisher.publish(
        "health",
        {
            "time_s": 4.0,
            "sensors": {"right_thigh": {"rate_hz": 200.0, "missed_samples": 2}},
            "mqtt": {"queue_depth": 0, "metrics_dropped": 0},
            "cpu_percent": 7.5,
        },
    )
    publisher.publish_metric("stride", STRIDE)
    return publisher


def _wait_for(process: subprocess.Popen, text: str, timeout: float = 30) -> None:
    """Block until ``hiprot monitor`` has subscribed (it prints the retained status)."""
    deadline = time.monotonic() + timeout
    line = ""
    while text not in line and time.monotonic() < deadline:
        line = process.stdout.readline()
    assert text in line, f"monitor printed no {text!r}"


def test_plain_monitor_prints_each_event(broker, tmp_path):
    retained = Publisher(
        MqttConfig(port=broker.port),
        "hiprot-sim",
        broker.host,
        client_id="early",
        outbox_dir=tmp_path / "early",
    )
    assert retained.start()
    monitor = subprocess.Popen(
        [sys.executable, "-m", "hiprot", "monitor", "--broker", broker.address, "--duration", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(monitor, "status online")
    retained.stop()
    publisher = _publish_session(broker, tmp_path)
    publisher.flush(10)
    publisher.stop()
    time.sleep(1.0)
    monitor.terminate()
    out, err = monitor.communicate(timeout=30)
    assert monitor.returncode == 0, err
    assert "session s1 recording  subject P07  calibration: right calibrated" in out
    assert "angles time 4.25 s  right_hip_ir 17.25°" in out
    assert "stride seq 1  side right  index 3  stride_time 1.08 s  hip_ir_max 12.5°" in out
    assert "right_thigh 200 Hz missed 2" in out and "cpu 7.5 %" in out
    assert out.rstrip().endswith("status offline")


def test_full_screen_monitor_in_a_terminal(broker, tmp_path):
    tmux = shutil.which("tmux") or pytest.fail("tmux is not installed (.ci/run installs it)")
    session = f"hiprot-monitor-{os.getpid()}"
    command = f"{sys.executable} -m hiprot monitor --broker {broker.address}"
    subprocess.run(
        [tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "30", command], check=True
    )

    def screen_once_it_shows(text: str) -> str:
        deadline, screen = time.monotonic() + 30, ""
        while text not in screen and time.monotonic() < deadline:
            time.sleep(0.3)
            screen = subprocess.run(
                [tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
        return screen

    try:
        assert " connected " in screen_once_it_shows(" connected ")
        publisher = _publish_session(broker, tmp_path)
        publisher.flush(10)
        screen = screen_once_it_shows("cpu 7.5 %")
        publisher.stop()
    finally:
        subprocess.run([tmux, "kill-session", "-t", session])
    assert "broker 127.0.0.1" in screen and "connected" in screen and "device online" in screen
    assert "right_hip_ir 17.25°" in screen and "ER ----" in screen
    assert "last stride seq 1  side right  index 3  stride_time 1.08 s  hip_ir_max 12.5°" in screen
    assert "right_thigh 200 Hz missed 2" in screen


def test_monitor_clears_the_cards_of_the_previous_session(broker, tmp_path):
    """A new session empties last stride/rep/test; a late metric of the earlier one stays out."""
    tmux = shutil.which("tmux") or pytest.fail("tmux is not installed (.ci/run installs it)")
    earlier = _publish_session(broker, tmp_path)
    assert earlier.flush(10)
    earlier.stop()
    session = f"hiprot-monitor-clear-{os.getpid()}"
    command = f"{sys.executable} -m hiprot monitor --broker {broker.address}"
    subprocess.run(
        [tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "30", command], check=True
    )

    def screen_once_it_shows(text: str) -> str:
        deadline, screen = time.monotonic() + 30, ""
        while text not in screen and time.monotonic() < deadline:
            time.sleep(0.3)
            screen = subprocess.run(
                [tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
        return screen

    try:
        assert "last stride seq 1" in screen_once_it_shows("last stride seq 1")
        replay = Publisher(
            MqttConfig(port=broker.port), "hiprot-sim", broker.host, outbox_dir=tmp_path / "r"
        )
        assert replay.start()
        replay.begin_session("s2", replay=True)
        replay.publish(
            "session",
            {
                "session": "s2",
                "state": "recording",
                "simulated": True,
                "replay": True,
                "replay_of": "WALK",
            },
            qos=1,
            retain=True,
        )
        screen = screen_once_it_shows("s2 recording")
        late = Publisher(
            MqttConfig(port=broker.port),
            "hiprot-sim",
            broker.host,
            client_id="late",
            outbox_dir=tmp_path / "late",
        )
        assert late.start()
        late.begin_session("s1")
        late.publish_metric("rep", {"index": 9})
        assert late.flush(10)
        late.stop()
        time.sleep(1.0)
        after_late = screen_once_it_shows("s2 recording")
        replay.stop()
    finally:
        subprocess.run([tmux, "kill-session", "-t", session])
    assert "session  s2 recording  REPLAY of WALK  SIMULATED" in screen
    assert "last stride -\n" in screen, "the stride of session s1 is not shown under s2"
    assert "last rep    -\n" in after_late, "a late rep of s1 is not shown under s2"


def test_monitor_wrong_password_one_line_exit_2(tls_broker, tls_files, tmp_path, sim_rig_text):
    secret = tmp_path / "pw"
    secret.write_text("wrong\n")
    secret.chmod(0o600)
    rig = tmp_path / "rig.toml"
    rig.write_text(
        sim_rig_text.replace(
            "port = 1883",
            f'port = {tls_broker.port}\ntls = true\nca_file = "{tls_files["ca.crt"]}"\n'
            f'username = "{USER}"\npassword_file = "pw"',
        ).replace('host = "localhost"', 'host = "127.0.0.1"')
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hiprot",
            "monitor",
            "--rig",
            str(rig),
            "--plain",
            "--duration",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "refused the connection" in result.stderr
    assert "wrong" not in result.stderr
