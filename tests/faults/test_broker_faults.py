"""Broker faults during a real ``hiprot record``: the recording never suffers, no metric is lost.

The broker is down at the start, killed and restarted mid-session, or a host
that drops every packet; strides wait in the on-disk outbox meanwhile and
arrive later, once each, in order.
"""

from __future__ import annotations

import signal
import socket
import time

import pytest

from .conftest import assert_no_sample_lost, unique_metrics


def assert_all_strides_in_order(strides: list[dict], at_least: int) -> None:
    assert len(strides) >= at_least
    assert [m["seq"] for m in strides] == list(range(1, len(strides) + 1)), "lost or out of order"
    assert len({m["stream"] for m in strides}) == 1
    starts = [m["start_s"] for m in strides]
    assert starts == sorted(starts)


@pytest.fixture
def black_hole():
    """A local port that drops connection attempts, like a host that swallows packets.

    A listening socket with a full accept queue: Linux silently drops further SYNs,
    so ``connect`` hangs until its timeout instead of being refused. (A TEST-NET address
    such as 192.0.2.1 does not behave alike everywhere: some gateways refuse it at once,
    some proxies accept it.)
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    probe = socket.socket()
    probe.settimeout(0.5)
    with pytest.raises(TimeoutError):
        probe.connect(("127.0.0.1", port))
    probe.close()
    yield f"127.0.0.1:{port}"
    for s in [*fillers, server]:
        s.close()


def test_broker_down_at_start_then_killed_and_restarted_mid_session(
    persistent_broker, subscribe, walk_rig, start_record, outbox_pending, tmp_path
):
    persistent_broker.stop()
    recorder = start_record(
        "--rig", walk_rig, "--broker", persistent_broker.address, "--out", tmp_path / "sessions"
    )
    recorder.wait_for("recording ")
    persistent_broker.start()
    sub = subscribe(persistent_broker, "hiprot/#", persistent=True)
    assert sub.received.wait(lambda r: r.on("/status")[-1:] == [b"online"], 30), "never connected"
    time.sleep(
        6
    )  # a while into the session, close to the first stride (the retry back-off is short)
    persistent_broker.stop()
    deadline = time.monotonic() + 60
    while outbox_pending() == 0:  # strides are produced while the broker is away
        assert time.monotonic() < deadline and recorder.process.poll() is None, "no stride queued"
        time.sleep(0.1)
    queued_while_down = outbox_pending()
    persistent_broker.start()
    assert sub.received.wait(
        lambda r: len(unique_metrics(r, "/stride")) >= queued_while_down + 1, 60
    ), "queued strides and a later one were not delivered"
    recorder.process.send_signal(signal.SIGTERM)
    returncode, _, err = recorder.finish()
    assert returncode == 0, err
    assert sub.received.wait(lambda r: r.on("/status")[-1:] == [b"offline"], 30)

    assert len(err.splitlines()) == 1 and "not reachable" in err, "one warning, at the start"
    assert_all_strides_in_order(unique_metrics(sub.received, "/stride"), queued_while_down + 1)
    assert outbox_pending() == 0, "everything acknowledged left the outbox"
    (session_dir,) = (tmp_path / "sessions").iterdir()
    assert_no_sample_lost(session_dir)


def test_unreachable_broker_keeps_the_recording_whole_and_metrics_for_later(
    black_hole, broker, subscribe, walk_rig, start_record, outbox_pending, tmp_path
):
    recorder = start_record(
        "--rig", walk_rig, "--broker", black_hole, "--duration", 10, "--out", tmp_path / "sessions"
    )
    returncode, _, err = recorder.finish()
    assert returncode == 0, err
    (warning,) = err.splitlines()
    assert warning == (
        f"warning: MQTT broker {black_hole} not reachable; recording continues, "
        "publishing resumes when it appears"
    )
    (session_dir,) = (tmp_path / "sessions").iterdir()
    assert_no_sample_lost(session_dir, duration_s=10)  # waiting for the broker did not cost samples
    left = outbox_pending()
    assert left >= 3, "the strides wait in the outbox"

    sub = subscribe(broker, "hiprot/#")
    later = start_record(
        "--rig", walk_rig, "--broker", broker.address, "--duration", 1, "--out", tmp_path / "later"
    )
    returncode, _, err = later.finish()
    assert returncode == 0 and err == ""
    assert sub.received.wait(lambda r: len(unique_metrics(r, "/stride")) >= left, 30)
    assert_all_strides_in_order(unique_metrics(sub.received, "/stride"), left)
    assert outbox_pending() == 0
