"""A device's live state as text: what ``hiprot monitor`` shows, fed by MQTT messages.

:class:`DeviceView` keeps the latest message of each topic and renders either
a full screen (for a terminal) or one line per event (for logs and pipes).
The last stride/rep/test shown always belong to the current session (by the
``session`` id every metric carries): a new session clears those of the one
before, and a metric an earlier session left, delivered late, is only an event line.
"""

from __future__ import annotations

import json
import threading
import time

from hiprot.columns import DEG, HIP_IR

METRICS = ("stride", "rep", "test")
UNITS = (
    ("_deg", "°"),
    ("_s", " s"),
    ("_hz", " Hz"),
    ("_per_min", "/min"),
    ("_percent", " %"),
    ("_mb", " MB"),
    ("_temp_c", " °C"),
)
HIDDEN = {"timestamp", "stream", "session", "replay"}


def format_value(key: str, value) -> str:
    """``hip_ir_max_deg: 12.3`` → ``hip_ir_max 12.3°``: the unit moves from the key to the value."""
    for suffix, unit in UNITS:
        if key.endswith(suffix) and isinstance(value, (int, float)):
            return f"{key[: -len(suffix)]} {value:g}{unit}"
    return f"{key} {value}"


def format_payload(payload: dict) -> str:
    """All fields but the bookkeeping ones, units attached."""
    return "  ".join(
        format_value(k, v)
        for k, v in payload.items()
        if k not in HIDDEN and not isinstance(v, (dict, list))
    )


class DeviceView:
    """Latest state of one device under ``base`` (``<prefix>/<device_id>``); thread-safe."""

    def __init__(self, base: str):
        self.base = base
        self.connected = False
        self.status = "unknown"
        self.latest: dict[str, dict] = {}
        self.session_id: str | None = None
        self.events: list[str] = []
        self._lock = threading.Lock()
        self._last_angles_line = 0.0

    def message(self, topic: str, payload: bytes) -> None:
        """Take one message from the device's topics."""
        name = topic[len(self.base) + 1 :]
        with self._lock:
            if name == "status":
                self.status = payload.decode(errors="replace")
                self.events.append(f"status {self.status}")
                return
            try:
                data = json.loads(payload)
            except ValueError:
                return
            if not isinstance(data, dict):
                return
            if name in METRICS:
                earlier = self.session_id is not None and data.get("session") != self.session_id
                if earlier:
                    self.events.append(f"{name} of earlier session {data.get('session')} (late)")
                else:
                    self.latest[name] = data
                    self.events.append(f"{name} {format_payload(data)}")
                return
            self.latest[name] = data
            if name == "session":
                self._new_session(data.get("session"))
                self.events.append(f"session {self._session_line(data)}")
            elif name == "health":
                self.events.append(f"health {self._health_line(data)}")
            elif name == "angles" and time.monotonic() - self._last_angles_line >= 1.0:
                self._last_angles_line = time.monotonic()
                self.events.append(f"angles {format_payload(data)}")

    def _new_session(self, session_id) -> None:
        """Forget the metrics of any other session (retained ones may arrive before the session)."""
        self.session_id = session_id
        for kind in METRICS:
            if kind in self.latest and self.latest[kind].get("session") != session_id:
                del self.latest[kind]

    def take_events(self) -> list[str]:
        """Lines for plain output since the last call."""
        with self._lock:
            events, self.events = self.events, []
        return events

    def screen(self, broker: str) -> list[str]:
        """The full-screen view as lines."""
        with self._lock:
            link = "connected" if self.connected else "connecting..."
            lines = [
                f"hiprot monitor  {self.base}  broker {broker} {link}  device {self.status}",
                "",
            ]
            session = self.latest.get("session")
            lines.append("session  " + (self._session_line(session) if session else "-"))
            angles = self.latest.get("angles")
            lines.append("angles   " + (format_payload(angles) if angles else "-"))
            if angles:
                for key, value in angles.items():
                    if key.partition("_")[2] == HIP_IR:
                        lines.append(f"         {key.removesuffix(DEG):<14} {_bar(value)}")
            lines.append("")
            for kind in METRICS:
                data = self.latest.get(kind)
                lines.append(f"last {kind:<7}" + (format_payload(data) if data else "-"))
            lines.append("")
            health = self.latest.get("health")
            lines.append("health   " + (self._health_line(health) if health else "-"))
            return lines

    @staticmethod
    def _session_line(data: dict) -> str:
        sides = data.get("calibration", {}).items()
        calibration = ", ".join(f"{side} {state}" for side, state in sides) or "-"
        kind = f"  subject {data['subject']}" if data.get("subject") else ""
        if data.get("replay"):
            kind += f"  REPLAY of {data.get('replay_of', '?')}"
        if data.get("simulated"):
            kind += "  SIMULATED"
        return (
            f"{data.get('session', '?')} {data.get('state', '?')}{kind}  calibration: {calibration}"
        )

    @staticmethod
    def _health_line(data: dict) -> str:
        parts = [
            f"{name} {s.get('rate_hz', 0):g} Hz missed {s.get('missed_samples', 0)}"
            for name, s in data.get("sensors", {}).items()
        ]
        mqtt = data.get("mqtt", {})
        parts.append(
            f"queue {mqtt.get('queue_depth', '?')} dropped {mqtt.get('metrics_dropped', '?')}"
        )
        if mqtt.get("outbox") == "memory" or "problem" in mqtt:
            parts.append(f"outbox {mqtt.get('outbox', '?')}: {mqtt.get('problem', '-')}")
        for key in ("cpu_percent", "disk_free_mb", "battery_percent", "cpu_temp_c"):
            if key in data:
                parts.append(format_value(key, data[key]))
        return " | ".join(parts)


def _bar(value_deg: float, span_deg: float = 45.0, width: int = 41) -> str:
    """A one-line gauge from -span to +span degrees with the value marked."""
    half = width // 2
    pos = half + round(max(-1.0, min(1.0, value_deg / span_deg)) * half)
    cells = ["-"] * width
    cells[half] = "|"
    cells[pos] = "#"
    return f"ER {''.join(cells)} IR"
