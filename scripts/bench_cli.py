"""Start-up of the command line, as ratios against ``python -c "import numpy"`` in the same run.

Times, from launch, with ``subprocess`` and ``time.perf_counter`` (median of
``--repeats`` runs, interleaved so that a busy moment of the shared machine hits
every command alike):

- ``python -c "import numpy"``: the baseline;
- ``hiprot --help``: the target is at most 3 × the baseline;
- ``hiprot record --help``: the record command's own imports (what a hardware rig loads
  before its sensors start; a simulated rig also loads the simulator and simulates first);
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


def time_command(argv: list[str]) -> tuple[float, float]:
    """Seconds from launch to exit of ``argv`` (which must succeed): wall clock and CPU."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{argv} exited with {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def cpu_so_far(pid: int) -> float:
    """CPU seconds process ``pid`` has used so far (Linux: /proc/PID/stat, all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_record(work: Path, rig: Path, run: int) -> tuple[float, float, float]:
    """Seconds from launch of ``hiprot record`` to READY=1 and to its first samples on disk
    (wall clock), and the CPU seconds it had used when they were."""
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
            cpu = cpu_so_far(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
    return ready, first, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    numpy, help_, record_help, ready, first, first_cpu = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rig = work / "rig.toml"
        text = (ROOT / "config" / "sim.toml").read_text()
        rig.write_text(text.replace('"hiprot-sim"', f'"hiprot-bench-{os.getpid()}"', 1))
        for run in range(args.repeats):
            numpy.append(time_command([sys.executable, "-c", "import numpy"]))
            help_.append(time_command([str(HIPROT), "--help"]))
            record_help.append(time_command([str(HIPROT), "record", "--help"]))
            r, f, c = time_record(work, rig, run)
            ready.append(r)
            first.append(f)
            first_cpu.append(c)
    med = statistics.median
    walls = {
        "numpy": med(w for w, _ in numpy),
        "help": med(w for w, _ in help_),
        "record_help": med(w for w, _ in record_help),
        "ready": med(ready),
        "first": med(first),
    }
    cpus = {
        "numpy": med(c for _, c in numpy),
        "help": med(c for _, c in help_),
        "record_help": med(c for _, c in record_help),
        "first": med(first_cpu),
    }
    rows = [
        ("numpy", 'python -c "import numpy"', "baseline"),
        ("help", "hiprot --help", "target ≤ 3 × baseline"),
        ("record_help", "hiprot record --help (its imports)", ""),
        ("ready", "hiprot record: ready (READY=1)", ""),
        ("first", "hiprot record: first samples on disk", "target ≤ 2 × help"),
    ]
    print(f"median of {args.repeats} runs each, on {os.cpu_count()} cores (wall clock; CPU)")
    for key, name, note in rows:
        cpu = f"{cpus[key]:6.3f} s CPU" if key in cpus else " " * 12
        print(
            f"  {name:40s} {walls[key]:6.3f} s  {cpu}  "
            f"{walls[key] / walls['numpy']:5.1f} × baseline  {note}"
        )
    ratios = [
        ("hiprot --help / baseline", "help", "numpy", "(target ≤ 3)"),
        ("record first samples / hiprot --help", "first", "help", "(target ≤ 2)"),
        ("record ready / hiprot --help", "ready", "help", ""),
        ("record --help / hiprot --help", "record_help", "help", ""),
    ]
    for name, a, b, note in ratios:
        cpu = f"CPU {cpus[a] / cpus[b]:6.2f}" if a in cpus else " " * 10
        print(f"  {name:38s} wall {walls[a] / walls[b]:6.2f}  {cpu}  {note}")


if __name__ == "__main__":
    main()
