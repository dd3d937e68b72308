"""Start-up of the command line, as ratios against ``python -c "import numpy"`` in the same run.

Times, from launch, with ``subprocess`` and ``time.perf_counter`` (median of
``--repeats`` runs, interleaved so that a busy moment of the shared machine hits
every command alike):

- ``python -c "import numpy"``: the baseline;
- ``hiprot --help``: the target is at most 3 × the baseline;
- ``hiprot record`` on the simulated rig (config/sim.toml under a device id of this
  run's own, ``--no-mqtt``): until it tells systemd it is ready (``READY=1`` on a
  ``$NOTIFY_SOCKET`` this script listens on: the sensors run and the session is
  open), and until its first samples are on disk (``imu.bin`` grows past the header
  it had at READY; the recorder appends every 0.25 s, so this includes up to that
  interval). The target is first sample ≤ 2 × ``hiprot --help``.

Usage: ``.venv/bin/python scripts/bench_cli.py [--repeats 7]``
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HIPROT = Path(sys.executable).with_name("hiprot")  # the console script of this environment


def time_command(argv: list[str]) -> float:
    """Seconds from launch to exit of ``argv`` (which must succeed)."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_record(work: Path, rig: Path, run: int) -> tuple[float, float]:
    """Seconds from launch of ``hiprot record`` to READY=1 and to its first samples on disk."""
    address = str(work / f"notify-{run}")
    out = work / f"sessions-{run}"
    env = {**os.environ, "NOTIFY_SOCKET": address, "XDG_STATE_HOME": str(work / f"state-{run}")}
    command = [str(HIPROT), "record", "--rig", str(rig), "--out", str(out), "--no-mqtt"]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        sock.settimeout(60)
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        try:
            while b"READY=1" not in sock.recv(4096):
                pass
            ready = time.perf_counter() - start
            (raw,) = out.glob("*/imu.bin")
            header = raw.stat().st_size
            while raw.stat().st_size <= header:
                if process.poll() is not None or time.perf_counter() - start > 60:
                    raise RuntimeError("hiprot record wrote no samples")
                time.sleep(0.0005)
            first = time.perf_counter() - start
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    return ready, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    numpy, help_, ready, first = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rig = work / "rig.toml"
        text = (ROOT / "config" / "sim.toml").read_text()
        rig.write_text(text.replace('"hiprot-sim"', f'"hiprot-bench-{os.getpid()}"', 1))
        for run in range(args.repeats):
            numpy.append(time_command([sys.executable, "-c", "import numpy"]))
            help_.append(time_command([str(HIPROT), "--help"]))
            r, f = time_record(work, rig, run)
            ready.append(r)
            first.append(f)
    base, helped = statistics.median(numpy), statistics.median(help_)
    rows = [
        ('python -c "import numpy"', base, "baseline"),
        ("hiprot --help", helped, "target ≤ 3 × baseline"),
        ("hiprot record: ready (READY=1)", statistics.median(ready), ""),
        ("hiprot record: first samples on disk", statistics.median(first), "target ≤ 2 × help"),
    ]
    print(f"median of {args.repeats} runs each, on {os.cpu_count()} cores")
    for name, seconds, note in rows:
        print(f"  {name:40s} {seconds:6.3f} s  {seconds / base:5.1f} × baseline  {note}")
    print(f"  hiprot --help / baseline:                     {helped / base:.2f} (target ≤ 3)")
    print(
        f"  record first samples / hiprot --help:         {statistics.median(first) / helped:.2f} (target ≤ 2)"
    )
    print(
        f"  record ready / hiprot --help:                 {statistics.median(ready) / helped:.2f}"
    )


if __name__ == "__main__":
    main()
