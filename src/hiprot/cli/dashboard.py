"""``hiprot dashboard``: serve the live web dashboard (the page talks to the broker itself,
segment commands included)."""

from __future__ import annotations

import sys
import threading

import click

from hiprot.cli.common import load, rig_option, stop_on_signals
from hiprot.config import DASHBOARD_PORT
from hiprot.dashboard import DashboardServer, dashboard_settings
from hiprot.dashboard.addresses import phone_urls, qr_text, url
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
    default=DASHBOARD_PORT,
    show_default=True,
    help="HTTP port (0 picks a free one).",
)
@click.option(
    "--qr/--no-qr",
    default=None,
    help="Print a QR code of the address a phone opens (default: when output is a terminal).",
)
@click.option(
    "--show-addresses",
    is_flag=True,
    help="Only print where a dashboard served on --host and --port is opened (e.g. the "
    "hiprot-dashboard service's), with its QR code, and exit.",
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
def dashboard(
    rig_path, host, port, ws_url, allow_hosts, device, trials, reps, qr, show_addresses
) -> None:
    """Serve a live dashboard: the guided test → exercises → re-test with its verdict, hip
    rotation chart, last stride/rep/trial, segment controls, health, connection state."""
    qr = sys.stdout.isatty() if qr is None else qr
    if show_addresses:
        _print_addresses(host, port, qr)
        return
    rig = load(rig_path)
    settings = dashboard_settings(rig, device, ws_url, trials, reps)
    try:
        server = DashboardServer(settings, host, port, allow_hosts)
    except OSError as exc:
        raise HiprotError(
            f"cannot serve the dashboard on {host}:{port}: {exc.strerror or exc}"
        ) from exc
    broker = settings["ws_url"] or f"the page's host, WebSocket port {settings['ws_port']}"
    urls = phone_urls(host, server.server_address[1]) or [server.url]
    click.echo(f"dashboard for {settings['base']} on {urls[0]} (broker: {broker}); Ctrl-C ends it")
    _print_addresses(host, server.server_address[1], qr, shown=1)
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


def _print_addresses(host: str, port: int, qr: bool, shown: int = 0) -> None:
    """The URLs a phone opens after the first ``shown`` ones, and a QR code of the first
    address (it needs no mDNS); or, on loopback, how to serve a phone."""
    urls = phone_urls(host, port)
    if not urls:
        if not shown:
            click.echo(f"open {url(host, port)}")
        click.echo("only this machine can open it; --host 0.0.0.0 serves it to a phone")
        return
    for link in urls[shown:]:
        click.echo(f"open {link}")
    if qr:
        target = urls[1] if len(urls) > 1 else urls[0]
        click.echo(f"QR code of {target}:")
        click.echo(qr_text(target, terminal=sys.stdout.isatty()), nl=False)
