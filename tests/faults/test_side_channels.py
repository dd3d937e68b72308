"""Side channels never stop or silence a real ``hiprot record``: a damaged, unusable or failing
MQTT outbox, a killed recorder's metrics held in memory, a second recorder of the same device."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time

import pytest

from .conftest import assert_no_sample_lost, unique_metrics

DEVICE = ("hiprot", "hiprot-sim")


def device_dir(state_dir):
    return state_dir.joinpath(*DEVICE)


def garble(path) -> bytes:
    """Overwrite a file with random bytes of its own size (at least 4 kB); what was written."""
    noise = os.urandom(max(4096, path.stat().st_size))
    with open(path, "r+b") as f:
        f.write(noise)
    return noise


def last_health(received) -> dict:
    return received.json("/health")[-1]


def assert_strides_in_order(strides: list[dict], at_least: int) -> None:
    assert len(strides) >= at_least, len(strides)
    assert [m["seq"] for m in strides] == list(range(1, len(strides) + 1)), "lost or out of order"
    assert len({(m["stream"], m["session"]) for m in strides}) == 1


def test_outbox_failing_mid_session_keeps_recording_and_publishing(
    broker, subscribe, walk_rig, start_record, state_dir, tmp_path
):
    sub = subscribe(broker, "hiprot/#")
    recorder = start_record(
        "--rig", walk_rig, "--broker", broker.address, "--duration", 18, "--out", tmp_path / "s"
    )
    assert sub.received.wait(lambda r: len(unique_metrics(r, "/stride")) >= 1, 60), "no stride"
    (outbox,) = state_dir.rglob("*.sqlite3")  # the one the recorder writes
    for path in (
        outbox,
        outbox.with_name(outbox.name + "-wal"),
        outbox.with_name(outbox.name + "-shm"),
    ):
        garble(path)
    before = len(unique_metrics(sub.received, "/stride"))
    returncode, out, err = recorder.finish()
    assert returncode == 0, err
    assert sub.received.wait(lambda r: r.on("/status")[-1:] == [b"offline"], 30)

    strides = unique_metrics(sub.received, "/stride")
    assert_strides_in_order(strides, before + 3)  # publishing went on after the failure
    (warning,) = err.splitlines()
    assert warning.startswith(f"warning: MQTT outbox {outbox} failed") and "memory" in warning
    health = [h["mqtt"] for h in sub.received.json("/health")]
    assert health[0]["outbox"] == "disk" and health[-1]["outbox"] == "memory"
    assert "failed" in health[-1]["problem"], "health says the outbox went to memory"
    (session_dir,) = (tmp_path / "s").iterdir()
    meta = json.loads((session_dir / "session.json").read_text())
    assert meta["mqtt"]["outbox"] == "memory" and "failed" in meta["mqtt"]["problem"]
    assert meta["metrics_published"] == {"stride": len(strides)}, "acknowledged = delivered"
    lost = meta["mqtt"]["metrics_lost"]  # one unacknowledged in the file when it was garbled
    assert lost <= 1 and meta["metrics_produced"] == {"stride": len(strides) + lost}
    assert f"mqtt: {len(strides)} metrics acknowledged by the broker; degraded: " in out
    assert_no_sample_lost(session_dir, duration_s=18)


def test_damaged_outboxes_of_earlier_runs_are_put_aside(
    broker, subscribe, walk_rig, start_record, state_dir, tmp_path
):
    """The issue's reproduction: random bytes where the outbox of earlier versions was; and a
    damaged per-session outbox an earlier session left."""
    legacy = state_dir / "hiprot" / "mqtt-outbox-hiprot-sim.sqlite3"
    left = device_dir(state_dir) / "outbox" / "hiprot-sim-20260101T000000Z-0123456789ab.sqlite3"
    left.parent.mkdir(parents=True)
    noise = {}
    for path in (legacy, left):
        path.write_bytes(b"")
        noise[path] = garble(path)
    sub = subscribe(broker, "hiprot/#")
    recorder = start_record(
        "--rig", walk_rig, "--broker", broker.address, "--duration", 12, "--out", tmp_path / "s"
    )
    returncode, out, err = recorder.finish()
    assert returncode == 0, err
    assert len(err.splitlines()) == 2 and err.count("is damaged") == 2, err
    kept = sorted((device_dir(state_dir) / "outbox").glob("*.damaged"))
    assert sorted(p.read_bytes() for p in kept) == sorted(noise.values()), "kept for inspection"
    assert not legacy.exists()
    assert_strides_in_order(unique_metrics(sub.received, "/stride"), 2)
    assert sub.received.json("/health")[-1]["mqtt"]["outbox"] == "disk"
    (session_dir,) = (tmp_path / "s").iterdir()
    assert_no_sample_lost(session_dir, duration_s=12)


def test_unusable_state_directory_records_and_publishes_from_memory(
    broker, subscribe, walk_rig, start_record, state_dir, tmp_path
):
    state_dir.write_text("a file where the state directory should be\n")
    sub = subscribe(broker, "hiprot/#")
    recorder = start_record(
        "--rig", walk_rig, "--broker", broker.address, "--duration", 12, "--out", tmp_path / "s"
    )
    returncode, out, err = recorder.finish()
    assert returncode == 0, err
    lock_warning, outbox_warning = err.splitlines()
    assert "cannot lock the device" in lock_warning and "recording anyway" in lock_warning
    assert "unusable" in outbox_warning and "memory" in outbox_warning
    strides = unique_metrics(sub.received, "/stride")
    assert_strides_in_order(strides, 2)
    assert last_health(sub.received)["mqtt"]["outbox"] == "memory"
    (session_dir,) = (tmp_path / "s").iterdir()
    meta = json.loads((session_dir / "session.json").read_text())
    assert meta["mqtt"]["outbox"] == "memory" and meta["mqtt"]["metrics_lost"] == 0
    assert meta["metrics_published"] == {"stride": len(strides)}
    assert_no_sample_lost(session_dir, duration_s=12)


def test_metrics_only_in_memory_when_killed_are_reported_lost_at_the_next_start(
    walk_rig, start_record, state_dir, tmp_path
):
    device_dir(state_dir).mkdir(parents=True)
    (device_dir(state_dir) / "outbox").write_text("not a directory: the outbox goes to memory\n")
    recorder = start_record("--rig", walk_rig, "--broker", "127.0.0.1:1", "--out", tmp_path / "a")
    recorder.wait_for("recording ")
    lock = device_dir(state_dir) / "lock"
    deadline = time.monotonic() + 60
    while json.loads(lock.read_text()).get("memory_only", 0) < 2:
        assert time.monotonic() < deadline and recorder.process.poll() is None, "no stride held"
        time.sleep(0.1)
    recorder.kill()
    note = json.loads(lock.read_text())
    later = start_record("--rig", walk_rig, "--no-mqtt", "--duration", 1, "--out", tmp_path / "b")
    returncode, _, err = later.finish()
    assert returncode == 0, err
    assert err == (
        f"warning: {note['memory_only']} MQTT metrics of session {note['session']} existed only "
        "in memory when its recorder was killed: they are lost\n"
    )
    (killed,) = (tmp_path / "a").iterdir()
    assert note["session"] == killed.name
    again = start_record("--rig", walk_rig, "--no-mqtt", "--duration", 1, "--out", tmp_path / "c")
    assert again.finish()[2] == "", "reported once"


def test_second_recorder_of_a_device_is_refused_and_never_takes_over(
    broker, subscribe, walk_rig, start_record, tmp_path
):
    sub = subscribe(broker, "hiprot/+/status")
    first = start_record(
        "--rig", walk_rig, "--broker", broker.address, "--duration", 8, "--out", tmp_path / "a"
    )
    first.wait_for("recording ")
    assert sub.received.wait(lambda r: r.on("/status") == [b"online"], 30)
    second = start_record(
        "--rig", walk_rig, "--broker", broker.address, "--duration", 2, "--out", tmp_path / "b"
    )
    returncode, out, err = second.finish()
    assert returncode == 2 and out == ""
    assert err.count("\n") == 1 and "already in use by another hiprot process" in err
    assert f"pid {first.process.pid}, hiprot record" in err
    assert not (tmp_path / "b").exists()
    demo = subprocess.run(
        [
            sys.executable,
            "-m",
            "hiprot",
            "demo",
            "--broker",
            broker.address,
            "--out",
            tmp_path / "d",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_STATE_HOME": str(first.state_dir)},
    )
    assert demo.returncode == 2 and "already in use" in demo.stderr and demo.stdout == ""
    returncode, _, err = first.finish()
    assert returncode == 0, err
    assert sub.received.wait(lambda r: r.on("/status")[-1:] == [b"offline"], 30)
    assert sub.received.on("/status") == [b"online", b"offline"], "no takeover, no flapping"


def test_a_recorder_with_another_state_directory_is_refused_too(walk_rig, start_record, tmp_path):
    """The service keeps its state in /var/lib/hiprot, a run by hand in ~/.local/state: the
    device is still one per machine (its abstract socket name), and the first run's note stays."""
    first = start_record("--rig", walk_rig, "--no-mqtt", "--duration", 8, "--out", tmp_path / "a")
    first.wait_for("recording ")
    other_state = tmp_path / "other-state"
    second = subprocess.run(
        [sys.executable, "-m", "hiprot", "record", "--rig", walk_rig, "--no-mqtt"]
        + ["--duration", "2", "--out", tmp_path / "b"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_STATE_HOME": str(other_state)},
    )
    assert second.returncode == 2 and second.stdout == ""
    assert second.stderr.count("\n") == 1 and "another user or state directory" in second.stderr
    assert not (tmp_path / "b").exists()
    returncode, _, err = first.finish()
    assert returncode == 0, err
    again = subprocess.run(  # the name is free once the first has ended
        [sys.executable, "-m", "hiprot", "record", "--rig", walk_rig, "--no-mqtt"]
        + ["--duration", "1", "--out", tmp_path / "c"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_STATE_HOME": str(other_state)},
    )
    assert again.returncode == 0, again.stderr


def test_state_file_system_filling_up_mid_session_keeps_recording_and_publishing(
    broker, subscribe, walk_rig, tmp_path
):
    """A real, small tmpfs as the state directory (in a private mount namespace), filled up
    once the first stride was delivered: the outbox's next write fails, it carries on in memory."""
    state, kept, go = tmp_path / "state", tmp_path / "kept", tmp_path / "go"
    state.mkdir()
    kept.mkdir()
    record = shlex.join(
        [sys.executable, "-m", "hiprot", "record", "--rig", str(walk_rig), "--duration", "16"]
        + ["--broker", broker.address, "--out", str(tmp_path / "s")]
    )
    script = (
        f"mount -t tmpfs -o size=1M tmpfs {state} || exit 99\n"
        f"XDG_STATE_HOME={state} {record} > {kept}/out 2> {kept}/err &\n"
        f"while [ ! -e {go} ]; do sleep 0.1; done\n"
        f"head -c 2000000 /dev/zero > {state}/filler\n"
        f"wc -c < {state}/filler > {kept}/filled\n"
        "wait $!; echo $? > " + f"{kept}/rc\n"
    )
    sub = subscribe(broker, "hiprot/#")
    shell = subprocess.Popen(
        ["unshare", "--map-root-user", "--mount", "sh", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if not sub.received.wait(lambda r: len(unique_metrics(r, "/stride")) >= 1, 60):
            _, err = shell.communicate(timeout=60)
            if shell.returncode == 99 or "unshare failed" in err:
                pytest.fail(f"mount namespaces are not permitted here (.ci/run needs them): {err}")
            pytest.fail(f"no stride: {err}")
        go.touch()
        before = len(unique_metrics(sub.received, "/stride"))
        _, err = shell.communicate(timeout=120)
    finally:
        if shell.poll() is None:
            shell.kill()
    assert shell.returncode == 0, err
    # the filler stopped short of its 2 MB: the state directory was the small file system and
    # it was full (df run just after could already show space the recorder had freed: 64 kB
    # of 1 MB free in one run)
    assert int((kept / "filled").read_text()) < 2_000_000, "the state file system was full"
    assert (kept / "rc").read_text().strip() == "0", (kept / "err").read_text()
    (warning,) = (kept / "err").read_text().splitlines()
    assert "failed" in warning and "memory" in warning
    assert sub.received.wait(lambda r: r.on("/status")[-1:] == [b"offline"], 30)
    strides = unique_metrics(sub.received, "/stride")
    assert_strides_in_order(strides, before + 3)
    assert sub.received.json("/health")[-1]["mqtt"]["outbox"] == "memory"
    (session_dir,) = (tmp_path / "s").iterdir()
    meta = json.loads((session_dir / "session.json").read_text())
    assert meta["mqtt"]["outbox"] == "memory"
    assert meta["metrics_published"] == {"stride": len(strides)}
    assert_no_sample_lost(session_dir, duration_s=16)
