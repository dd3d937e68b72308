"""``hiprot dashboard``: serve the live web dashboard (the page talks to the broker itself,
segment commands included)."""

from __future__ import annotations

import threading

import click

from hiprot.cli.common import load, rig_option, stop_on_signals
from hiprot.dashboard import DashboardServer, dashboard_settings
from hiprot.dashboard.server import GUIDED_REPS, GUIDED_TRIALS
from hiprot.errors import HiprotError


@click.command()
@rig_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to serve on; 0.0.0.0 to reach it from a phone on the same network.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="HTTP port (0 picks a free one).",
)
@click.option(
    "--ws-url",
    default=None,
    metavar="URL",
    help="Broker WebSocket URL for the page, e.g. ws://pi.local:9001 (default: the page's own "
    "host at [mqtt] websocket_port; the rig's broker host is never handed to the page).",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="Another name the page may be opened by (besides localhost, this machine's host name, "
    "<host name>.local and its addresses); requests naming other hosts get 421.",
)
@click.option(
    "--device", default=None, metavar="ID", help="Device id to show (default: the rig's)."
)
@click.option(
    "--trials",
    type=click.IntRange(1, 20),
    default=GUIDED_TRIALS,
    show_default=True,
    help="Trials per leg in the guided test.",
)
@click.option(
    "--reps",
    type=click.IntRange(1, 100),
    default=GUIDED_REPS,
    show_default=True,
    help="Repetitions per leg in the guided exercises.",
)
def dashboard(rig_path, host, port, ws_url, allow_hosts, device, trials, reps) -> None:
    """Serve a live dashboard: the guided test → exercises → re-test with its verdict, hip
    rotation chart, last stride/rep/trial, segment controls, health, connection state."""
    rig = load(rig_path)
    settings = dashboard_settings(rig, device, ws_url, trials, reps)
    try:
        server = DashboardServer(settings, host, port, allow_hosts)
    except OSError as exc:
        raise HiprotError(
            f"cannot serve the dashboard on {host}:{port}: {exc.strerror or exc}"
        ) from exc
    broker = settings["ws_url"] or f"the page's host, WebSocket port {settings['ws_port']}"
    click.echo(
        f"dashboard for {settings['base']} on {server.url} (broker: {broker}); Ctrl-C ends it"
    )
    if ws_url is None and rig.mqtt.host not in ("localhost", "127.0.0.1", "::1"):
        click.echo(
            "note: the page connects to the WebSocket port of the host it was opened from; "
            "if the broker runs elsewhere, give --ws-url ws://BROKER:PORT"
        )
    stop = stop_on_signals()
    thread = threading.Thread(target=server.serve_forever, name="dashboard-http", daemon=True)
    thread.start()
    stop.wait()
    server.shutdown()
    server.server_close()
