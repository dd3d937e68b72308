"""Serves the dashboard page, its vendored libraries and a ``config.json`` for the page.

The page itself talks MQTT over WebSockets straight to the broker, segment commands
included (the wearer's broker account, typed into the page); this server only hands
out files and the settings the page needs (topic base, WebSocket port or URL, the
guided protocol's trials and repetitions and the change a re-test must exceed). It
hands out no user name, password or broker host name: the page asks for credentials
itself, and connects to its own host unless ``--ws-url`` names the broker.

Hardening (OWASP Secure Headers Project; RFC 9110 §7.2 for ``Host``):

- no directory listings, and a ``Server`` header without versions;
- every response carries a Content-Security-Policy (only this server's own
  scripts, styles and images, WebSocket connections, no framing, no form
  posts), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``
  and ``X-Frame-Options: DENY``;
- the ``Host`` header must name this device (``localhost``, its host name,
  ``<host name>.local``, the ``--host`` address, names given with
  ``--allow-host``) or be the address the request arrived at; anything else is
  421 Misdirected Request. A page on another site whose DNS name is re-pointed
  at the device (DNS rebinding) sends its own name, so it reads nothing.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path

from hiprot.analysis.change_threshold import KRAUSE
from hiprot.analysis.rotation_tests import MIN_DETECTABLE_DEG
from hiprot.config import Rig

STATIC = Path(str(files("hiprot.dashboard") / "static"))
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


GUIDED_TRIALS = 3  # trials per leg in the guided test (docs/dashboard.md)
GUIDED_REPS = 8  # repetitions per leg in the guided exercises (the simulator's default set)


def dashboard_settings(
    rig: Rig,
    device_id: str | None = None,
    ws_url: str | None = None,
    trials: int = GUIDED_TRIALS,
    reps: int = GUIDED_REPS,
) -> dict:
    """What the page needs to connect (``ws_url`` None means "the page's host, ``ws_port``")
    and to guide a session: trials and repetitions per leg, and the change a re-test must
    exceed besides the trials' spread — the published between-session MDC95 of the seated IR
    test (Krause et al. 2015, :data:`~hiprot.analysis.change_threshold.KRAUSE`), never under
    :data:`~hiprot.analysis.rotation_tests.MIN_DETECTABLE_DEG`."""
    device_id = device_id or rig.device_id
    return {
        "device_id": device_id,
        "base": f"{rig.mqtt.topic_prefix}/{device_id}",
        "ws_url": ws_url,
        "ws_port": rig.mqtt.websocket_port,
        "ws_tls": rig.mqtt.tls,
        "trials": trials,
        "reps": reps,
        "mdc_deg": round(KRAUSE.mdc95_deg, 2),
        "min_detectable_deg": MIN_DETECTABLE_DEG,
    }


def own_names(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Host names (lower case) by which this device may be asked for the dashboard."""
    hostname = socket.gethostname()
    names = {"localhost", hostname, f"{hostname}.local", *extra}  # no DNS lookup at start
    names.add(bind_host)  # the address printed in the URL, 0.0.0.0 included
    return frozenset(n.lower().rstrip(".") for n in names if n)


def host_of(header: str) -> str:
    """The host part of a ``Host`` header (port and IPv6 brackets removed), lower case."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else ""
    if value.count(":") == 1:
        value = value.split(":")[0]
    return value.rstrip(".")


class _Handler(SimpleHTTPRequestHandler):
    """Static files from the package, plus ``/config.json``; no access log on the terminal."""

    def __init__(self, *args, settings: bytes, allowed: frozenset[str], **kwargs):
        self.settings, self.allowed = settings, allowed
        super().__init__(*args, directory=str(STATIC), **kwargs)

    def version_string(self) -> str:
        return "hiprot"

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def list_directory(self, path):
        self.send_error(404)
        return None

    def _host_allowed(self) -> bool:
        host = host_of(self.headers.get("Host", ""))
        if host in self.allowed:
            return True
        try:
            asked = ipaddress.ip_address(host)
        except ValueError:
            return False
        local = ipaddress.ip_address(self.connection.getsockname()[0])
        return asked == local or asked == getattr(local, "ipv4_mapped", None)

    def do_HEAD(self) -> None:
        if not self._host_allowed():
            self.send_error(421, "this server answers to its own names only")
            return
        super().do_HEAD()

    def do_GET(self) -> None:
        if not self._host_allowed():
            self.send_error(421, "this server answers to its own names only")
            return
        if self.path.split("?")[0] == "/config.json":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(self.settings)))
            self.end_headers()
            self.wfile.write(self.settings)
            return
        super().do_GET()

    def log_message(self, format: str, *args) -> None:
        pass


class DashboardServer(ThreadingHTTPServer):
    """An HTTP server for the dashboard on ``host:port`` (port 0 picks a free one);
    ``allow_hosts`` adds names it answers to (e.g. a DNS name of the device)."""

    daemon_threads = True

    def __init__(
        self,
        settings: dict,
        host: str = "127.0.0.1",
        port: int = 8080,
        allow_hosts: Iterable[str] = (),
    ):
        handler = partial(
            _Handler,
            settings=json.dumps(settings).encode(),
            allowed=own_names(host, allow_hosts),
        )
        super().__init__((host, port), handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"
