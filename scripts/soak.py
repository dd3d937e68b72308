"""Soak test: a five-sensor emulated rig recorded for minutes through I2C and broker faults.

Runs ``hiprot record`` on an emulated rig (pelvis on bus 3, both thighs and
shanks of mixed chips behind a TCA9548A on bus 1, 200 Hz, simulated walking)
with a schedule of I2C faults drawn from ``--seed`` (transient errors, unplug
and return, stuck bus, wrong chip) in its ``[[simulation.faults]]``, while this
script kills and restarts its own Mosquitto (with persistence) at random
moments. A persistent QoS 1 subscriber counts metric (``stride``/``rep``/``test``,
unique by ``(stream, seq)``) and ``health`` messages. At the end it prints:

- samples expected (each sensor's rate × duration) vs recorded (the session
  file) vs lost during the injected faults (the health's gaps) vs lost because
  the logger read a FIFO too late (its read loop came back after the FIFO was full),
  and any unexplained loss;
- whether the logger was starved: the longest interval between two reads of a
  sensor against what its FIFO holds;
- metrics produced (``metrics_produced`` in ``session.json``) vs delivered;
- memory (VmRSS of the ``hiprot record`` process) at start, after warm-up, every so
  often, and at the end.

A gap counts as a fault's only if it overlaps that fault's window (from its start
to ``FAULT_REACH_S`` after its end) on the same sensor or, for a stuck bus, on a
sensor of that bus. Any other gap counts as "logger late" only if the health
names a late read as its cause (a FIFO overflow after an interval since the
previous read longer than the FIFO holds: the loss is real, and its cause is the
read loop running late, not an I2C fault); samples lost in any other gap are
unexplained.
Exits 1 when a gap is neither a fault's nor a late read's, samples are lost
unexplained (beyond one sample per sensor and per gap: rate × duration and each
gap's length are known to a sample), a metric was not delivered, or (runs with a
warm-up of a minute or more) memory grew after warm-up by more than
``MEMORY_GROWTH_MB`` or 1 %.

Usage: .venv/bin/python scripts/soak.py --minutes 12 --seed 5 [--json figures.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from local_broker import LocalBroker

from hiprot.recording import load_session

DEVICE = "hiprot-soak"
STILL_S = 5.0  # the simulator's standing calibration: no fault before it is over
QUIET_END_S = 20.0  # no fault in the last seconds (a quarter of a short run), so every gap
# closes and the outbox drains
METRICS = ("stride", "rep", "test")
FAULT_REACH_S = 3.0  # a fault's gap may outlast it by the retry interval, silence detection
# and a reconfigured chip's start-up; faults are at least 6 s apart
START_RSS_S = 5.0  # "memory at start": the session is open and the simulation allocated
WARM_UP_S = 60.0  # the live pipeline's buffers (20 s windows) have filled
MEMORY_GROWTH_MB = 2.0  # allowed growth after warm-up (or 1 % of the RSS, if more)
LATE_LINES = 5  # late reads listed per sensor, the longest first
# name, segment, side, chip, bus, address, multiplexer channel: every supported chip worn
SENSORS = (
    ("pelvis", "pelvis", None, "lsm6dsox", 3, 0x6A, None),
    ("right_thigh", "thigh", "right", "icm42688", 1, 0x68, 1),
    ("right_shank", "shank", "right", "icm20948", 1, 0x68, 2),
    ("left_thigh", "thigh", "left", "lsm6ds3", 1, 0x6B, 3),
    ("left_shank", "shank", "left", "mpu6050", 1, 0x68, 4),
)
CHIPS = ("icm42688", "lsm6dsox", "lsm6ds3", "icm20948", "mpu6050")


class Counter:
    """A persistent QoS 1 subscriber: unique metrics by (stream, seq), health messages."""

    def __init__(self, port: int):
        self.metrics: set[tuple[str, int]] = set()
        self.duplicates = 0
        self.health = 0
        self.unavailable_reports = 0
        self.lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="soak-counter", clean_session=False
        )
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"hiprot/{DEVICE}/#", qos=1)
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.1, 1.0)
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()

    def _on_message(self, client, userdata, message) -> None:
        kind = message.topic.rsplit("/", 1)[-1]
        if message.retain and kind in METRICS:
            return  # the last metric again, as retained for new dashboards
        with self.lock:
            if kind in METRICS:
                body = json.loads(message.payload)
                key = (body["stream"], body["seq"])
                self.duplicates += key in self.metrics
                self.metrics.add(key)
            elif kind == "health":
                body = json.loads(message.payload)
                self.health += 1
                self.unavailable_reports += sum(
                    not s.get("available", True) for s in body["sensors"].values()
                )

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def quiet_end_s(duration_s: float) -> float:
    return min(QUIET_END_S, duration_s / 4)


def i2c_faults(rng: random.Random, duration_s: float) -> list[dict]:
    """Random, non-overlapping I2C faults between the standing calibration and the quiet end."""
    faults, t = [], STILL_S + rng.uniform(2, 8)
    while t < duration_s - quiet_end_s(duration_s) - 6:
        kind = rng.choice(("errors", "unplug", "stuck", "swap"))
        name, _, _, chip, bus, _, _ = rng.choice(SENSORS)
        fault: dict = {"kind": kind, "at_s": round(t, 3)}
        if kind == "stuck":
            fault.update(bus=bus, for_s=round(rng.uniform(0.3, 3.0), 3))
        else:
            fault["sensor"] = name
        if kind == "errors":
            fault.update(count=rng.choice((1, 2, 3, 6, 12, 40)), errno=rng.choice((5, 121)))
        elif kind == "unplug":  # a few milliseconds is a brownout: the chip resets between reads
            fault["for_s"] = round(rng.choice((rng.uniform(0.005, 0.04), rng.uniform(0.5, 5.0))), 3)
        elif kind == "swap":
            fault.update(
                for_s=round(rng.uniform(0.5, 4.0), 3),
                chip=rng.choice([c for c in CHIPS if c != chip]),
            )
        faults.append(fault)
        t += fault.get("for_s", 0.0) + rng.uniform(6, 25)
    return faults


def broker_outages(rng: random.Random, duration_s: float) -> list[tuple[float, float]]:
    """(down at, up at) seconds after the recording started."""
    outages, t = [], rng.uniform(0.25, 0.5) * min(duration_s, 240)
    while True:
        down_s = rng.uniform(1, 10)
        if t + down_s > duration_s - quiet_end_s(duration_s) - 5:
            return outages
        outages.append((t, t + down_s))
        t += down_s + rng.uniform(30, 120)


def toml_value(value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def rig_text(port: int, duration_s: float, seed: int, faults: list[dict]) -> str:
    lines = [
        f'device_id = "{DEVICE}"',
        "sample_rate_hz = 200",
        "",
        "[simulation]",
        'scenario = "walk"',
        f"seed = {seed}",
        f"duration_s = {duration_s}",
        "",
        "[mqtt]",
        'host = "127.0.0.1"',
        f"port = {port}",
    ]
    for fault in faults:
        lines += ["", "[[simulation.faults]]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in fault.items()]
    for name, segment, side, chip, bus, address, channel in SENSORS:
        lines += [
            "",
            "[[sensors]]",
            f'name = "{name}"',
            f'segment = "{segment}"',
            f'chip = "{chip}"',
            f"bus = {bus}",
            f"address = 0x{address:02x}",
        ]
        lines += [f'side = "{side}"'] if side else []
        lines += [f"mux_channel = {channel}"] if channel is not None else []
    return "\n".join(lines) + "\n"


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` in MB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run(minutes: float, seed: int, workdir: Path) -> dict:
    duration_s = round(minutes * 60, 1)
    rng = random.Random(seed)
    faults = i2c_faults(rng, duration_s)
    outages = broker_outages(rng, duration_s)
    broker = LocalBroker(workdir, persistent=True, options="max_queued_messages 0\n")
    broker.start()
    counter = Counter(broker.port)
    rig = workdir / "soak.toml"
    rig.write_text(rig_text(broker.port, duration_s, seed, faults))
    env = {**os.environ, "XDG_STATE_HOME": str(workdir / "state")}
    log = (workdir / "record.log").open("w")
    began = time.monotonic()
    record = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hiprot",
            "record",
            "--rig",
            str(rig),
            "--out",
            str(workdir / "sessions"),
            "--activity",
            "walk",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    warm_up_s = min(WARM_UP_S, duration_s / 4)
    memory: list[tuple[float, float]] = []
    next_sample, pending = min(START_RSS_S, warm_up_s), list(outages)
    try:
        while record.poll() is None:
            elapsed = time.monotonic() - began
            if pending and broker.running and elapsed >= pending[0][0]:
                broker.stop()
            if pending and not broker.running and elapsed >= pending[0][1]:
                broker.start()
                broker.restarts += 1
                pending.pop(0)
            if elapsed >= next_sample:
                rss = rss_mb(record.pid)
                if rss is not None:
                    memory.append((round(elapsed, 1), round(rss, 1)))
                next_sample = max(warm_up_s, next_sample + max(10.0, duration_s / 24))
            time.sleep(0.2)
        if not broker.running:
            broker.start()
        (session_path,) = (workdir / "sessions").iterdir()
        meta = json.loads((session_path / "session.json").read_text())
        produced = sum(meta.get("metrics_produced", {}).values())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(counter.metrics) < produced:
            time.sleep(0.2)
    finally:
        if record.poll() is None:
            record.send_signal(signal.SIGTERM)
            record.wait(30)
        counter.close()
        broker.stop()
        log.close()
    session = load_session(session_path)
    health = meta["health"]
    sensors = {}
    buses = {name: bus for name, _, _, _, bus, _, _ in SENSORS}
    for name, h in health.items():
        expected = round(h["odr_hz"] * duration_s)
        recorded = len(session.samples[name].time_s) if name in session.samples else 0
        ours = [f for f in faults if f.get("sensor") == name or f.get("bus") == buses[name]]
        causes = h.get("gap_causes") or [{"cause": "unknown"}] * len(h["gaps"])
        stray = [(g, c) for g, c in zip(h["gaps"], causes) if not any(overlaps(g, f) for f in ours)]
        late = [(g, c) for g, c in stray if c["cause"] == "late read"]
        lost_in_faults = h["dropped"] - sum(lost(g, h["odr_hz"]) for g, _ in stray)
        lost_logger_late = sum(lost(g, h["odr_hz"]) for g, _ in late)
        sensors[name] = {
            "expected": expected,
            "recorded": recorded,
            "lost_in_faults": lost_in_faults,
            "lost_logger_late": lost_logger_late,
            "gaps": len(h["gaps"]),
            "gaps_without_fault": len(stray),
            "gaps_logger_late": len(late),
            "late_reads": [
                [g[0], c.get("previous_read_after_s", c["read_after_s"]), c["fifo_s"]]
                for g, c in late
            ],
            "unexplained_gaps": [[g[0], g[1], c["cause"]] for g, c in stray if (g, c) not in late],
            "unexplained": expected - recorded - lost_in_faults - lost_logger_late,
            "max_read_interval_s": h.get("max_read_interval_s"),
            "fifo_s": h.get("fifo_s"),
            "i2c_errors": h["i2c_errors"],
        }
    return {
        "minutes": minutes,
        "seed": seed,
        "record_exit": record.returncode,
        "i2c_faults": {
            k: sum(f["kind"] == k for f in faults) for k in ("errors", "unplug", "stuck", "swap")
        },
        "broker_restarts": broker.restarts,
        "sensors": sensors,
        "samples": {
            key: sum(s[key] for s in sensors.values())
            for key in ("expected", "recorded", "lost_in_faults", "lost_logger_late", "unexplained")
        },
        "metrics": {
            "produced": produced,
            "delivered": len(counter.metrics),
            "duplicates_dropped": counter.duplicates,
        },
        "health_messages": counter.health,
        "health_unavailable_reports": counter.unavailable_reports,
        "memory_mb": memory,
        "warm_up_s": warm_up_s,
        "session": str(session_path),
    }


def lost(gap: list[float], rate_hz: float) -> int:
    """Samples missing between the two samples that bound ``gap``."""
    return round((gap[1] - gap[0]) * rate_hz) - 1


def overlaps(gap: list[float], fault: dict) -> bool:
    """Whether a sensor's gap (start, end) falls in the reach of a scheduled fault."""
    start = fault["at_s"] - 0.1
    end = fault["at_s"] + fault.get("for_s", 0.0) + FAULT_REACH_S
    return gap[0] < end and gap[1] > start


