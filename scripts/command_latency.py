"""How fast a segment command is acknowledged by a running recorder, with a broker of its own.

Starts Mosquitto on a free localhost port and ``hiprot record`` (the simulated rig, real time)
as a subprocess, then sends ``start`` and ``stop`` commands the way ``hiprot command`` does
(:func:`hiprot.mqtt.commands.send_command`, in this process, so Python's start-up is not
counted) and times each from publishing to the result. After each ``start`` it reads the
session's ``segments.jsonl`` back: the segment must be open there once acknowledged. Prints
the median and largest round trip; the target is 1 s.

Usage: .venv/bin/python scripts/command_latency.py [--commands 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from local_broker import LocalBroker

from hiprot.config import default_rig_path, load_rig
from hiprot.mqtt.commands import send_command
from hiprot.recording.segments import read_timeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=20, help="start/stop pairs to send")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        broker = LocalBroker(workdir).start()
        port = broker.port
        text = default_rig_path().read_text()  # the simulated rig
        text = text.replace('host = "localhost"', 'host = "127.0.0.1"')
        text = text.replace("port = 1883", f"port = {port}")
        text = text.replace("duration_s = 20", "duration_s = 120")  # longer than the commands
        text = text.replace('device_id = "hiprot-sim"', 'device_id = "command-latency"')
        rig_path = workdir / "rig.toml"
        rig_path.write_text(text)
        rig = load_rig(rig_path)
        out = workdir / "sessions"
        recorder = subprocess.Popen(
            [sys.executable, "-m", "hiprot", "record", "--rig", str(rig_path), "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            if not recorder.stdout.readline():  # "recording ... to DIR": the listener starts
                raise SystemExit(f"hiprot record failed: {recorder.stderr.read()}")
            time.sleep(1.0)
            session = next(out.iterdir())
            times, open_after_ack = [], 0
            for i in range(args.commands):
                for op in ("start", "stop"):
                    command = {"op": op, "id": f"{op}-{i}"}
                    if op == "start":
                        command["labels"] = {"activity": "seated-test", "side": "right"}
                    began = time.monotonic()
                    result = send_command(rig.mqtt, rig.device_id, command, timeout_s=10)
                    times.append(time.monotonic() - began)
                    if result["status"] != "ok":
                        raise SystemExit(f"{command['id']}: {result}")
                    if op == "start":
                        timeline = read_timeline(session)
                        open_after_ack += timeline.open is not None and (
                            timeline.open.start_id == command["id"]
                        )
        finally:
            recorder.terminate()
            recorder.wait(30)
            broker.stop()
        ms = np.array(times) * 1000
        print(f"{len(ms)} commands to a running recorder (simulated rig, real time):")
        print(
            f"  acknowledged in median {np.median(ms):.0f} ms, 95th percentile "
            f"{np.percentile(ms, 95):.0f} ms, largest {ms.max():.0f} ms (target 1000 ms)"
        )
        print(
            f"  segment open in segments.jsonl when its start was acknowledged: "
            f"{open_after_ack} of {args.commands}"
        )


if __name__ == "__main__":
    main()
