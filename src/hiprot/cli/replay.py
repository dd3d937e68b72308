"""``hiprot replay``: run a recorded session through the live pipeline and publish it over MQTT.

The pipeline (scipy) is imported once the session has loaded: a session that cannot be
replayed is refused without it."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import click

from hiprot.cli.common import (
    FiniteRange,
    broker_option,
    echo_calibration,
    echo_mqtt,
    load,
    mode_option,
    no_mqtt_option,
    parse_broker,
    stop_on_signals,
    warn_lost,
)
from hiprot.columns import SUBJECT
from hiprot.config import check_subject
from hiprot.errors import ConfigError
from hiprot.mqtt import Publisher
from hiprot.recording import load_session
from hiprot.recording.replay import replay_chunks
from hiprot.state import DeviceLock, adopt_legacy_outbox, outbox_dir


@click.command()
@click.argument("session_dir", metavar="SESSION", type=click.Path(path_type=Path))
@click.option(
    "--speed",
    type=FiniteRange(min=0),
    default=1.0,
    show_default=True,
    help="Times real time; 0 replays as fast as possible.",
)
@click.option(
    "--rig",
    "rig_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Re-run with another rig file's settings (same sensor names), "
    "e.g. another fusion filter. Default: the session's own rig.toml.",
)
@click.option(
    "--subject",
    default=None,
    metavar="ID",
    help="Publish under this pseudonymous subject code (default: the session's own).",
)
@mode_option
@broker_option
@no_mqtt_option
def replay(session_dir, speed, rig_path, subject, mode, broker, no_mqtt) -> None:
    """Replay SESSION through the live pipeline, publishing like a live rig.

    A session still being recorded is followed until its recorder closes it.
    Published, it is marked as a replay under a session id of its own, and it
    is refused while another process records or publishes for the same device.
    """
    session = load_session(session_dir)
    rig = session.rig
    if rig_path is not None:
        rig = load(rig_path)
        missing = sorted(set(session.samples) - {s.name for s in rig.sensors})
        if missing:
            raise ConfigError(
                f"{rig_path}: has no sensors named {', '.join(missing)} "
                f"(the session {session.path} was recorded with them)"
            )
    rig = replace(rig, subject=_subject(subject, session))
    host, port = parse_broker(broker)
    from hiprot import run_loop
    from hiprot.analysis.rotation_tests import session_mode

    stop = stop_on_signals()
    pace = "as fast as possible" if speed == 0 else f"{speed:g}x real time"
    click.echo(f"replaying {session.path} at {pace}: {session.recovery.summary()}")
    publisher, lock = None, None
    if rig.mqtt.enabled and not no_mqtt:
        lock = DeviceLock(rig.device_id, "replay").acquire()
        if lock.problem is not None:
            click.echo(f"warning: {lock.problem}; replaying anyway", err=True)
        warn_lost(lock.previous)
        adopt_legacy_outbox(rig.device_id)
        publisher = Publisher(
            rig.mqtt,
            rig.device_id,
            host,
            port,
            outbox_dir=outbox_dir(rig.device_id),
            on_memory_only=lock.note_memory_only,
        )
    try:
        if publisher is not None:
            publisher.start()
        summary = run_loop.run(
            rig,
            replay_chunks(session, speed, stop),
            None,
            publisher,
            stop,
            session_path=session.path,
            activity=_activity(session.meta),
            mode=mode or session_mode(session.meta),
            start_utc=session.meta.get("start_utc"),
            session_id=f"{session.path.name}-replay-{uuid.uuid4().hex[:8]}",
            replay=True,
        )
    finally:
        if lock is not None:
            lock.release()
    click.echo(
        f"replayed {summary.duration_s:.1f} s: "
        + ", ".join(f"{n} {c} samples" for n, c in summary.samples.items())
    )
    echo_calibration(summary)
    for name, (lo, hi) in summary.angle_range_deg.items():
        click.echo(f"{name}: {lo:.1f} to {hi:.1f} deg")
    echo_mqtt(summary.mqtt)


def _subject(given: str | None, session) -> str | None:
    """``--subject``, else the session's subject (session.json, else its rig.toml), checked."""
    subject = given or session.meta.get(SUBJECT) or session.rig.subject
    try:
        return None if subject is None else check_subject(subject)
    except ConfigError as exc:
        where = "--subject" if given else str(session.path)
        raise ConfigError(f"{where}: {exc}") from None


def _activity(meta: dict) -> str | None:
    """The recorded activity, if it is one the live analysis knows."""
    from hiprot.analysis.live import ACTIVITIES

    activity = meta.get("activity")
    return activity if activity in ACTIVITIES else None