def memory_growth_mb(figures: dict) -> float | None:
    """RSS growth from the end of the warm-up to the end, or None before any warm-up sample."""
    after = [mb for t, mb in figures["memory_mb"] if t >= figures["warm_up_s"]]
    return after[-1] - after[0] if after else None


def memory_ok(figures: dict) -> bool:
    """Flat memory after warm-up (judged only for runs warming up for a full minute)."""
    growth = memory_growth_mb(figures)
    if figures["warm_up_s"] < WARM_UP_S or growth is None:
        return True
    warm = next(mb for t, mb in figures["memory_mb"] if t >= figures["warm_up_s"])
    return growth <= max(MEMORY_GROWTH_MB, 0.01 * warm)


def report(figures: dict) -> list[str]:
    s, m = figures["samples"], figures["metrics"]
    memory = figures["memory_mb"]
    lines = [
        (
            f"soak: {figures['minutes']:g} min, seed {figures['seed']}, hiprot record exit "
            f"{figures['record_exit']}; I2C faults {figures['i2c_faults']}, "
            f"broker restarts {figures['broker_restarts']}"
        ),
        (
            f"samples: expected {s['expected']}, recorded {s['recorded']}, lost during injected "
            f"faults {s['lost_in_faults']}, lost because the logger read late "
            f"{s['lost_logger_late']}, unexplained {s['unexplained']}"
        ),
    ]
    for name, x in figures["sensors"].items():
        lines.append(
            f"  {name}: expected {x['expected']}, recorded {x['recorded']}, lost "
            f"{x['lost_in_faults']} in faults and {x['lost_logger_late']} to late reads, "
            f"{x['gaps']} gaps ({x['gaps_without_fault']} without a fault, of which "
            f"{x['gaps_logger_late']} late reads), unexplained {x['unexplained']}, "
            f"I2C errors {x['i2c_errors']}"
        )
        longest = sorted(x["late_reads"], key=lambda r: -r[1])
        for at_s, after_s, fifo_s in longest[:LATE_LINES]:
            lines.append(
                f"    logger late at {at_s:.2f} s: read {after_s:.3f} s after the previous read, "
                f"FIFO holds {fifo_s:.3f} s"
            )
        if len(longest) > LATE_LINES:
            lines.append(f"    and {len(longest) - LATE_LINES} shorter late reads (see --json)")
        for start, end, cause in x["unexplained_gaps"]:
            lines.append(f"    UNEXPLAINED gap {start:.2f}-{end:.2f} s (health: {cause})")
    lines.append(starved_line(figures))
    lines.append(
        f"metrics: produced {m['produced']}, delivered {m['delivered']} "
        f"({m['duplicates_dropped']} re-sent copies dropped)"
    )
    lines.append(
        f"health messages: {figures['health_messages']} "
        f"({figures['health_unavailable_reports']} sensor reports unavailable)"
    )
    growth = memory_growth_mb(figures)
    if memory and growth is not None:
        series = ", ".join(f"{t:g} s {mb:g}" for t, mb in memory)
        warm = next(mb for t, mb in memory if t >= figures["warm_up_s"])
        lines.append(
            f"memory (RSS MB): start {memory[0][1]:g}, after {figures['warm_up_s']:g} s "
            f"warm-up {warm:g}, end {memory[-1][1]:g}, growth after warm-up "
            f"{growth:+.1f}; series {series}"
        )
    return lines


