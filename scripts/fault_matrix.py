"""Fault matrix: kills, file damage, special files and bad settings against the real CLI.

Each case runs ``python -m hiprot`` as a process (with a time limit and an address-space
limit, so a hang or a runaway read shows as a failure, not as a stuck machine) and prints one
row: case, what is expected, what happened, ok. ``record`` SIGKILLed at random moments: what
each kill lost (the kill moment − the newest recovered sample, on the session clock). Then the
power-cut bounds: the recorder's sync interval and what Mosquitto, as ``config/mosquitto.conf``
sets it up, loses since its last autosave (measured: a retained message published, the broker
SIGKILLed, restarted, asked).

    .venv/bin/python scripts/fault_matrix.py [--kills 5] [--record-kills 20] [--seed 19]

Exit status 1 when a case did not go as expected. The MQTT outbox cases (damaged outbox,
publisher death, session ids) are not covered here.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from local_broker import LocalBroker, mosquitto_binary

from hiprot.analysis.outputs import read_report
from hiprot.errors import HiprotError
from hiprot.recording import load_session
from hiprot.recording.writer import SYNC_INTERVAL_S, WRITE_INTERVAL_S

ROOT = Path(__file__).resolve().parents[1]

MEMORY_LIMIT = 3 * 1024**3
DEEP = 100_000
ROWS: list[tuple[str, str, str, bool]] = []


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def hiprot(*args, timeout: float = 120, umask: int | None = None, env=None):
    """(exit status or 'hang', stderr's first line, the completed process or None) of
    ``hiprot ARGS``."""

    def setup():
        _limits()
        if umask is not None:
            os.umask(umask)

    try:
        result = subprocess.run(
            [sys.executable, "-m", "hiprot", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            preexec_fn=setup,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return "hang", "", None
    lines = result.stderr.strip().splitlines()
    return result.returncode, (lines[0] if lines else ""), result


def row(case: str, expected: str, got: str, ok: bool) -> None:
    ROWS.append((case, expected, got, ok))
    print(f"  {'ok ' if ok else 'BAD'} {case}: {got}", file=sys.stderr)


def one_line_refusal(case: str, args: list, words: str, timeout: float = 60) -> None:
    status, line, result = hiprot(*args, timeout=timeout)
    lines = len(result.stderr.strip().splitlines()) if result else 0
    ok = status == 2 and lines == 1 and "Traceback" not in (result.stderr if result else "")
    ok = ok and words in line
    shown = "hang" if status == "hang" else f"exit {status}, {lines} line(s): {_short(line)}"
    row(case, f"exit 2, one line ({words})", shown, ok)


def _short(text: str, n: int = 90) -> str:
    text = re.sub(r"/\S*/", ".../", text)
    return text if len(text) <= n else text[: n - 1] + "…"


def _entries(directory: Path) -> dict[str, int]:
    if not directory.is_dir():
        return {}
    return {e.name: e.stat().st_mtime_ns for e in os.scandir(directory) if e.is_file()}


def run_watching(args: list, watched: Path, kill_after: float | None) -> float:
    """Run ``hiprot ARGS``; SIGKILL it ``kill_after`` s after ``watched`` first changes.
    Returns the span from the first change in ``watched`` to the last one seen."""
    seen = _entries(watched)
    process = subprocess.Popen(
        [sys.executable, "-m", "hiprot", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    began = last = None
    while process.poll() is None:
        now = _entries(watched)
        if now != seen:
            seen, last = now, time.monotonic()
            began = began or last
        if began is not None and kill_after is not None and time.monotonic() - began >= kill_after:
            process.kill()
            break
        time.sleep(0.001)
    process.wait(60)
    if _entries(watched) != seen:
        last = time.monotonic()
    return (last - began) if began is not None else 0.0


def kill_export(work: Path, session: Path, kills: int, rng: random.Random) -> None:
    out = work / "export"
    span = run_watching(["export", session, "--format", "csv", "--out", out], out, None)
    reference = (out / "imu.csv").read_bytes()
    counts = {"whole": 0, "absent": 0, "truncated": 0}
    for _ in range(kills):
        run_watching(
            ["export", session, "--format", "csv", "--out", out], out, rng.uniform(0, span)
        )
        if not (out / "imu.csv").exists():
            try:
                load_session(out)
                counts["truncated"] += 1  # something loads without imu.csv: wrong
            except HiprotError:
                counts["absent"] += 1
        elif (out / "imu.csv").read_bytes() == reference:
            counts["whole"] += 1
        else:
            counts["truncated"] += 1
    got = ", ".join(f"{v} {k}" for k, v in counts.items())
    row(
        f"export SIGKILLed × {kills}",
        "imu.csv whole or absent (refused)",
        got,
        not counts["truncated"],
    )


def kill_analyze(work: Path, session: Path, kills: int, rng: random.Random) -> None:
    out = work / "analysis"
    span = run_watching(["analyze", session, "--out", out], out, None)
    reference = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "report.json"}
    counts = {"finished": 0, "refused": 0, "mixed": 0}
    for _ in range(kills):
        run_watching(["analyze", session, "--out", out], out, rng.uniform(0, span))
        try:
            report = read_report(out)
        except HiprotError:
            counts["refused"] += 1
            continue
        same = all((out / n).read_bytes() == reference[n] for n in report["outputs"])
        counts["finished" if same else "mixed"] += 1
    got = ", ".join(f"{v} {k}" for k, v in counts.items())
    row(
        f"analyze SIGKILLed × {kills}",
        "report.json absent (refused) or every output whole",
        got,
        not counts["mixed"],
    )


MAX_KILL_LOSS_S = 0.6  # issue 19's target for a SIGKILL of `record`
KILL_SPAN_S = (0.1, 6.0)  # kill moments after `record` says it records (its simulation is 20 s)


def _polled_until(process: subprocess.Popen, session: Path, until: float) -> dict | None:
    """Poll the live session until monotonic ``until``; return the last samples read from it."""
    seen = None
    while time.monotonic() < until and process.poll() is None:
        try:
            seen = load_session(session).samples
        except HiprotError:  # no block written yet
            pass
        time.sleep(max(0.0, min(0.2, until - time.monotonic())))
    return seen


def _prefix_problems(session, seen, rate_hz: float) -> list[str]:
    """Why the recovered ``session`` is not a gap-free prefix extending what was seen live."""
    recovery, problems = session.recovery, []
    if recovery.closed or recovery.live:
        problems.append("closed or live after a SIGKILL")
    problems += [d.reason for d in recovery.dropped if "incomplete last block" not in d.reason]
    problems += [w for w in recovery.warnings if "missing" in w]
    for name, got in session.samples.items():
        steps = np.diff(got.time_s)
        if len(steps) and (steps.max() > 1.5 / rate_hz or steps.min() <= 0):
            problems.append(f"{name}: a gap or a step back in the sample times")
        before = (seen or {}).get(name)
        if before is not None:
            n = len(before)
            same = n <= len(got) and all(
                np.array_equal(getattr(before, k), getattr(got, k)[:n])
                for k in ("time_s", "acc", "gyr")
            )
            if not same:
                problems.append(f"{name}: does not extend the samples read while recording")
    return problems


def kill_record(work: Path, kills: int, rng: random.Random) -> None:
    """SIGKILL `record` (simulated rig, no MQTT) at random moments; measure what each kill lost.

    Loss = the kill moment on the session clock − the newest recovered sample's time, for the
    sensor that lost most. The session clock's zero is ``start_utc`` (the UTC at which the
    sensors started), the kill moment the wall-clock time just after ``kill()`` returned (so the
    loss is, if anything, over-estimated by the signal's delivery). A kill before the first
    block reached the file loses everything up to the kill. The recovered samples must be a
    gap-free prefix: no block missing, no damage but a torn last block, no gap in the times,
    and an exact extension of the samples read from the live session before the kill.
    """
    losses, problems = [], []
    for i in range(kills):
        out = work / "record-kills" / str(i)
        process = subprocess.Popen(
            [sys.executable, "-m", "hiprot", "record", "--no-mqtt", "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = process.stdout.readline()
        if not line.startswith("recording"):
            process.kill()
            process.wait(10)
            problems.append(f"kill {i}: record did not start")
            continue
        session_dir = Path(line.rsplit(" to ", 1)[1].strip())
        seen = _polled_until(process, session_dir, time.monotonic() + rng.uniform(*KILL_SPAN_S))
        process.kill()
        killed_at = datetime.now(UTC)
        process.wait(10)
        meta = json.loads((session_dir / "session.json").read_text())
        kill_s = (killed_at - datetime.fromisoformat(meta["start_utc"])).total_seconds()
        try:
            session = load_session(session_dir)
        except HiprotError:  # nothing reached the file: everything up to the kill is lost
            losses.append(kill_s)
            continue
        ends = [float(s.time_s[-1]) for s in session.samples.values()]
        lost = kill_s - min(ends) if len(ends) == len(meta["samples"]) else kill_s
        losses.append(lost)
        problems += [
            f"kill {i}: {p}" for p in _prefix_problems(session, seen, meta["sample_rate_hz"])
        ]
    print(
        "record SIGKILLed, lost per kill (s): " + " ".join(f"{x:.3f}" for x in losses),
        file=sys.stderr,
    )
    worst = max(losses) if losses else float("nan")
    row(
        f"record SIGKILLed × {kills} while recording (0.1–6 s in)",
        f"a gap-free prefix each, at most {MAX_KILL_LOSS_S} s lost",
        f"lost max {worst:.3f} s, median {float(np.median(losses)):.3f} s; "
        f"{len(problems)} not a prefix {problems[:2]}",
        not problems and len(losses) == kills and worst <= MAX_KILL_LOSS_S,
    )


def startup_kills(work: Path, good: Path) -> None:
    sessions = work / "startup"
    sessions.mkdir()
    for delay in (0.0, 0.005, 0.05):
        before = set(sessions.iterdir())
        process = subprocess.Popen(
            [sys.executable, "-m", "hiprot", "record", "--no-mqtt", "--out", str(sessions)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while set(sessions.iterdir()) == before and process.poll() is None:
            time.sleep(0.001)
        time.sleep(delay)
        process.kill()
        process.wait(10)
    shutil.copytree(good, sessions / "good")
    status, _, result = hiprot("analyze", sessions, "--no-charts", "--jobs", "1")
    skipped = sum(line.startswith("hiprot: warning:") for line in result.stderr.splitlines())
    row(
        "record SIGKILLed while starting × 3, then analyze the directory",
        "empty sessions skipped with a warning, the rest analysed, exit 0",
        f"exit {status}, {skipped} skipped",
        status == 0 and "good: results in" in result.stdout,
    )


def damage_cases(work: Path, recorded: Path) -> None:
    def copy(name: str) -> Path:
        target = work / "damage" / name
        shutil.copytree(recorded, target)
        return target

    raw_size = (recorded / "imu.bin").stat().st_size
    cases = {
        "imu.bin cut in the middle of a block": lambda s: os.truncate(
            s / "imu.bin", raw_size - 100
        ),
        "a byte of a block flipped": lambda s: _flip(s / "imu.bin", raw_size // 2),
        "imu.bin header zeroed": lambda s: _zero(s / "imu.bin", 0, 64),
        "session.json not JSON": lambda s: (s / "session.json").write_text("{"),
        "session.json deeply nested": lambda s: (s / "session.json").write_text(
            "[" * DEEP + "]" * DEEP
        ),
        "session.json names raw_file ../x/imu.bin": lambda s: _edit_meta(s, "../x/imu.bin"),
        "session.json a FIFO": lambda s: _fifo(s / "session.json"),
        "rig.toml and session.json removed": lambda s: [
            (s / n).unlink() for n in ("rig.toml", "session.json")
        ],
    }
    for case, spoil in cases.items():
        session = copy(re.sub(r"\W+", "-", case))
        spoil(session)
        status, _, result = hiprot("analyze", session, "--no-charts", timeout=120)
        ok = status == 0 and "Traceback" not in result.stderr
        row(case, "analysed from what is intact (exit 0), no traceback", f"exit {status}", ok)
    session = copy("nothing-readable")
    (session / "rig.toml").unlink()
    _zero(session / "imu.bin", 0, raw_size)
    one_line_refusal("imu.bin zeroed and rig.toml removed", ["analyze", session], "imu.bin")


def special_files(work: Path, recorded: Path) -> None:
    base = work / "special"
    base.mkdir()

    def copy(name: str) -> Path:
        shutil.copytree(recorded, base / name)
        return base / name

    zero = copy("zero")
    (zero / "imu.bin").unlink()
    (zero / "imu.bin").symlink_to("/dev/zero")
    one_line_refusal("imu.bin linked to /dev/zero", ["analyze", zero], "a character device")
    fifo = copy("fifo")
    _fifo(fifo / "imu.bin")
    one_line_refusal("imu.bin a FIFO", ["analyze", fifo], "a FIFO")
    batch = base / "batch"
    batch.mkdir()
    shutil.move(fifo, batch / "fifo")
    shutil.copytree(recorded, batch / "good")
    status, _, result = hiprot("analyze", batch, "--no-charts", "--jobs", "1", timeout=120)
    row(
        "a batch with a FIFO session",
        "the FIFO one refused in one line, the other analysed, exit 2",
        "hang" if status == "hang" else f"exit {status}",
        status == 2 and (batch / "good" / "analysis" / "report.json").exists(),
    )
    _fifo(base / "fifo-rig.toml")
    one_line_refusal(
        "--rig a FIFO", ["simulate", "--rig", base / "fifo-rig.toml", "--out", base / "x"], "a FIFO"
    )
    with open(base / "huge.toml", "wb") as f:
        f.truncate(10**12)
    one_line_refusal(
        "--rig a sparse 1 TB file",
        ["simulate", "--rig", base / "huge.toml", "--out", base / "x"],
        "too large",
    )
    (base / "deep.toml").write_text("a = " + "[" * DEEP + "]" * DEEP)
    one_line_refusal(
        "--rig deeply nested",
        ["simulate", "--rig", base / "deep.toml", "--out", base / "x"],
        "nested too deeply",
    )
    (base / "file").write_text("")
    for command in (["export", recorded, "--format", "csv"], ["analyze", recorded, "--no-charts"]):
        one_line_refusal(
            f"{command[0]} --out under a file", [*command, "--out", base / "file" / "out"], "cannot"
        )


def topic_prefixes(work: Path) -> None:
    text = (ROOT / "config" / "sim.toml").read_text()
    for label, prefix in [
        ("NUL", r'"hiprot\u0000x"'),
        ("$SYS/x", '"$SYS/x"'),
        ("a + wildcard", '"hiprot/+"'),
        ("70 000 characters", '"' + "p" * 70_000 + '"'),
    ]:
        rig = work / ("topic-" + re.sub(r"\W+", "-", label) + ".toml")
        rig.write_text(text.replace("port = 1883", f"port = 1883\ntopic_prefix = {prefix}"))
        one_line_refusal(
            f"topic_prefix {label}",
            ["record", "--rig", rig, "--out", work / "never"],
            "topic_prefix",
        )


def privacy(work: Path) -> None:
    out = work / "private"
    state = work / "state"
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    hiprot("record", "--duration", "2", "--broker", "127.0.0.1:1", "--out", out, umask=0, env=env)
    found = {
        p: stat.S_IMODE(p.stat().st_mode) for root in (out, state) for p in [root, *root.rglob("*")]
    }
    bad = [f"{p.name} {m:04o}" for p, m in found.items() if m != (0o700 if p.is_dir() else 0o600)]
    row(
        "record under umask 000: session and MQTT outbox",
        "directories 0700, files 0600",
        f"{len(found)} checked, {len(bad)} otherwise {bad[:3]}",
        not bad,
    )


def dashboard_host(work: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "hiprot", "dashboard", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = int(process.stdout.readline().split("http://")[1].split("/")[0].rsplit(":", 1)[1])
        statuses = {}
        for host in (f"127.0.0.1:{port}", "attacker.example"):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.putrequest("GET", "/config.json", skip_host=True)
            connection.putheader("Host", host)
            connection.endheaders()
            response = connection.getresponse()
            statuses[host] = (response.status, response.getheader("Server"), response.read())
    finally:
        process.terminate()
        process.wait(10)
    own, other = statuses.values()
    row(
        "dashboard asked with a foreign Host (DNS rebinding)",
        "421; own name 200; Server without version; no user name served",
        f"{other[0]}; {own[0]}; Server: {own[1]}",
        other[0] == 421 and own[0] == 200 and own[1] == "hiprot" and b"username" not in own[2],
    )


def broker_autosave(work: Path) -> str:
    """Publish a retained message, SIGKILL Mosquitto (as a power cut would stop it), restart it
    with the same store and ask for the message: what the shipped autosave interval loses."""
    if mosquitto_binary() is None:
        return "mosquitto not installed: not measured"
    import paho.mqtt.client as mqtt

    shipped = (ROOT / "config" / "mosquitto.conf").read_text()
    autosave = int(re.search(r"^autosave_interval (\d+)", shipped, re.M).group(1))
    store = work / "mosquitto"
    store.mkdir()
    broker = LocalBroker(store, persistent=True, options=f"autosave_interval {autosave}\n")
    port = broker.port

    def retained() -> bool:
        got = []
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.on_message = lambda c, u, m: got.append(m.payload)
        client.connect("127.0.0.1", port)
        client.subscribe("hiprot/test/stride", qos=1)
        client.loop_start()
        time.sleep(1.0)
        client.loop_stop()
        client.disconnect()
        return bool(got)

    broker.start()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish("hiprot/test/stride", b"{}", qos=1, retain=True).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()
    time.sleep(1.0)
    broker.kill()
    broker.start()
    try:
        kept = retained()
    finally:
        broker.stop()
    return (
        f"Mosquitto with autosave_interval {autosave} (config/mosquitto.conf), SIGKILLed 1 s "
        f"after a retained QoS 1 message was acknowledged: "
        + (
            "kept it"
            if kept
            else f"lost it (everything since its last autosave, up to {autosave} s)"
        )
    )


def _flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def _zero(path: Path, offset: int, length: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(b"\0" * length)


def _fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def _edit_meta(session: Path, raw_file: str) -> None:
    meta = json.loads((session / "session.json").read_text())
    (session / "session.json").write_text(json.dumps(dict(meta, raw_file=raw_file)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs per command (default 5)")
    parser.add_argument(
        "--record-kills", type=int, default=20, help="SIGKILLs of record (default 20)"
    )
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="hiprot-faults-") as tmp:
        work = Path(tmp)
        hiprot("simulate", "--duration", "60", "--seed", "3", "--out", work / "walk")
        hiprot("record", "--no-mqtt", "--duration", "4", "--out", work / "recorded")
        (recorded,) = (work / "recorded").iterdir()
        kill_export(work, work / "walk", args.kills, rng)
        kill_analyze(work, work / "walk", args.kills, rng)
        kill_record(work, args.record_kills, rng)
        startup_kills(work, recorded)
        damage_cases(work, recorded)
        special_files(work, recorded)
        topic_prefixes(work)
        privacy(work)
        dashboard_host(work)
        broker = broker_autosave(work)
    width = [max(len(r[i]) for r in ROWS) for i in range(3)]
    print(f"| {'case':<{width[0]}} | {'expected':<{width[1]}} | {'got':<{width[2]}} | ok |")
    print(f"|{'-' * (width[0] + 2)}|{'-' * (width[1] + 2)}|{'-' * (width[2] + 2)}|----|")
    for case, expected, got, ok in ROWS:
        print(
            f"| {case:<{width[0]}} | {expected:<{width[1]}} | {got:<{width[2]}} | {'yes' if ok else 'NO'} |"
        )
    print()
    print(
        f"SIGKILL, recorder: samples are appended every {WRITE_INTERVAL_S} s; a killed process "
        "loses what it still holds (measured above)."
    )
    print(f"power cut, recorder: samples are fsync'd every {SYNC_INTERVAL_S} s; at most that much")
    print("  (plus the chunk in flight) is lost; the torn last block is dropped on reading.")
    print(f"power cut, broker: {broker}.")
    failed = sum(not r[3] for r in ROWS)
    print(f"{len(ROWS) - failed} of {len(ROWS)} cases as expected")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
