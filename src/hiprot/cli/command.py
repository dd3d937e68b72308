"""``hiprot command``: start, stop or label a segment of the running recording, or drop a marker,
through the device's MQTT command topic; waits for the device's answer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from hiprot.analysis.live import ACTIVITIES
from hiprot.cli.common import FiniteRange, broker_option, load, parse_broker, rig_option
from hiprot.columns import MODE, SUBJECT
from hiprot.mqtt.commands import send_command
from hiprot.recording.segments import LABEL_VALUES, OPS, PHASE

FAILED = ("rejected", "ignored", "failed")


def result_line(result: dict) -> str:
    """One line for people: what the device did with the command."""
    status, op = result.get("status"), result.get("op", "command")
    head = f"{result.get('id')}: {status}"
    if status in FAILED:
        return f"{head}: {result.get('reason', '')}"
    segment, mark = result.get("segment"), result.get("mark")
    if mark is not None:
        return f"{head}: marker at {mark['time_s']:.2f} s"
    if segment is not None:
        state = "open" if segment["end_s"] is None else f"ended at {segment['end_s']:.2f} s"
        return f"{head}: {op}, segment {segment['name']} from {segment['start_s']:.2f} s, {state}"
    return head


@click.command()
@click.argument("op", type=click.Choice(OPS))
@click.option("--activity", type=click.Choice(ACTIVITIES), default=None, help="The activity.")
@click.option("--side", type=click.Choice(LABEL_VALUES["side"]), default=None, help="The leg.")
@click.option(
    "--phase", type=click.Choice(LABEL_VALUES[PHASE]), default=None, help="Before or after."
)
@click.option("--mode", type=click.Choice(LABEL_VALUES[MODE]), default=None, help="Test mode.")
@click.option("--subject", default=None, help="Pseudonymous subject id.")
@click.option("--note", default=None, help="Free text (a label of start/label, or a marker's).")
@click.option(
    "--from-mark", default=None, metavar="ID", help="start: the segment begins at this marker."
)
@click.option(
    "--id", "command_id", default=None, help="Command id (default: a new one); re-send with it."
)
@rig_option
@broker_option
@click.option("--user", default=None, help="MQTT user name (default: the rig's).")
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File holding the MQTT password (mode 600; default: $HIPROT_MQTT_PASSWORD).",
)
@click.option(
    "--timeout",
    type=FiniteRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    metavar="S",
    help="Give up after S seconds without an answer.",
)
def command(
    op,
    activity,
    side,
    phase,
    mode,
    subject,
    note,
    from_mark,
    command_id,
    rig_path,
    broker,
    user,
    password_file,
    timeout,
) -> None:
    """Send OP (start, stop, label, mark) to the rig's device and print its answer.

    The recording itself runs regardless; segments only label stretches of it. Exit status 2
    when the device rejected the command or did not answer (then re-send with the same --id:
    a command applies once, however often it is sent).
    """
    rig = load(rig_path)
    host, port = parse_broker(broker)
    config = rig.mqtt
    if user is not None:
        config = replace(config, username=user, password_file=password_file)
    elif password_file is not None:
        config = replace(config, password_file=password_file)
    labels = {
        k: v
        for k, v in (
            ("activity", activity),
            ("side", side),
            (PHASE, phase),
            (MODE, mode),
            (SUBJECT, subject),
        )
        if v is not None
    }
    payload: dict = {"op": op}
    if op == "mark":
        if note is not None:
            payload["note"] = note
    elif note is not None:
        labels["note"] = note
    if labels:
        payload["labels"] = labels
    if from_mark is not None:
        payload["from_mark"] = from_mark
    if command_id is not None:
        payload["id"] = command_id
    result = send_command(config, rig.device_id, payload, host, port, timeout)
    line = result_line(result)
    if result.get("status") in FAILED:
        click.echo(f"hiprot: error: {line}", err=True)
        raise click.exceptions.Exit(2)
    click.echo(line)