def starved_line(figures: dict) -> str:
    """Whether the logger was starved: its longest interval between reads vs the FIFOs."""
    waits = {
        name: (x["max_read_interval_s"], x["fifo_s"])
        for name, x in figures["sensors"].items()
        if x["max_read_interval_s"] is not None and x["fifo_s"]
    }
    if not waits:
        return "logger starved: unknown (the health has no read intervals)"
    worst = max(waits, key=lambda n: waits[n][0] / waits[n][1])
    wait_s, fifo_s = waits[worst]
    starved = any(w > f for w, f in waits.values())
    return (
        f"logger starved: {'yes' if starved else 'no'} (longest interval between two reads, "
        f"faults included, {wait_s:.3f} s on {worst}, whose FIFO holds {fifo_s:.3f} s)"
    )


def gaps_explained(figures: dict) -> bool:
    """Every gap outside a fault's reach is a late read's FIFO overflow."""
    return all(not s["unexplained_gaps"] for s in figures["sensors"].values())


def tolerance(figures: dict) -> int:
    """Samples the accounting may miss: one per sensor (start phase) and one per gap."""
    return sum(1 + s["gaps"] for s in figures["sensors"].values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--keep", type=Path, default=None, help="work directory to keep")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("soak: terminated"))  # clean up children
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        figures = run(args.minutes, args.seed, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="hiprot-soak-") as tmp:
            figures = run(args.minutes, args.seed, Path(tmp))
    for line in report(figures):
        print(line, flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1))
    ok = (
        figures["record_exit"] == 0
        and figures["metrics"]["produced"] > 0
        and abs(figures["samples"]["unexplained"]) <= tolerance(figures)
        and gaps_explained(figures)
        and figures["metrics"]["delivered"] == figures["metrics"]["produced"]
        and memory_ok(figures)
    )
    print(
        "OK"
        if ok
        else "FAIL: unexplained gap or sample loss, undelivered metrics or growing memory"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
