"""``hiprot monitor``: a device's live MQTT topics in the terminal (works over SSH)."""

from __future__ import annotations

import os
import ssl
import sys
import time

import click

from hiprot.cli.common import (
    FiniteRange,
    broker_option,
    load,
    parse_broker,
    rig_option,
    stop_on_signals,
)
from hiprot.mqtt.connection import (
    KEEPALIVE_S,
    BrokerError,
    new_client,
    refusal_message,
    tls_failure_message,
)
from hiprot.mqtt.view import DeviceView

REFRESH_S = 0.25


@click.command()
@rig_option
@broker_option
@click.option(
    "--device", default=None, metavar="ID", help="Device id to watch (default: the rig's)."
)
@click.option(
    "--plain",
    is_flag=True,
    help="One line per event instead of a full screen (the default when output is not a terminal).",
)
@click.option(
    "--duration",
    type=FiniteRange(min=0, min_open=True),
    default=None,
    metavar="S",
    help="Stop after S seconds (default: until Ctrl-C).",
)
def monitor(rig_path, broker, device, plain, duration) -> None:
    """Show live angles, the last stride/rep/test and health of a device."""
    rig = load(rig_path)
    host, port = parse_broker(broker)
    host, port = host or rig.mqtt.host, port or rig.mqtt.port
    view = DeviceView(f"{rig.mqtt.topic_prefix}/{device or rig.device_id}")
    refusal: list[str] = []
    password = rig.mqtt.read_password() if rig.mqtt.username else None
    client = new_client(rig.mqtt, f"hiprot-monitor-{os.getpid()}", password)

    def on_connect(c, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            refusal.append(refusal_message(rig.mqtt, host, port, reason_code))
            return
        view.connected = True
        c.subscribe(f"{view.base}/#", qos=1)

    def on_disconnect(c, userdata, flags, reason_code, properties):
        view.connected = False

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_message = lambda c, userdata, message: view.message(message.topic, message.payload)
    client.reconnect_delay_set(0.5, 10)
    try:
        client.connect(host, port, keepalive=KEEPALIVE_S)
    except ssl.SSLError as exc:
        raise BrokerError(tls_failure_message(rig.mqtt, host, port, exc)) from exc
    except OSError as exc:
        click.echo(
            f"warning: MQTT broker {host}:{port} not reachable ({exc.strerror or exc}); retrying",
            err=True,
        )
        client.connect_async(host, port, keepalive=KEEPALIVE_S)
    stop = stop_on_signals()
    full_screen = not plain and sys.stdout.isatty()
    end = None if duration is None else time.monotonic() + duration
    client.loop_start()
    try:
        while not stop.is_set() and (end is None or time.monotonic() < end):
            if refusal:
                raise BrokerError(refusal[0])
            if full_screen:
                click.echo("\x1b[H\x1b[2J" + "\n".join(view.screen(f"{host}:{port}")), nl=True)
            else:
                for line in view.take_events():
                    click.echo(line)
            stop.wait(REFRESH_S)
    finally:
        client.loop_stop()
        client.disconnect()
