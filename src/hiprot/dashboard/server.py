"""Serves the dashboard page, its vendored libraries and a ``config.json`` for the page.

The page itself talks MQTT over WebSockets straight to the broker; this server
only hands out files and the settings the page needs (topic base, WebSocket
address, user name — never a password).
"""

from __future__ import annotations

import json
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path

from hiprot.config import Rig

STATIC = Path(str(files("hiprot.dashboard") / "static"))


def dashboard_settings(rig: Rig, device_id: str | None = None, ws_url: str | None = None) -> dict:
    """What the page needs to connect: ``ws_url`` None means "the page's host, ``ws_port``"."""
    broker_host = rig.mqtt.host
    if ws_url is None and broker_host not in ("localhost", "127.0.0.1", "::1"):
        scheme = "wss" if rig.mqtt.tls else "ws"
        ws_url = f"{scheme}://{broker_host}:{rig.mqtt.websocket_port}"
    return {
        "device_id": device_id or rig.device_id,
        "base": f"{rig.mqtt.topic_prefix}/{device_id or rig.device_id}",
        "ws_url": ws_url,
        "ws_port": rig.mqtt.websocket_port,
        "ws_tls": rig.mqtt.tls,
        "username": rig.mqtt.username,
    }


class _Handler(SimpleHTTPRequestHandler):
    """Static files from the package, plus ``/config.json``; no access log on the terminal."""

    def __init__(self, *args, settings: bytes, **kwargs):
        self.settings = settings
        super().__init__(*args, directory=str(STATIC), **kwargs)

    def do_GET(self) -> None:
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
    """An HTTP server for the dashboard on ``host:port`` (port 0 picks a free one)."""

    daemon_threads = True

    def __init__(self, settings: dict, host: str = "127.0.0.1", port: int = 8080):
        super().__init__((host, port), partial(_Handler, settings=json.dumps(settings).encode()))

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"
