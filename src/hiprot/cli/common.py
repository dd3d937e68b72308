"""Options and helpers shared by several commands."""

from __future__ import annotations

import logging
import math
import signal
import threading
from dataclasses import replace
from pathlib import Path

import click

from hiprot.cli import console
from hiprot.columns import MODES
from hiprot.config import Rig, check_subject, load_rig
from hiprot.errors import ConfigError

rig_option = click.option(
    "--rig",
    "rig_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Rig file (TOML). Default: the simulated rig config/sim.toml.",
)
broker_option = click.option(
    "--broker", default=None, metavar="HOST[:PORT]", help="MQTT broker, overriding the rig file."
)
no_mqtt_option = click.option("--no-mqtt", is_flag=True, help="Do not publish over MQTT.")
mode_option = click.option(
    "--mode",
    type=click.Choice(MODES),
    default=None,
    help="Rotation tests done actively (the person moves) or passively (the examiner moves "
    "the leg); stored in session.json and carried by every trial.",
)


def _subject(ctx, param, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_subject(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None


subject_option = click.option(
    "--subject",
    default=None,
    metavar="ID",
    callback=_subject,
    help="Pseudonymous subject code of the person (e.g. P07; a code, never a name), "
    "overriding the rig file's subject.",
)


def repeated_session(sessions_dir: Path, name: str | None) -> str | None:
    """The directory name of the session ``name`` (a name or a path) that a new session in
    ``sessions_dir`` repeats; a bad option when no such session is there."""
    if name is None:
        return None
    found = Path(sessions_dir) / Path(name).name
    if not (found / "session.json").is_file():
        raise click.BadParameter(
            f"no session {Path(name).name!r} in {sessions_dir} to repeat", param_hint="--repeat-of"
        )
    return found.name


class EchoHandler(logging.Handler):
    """Library log records as lines on stderr: ``warning: ...`` (the level, lower case, then the
    message) from warnings up, the bare message below. Echoed at each record, so the line goes
    to whatever stderr is then (as ``click.echo`` did in the library before), on a line of its
    own beside a progress line (:mod:`hiprot.cli.console`)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.levelno >= logging.WARNING:
                message = f"{record.levelname.lower()}: {message}"
            console.echo(message, err=True)
        except Exception:  # a broken stderr must not stop a recording
            self.handleError(record)


def install_log_handler() -> None:
    """Print hiprot's library log records (warnings and up) on stderr, once per process."""
    logger = logging.getLogger("hiprot")
    if not any(isinstance(h, EchoHandler) for h in logger.handlers):
        logger.addHandler(EchoHandler(logging.WARNING))
    logger.setLevel(logging.WARNING)


class FiniteRange(click.FloatRange):
    """A float range that also refuses ``nan`` and ``inf``, which a plain FloatRange lets through."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def load(rig_path: Path | None, subject: str | None = None) -> Rig:
    """The rig named on the command line, or the simulated default; ``subject`` (``--subject``)
    replaces the rig file's."""
    rig = load_rig(rig_path)
    return rig if subject is None else replace(rig, subject=subject)


def parse_broker(value: str | None) -> tuple[str | None, int | None]:
    """``HOST[:PORT]`` → (host, port); (None, None) when not given."""
    if value is None:
        return None, None
    host, _, port = value.rpartition(":") if ":" in value else (value, "", "")
    if not host or (port and not port.isdigit()) or (port and not 0 < int(port) < 65536):
        raise click.BadParameter(
            f"expected HOST or HOST:PORT, got {value!r}", param_hint="--broker"
        )
    return host, int(port) if port else None


def stop_on_signals() -> threading.Event:
    """An event set by Ctrl-C (SIGINT) or SIGTERM, so loops end cleanly."""
    stop = threading.Event()

    def handler(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def echo_calibration(summary) -> None:
    """Say why a run produced no live joint angles, if it did not."""
    if summary.calibration_error:
        click.echo(f"note: no live joint angles: {summary.calibration_error}")


def echo_mqtt(outcome: dict | None) -> None:
    """One line on what the broker acknowledged and what did not get there, and why."""
    if outcome is None:
        return
    acknowledged = sum(outcome["metrics_acknowledged"].values())
    line = f"mqtt: {acknowledged} metrics acknowledged by the broker"
    if outcome["metrics_waiting"]:
        line += f", {outcome['metrics_waiting']} wait in the outbox for the next start"
    if outcome["metrics_dropped"]:
        line += f", {outcome['metrics_dropped']} dropped (outbox full)"
    if outcome["metrics_lost"]:
        line += f", {outcome['metrics_lost']} lost"
    if "problem" in outcome:
        line += f"; degraded: {outcome['problem']}"
    click.echo(line)


def warn_lost(previous: dict) -> None:
    """Report the MQTT metrics a killed run of this device held only in memory (its lock note)."""
    if previous.get("memory_only"):
        click.echo(
            f"warning: {previous['memory_only']} MQTT metrics of session "
            f"{previous.get('session')} existed only in memory when its recorder was killed: "
            "they are lost",
            err=True,
        )
