"""A simulated session on disk: what the product reads, plus the ground truth to score it.

Files (in the session directory):

- ``rig.toml`` — the rig, with its ``[simulation]`` table (running it again reproduces the session);
- ``imu.csv`` — the samples in the CSV import layout (:mod:`hiprot.csvio`);
- ``session.json`` — metadata as a recorded session has it (``activity``, ``samples``...)
  plus ``simulation``: every parameter used;
- ``truth.csv`` — true joint angles, same columns as ``angles.csv``;
- ``truth_events.csv`` — ``time_s,side,event``, one row per true event;
- ``truth_mounting.json`` — per sensor: segment, true ``q_BS`` (segment ← sensor,
  ``[w, x, y, z]``), the same as x-y-z Euler angles, the offset from the segment
  origin in the segment frame (m), chip and the chip errors drawn.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hiprot import __version__
from hiprot.columns import MODE, PHASE, SUBJECT
from hiprot.config import Rig, rig_to_toml
from hiprot.csvio import write_angles_csv, write_imu_csv
from hiprot.errors import RecordingError
from hiprot.files import atomic_path, atomic_write, private_dir
from hiprot.sim.simulator import Simulation

SCENARIO_ACTIVITY = {
    "walk": "walk",
    "seated-ir": "seated-test",
    "prone-ir": "prone-test",
    "exercise": "exercise",
    "lunge": "exercise",
    "squat": "exercise",
    "stairs": "walk",
    "fidget": "seated-test",
    "walk-pauses": "walk",
    "guided": None,  # a test, exercises and a re-test in one: no single activity
}
GUIDED_BLOCKS = (  # what the dashboard's guided session labels after each prompt, and its end
    ({"activity": "seated-test", PHASE: "before", MODE: "active"}, "trial_end"),
    ({"activity": "exercise"}, "set_end"),
    ({"activity": "seated-test", PHASE: "after", MODE: "active"}, "trial_end"),
)


def scenario_commands(scenario: str, events) -> list[tuple[float, dict]]:
    """The segment commands (``segments.jsonl``) a session of ``scenario`` gets from the person's
    phone, with their times: in ``guided``, those of the dashboard's guided session
    (docs/dashboard.md) — after each of the first three prompts a segment starts (the test, the
    exercises, the re-test), stopped at its last trial or set; other scenarios, none."""
    if scenario != "guided":
        return []
    prompts = [e.time_s for e in events if e.event == "prompt"]
    commands = []
    for i, ((labels, last), start) in enumerate(zip(GUIDED_BLOCKS, prompts)):
        end = prompts[i + 1] if i + 1 < len(prompts) else np.inf
        ends = [e.time_s for e in events if e.event == last and start < e.time_s < end]
        commands.append((start, {"id": f"guided-{i}-start", "op": "start", "labels": labels}))
        if ends:  # else left open: the next start closes it
            commands.append((max(ends), {"id": f"guided-{i}-stop", "op": "stop"}))
    return commands


FILES = (
    "rig.toml",
    "imu.csv",
    "session.json",
    "truth.csv",
    "truth_events.csv",
    "truth_mounting.json",
)


def write_session(
    rig: Rig,
    simulation: Simulation,
    path: Path,
    start: datetime | None = None,
    repeat_of: str | None = None,
    mode: str | None = None,
) -> Path:
    """Write the session into directory ``path`` (created private; refused if it already holds a
    session); each file is written atomically, so a killed run leaves no truncated one.
    ``start``: its ``start_utc`` (default now); ``repeat_of``: the session it repeats;
    ``mode``: the rotation tests' ``active``/``passive`` for ``session.json``."""
    path = Path(path)
    taken = [name for name in FILES if (path / name).exists()]
    if taken:
        raise RecordingError(f"{path}: already holds a session ({taken[0]}); choose another --out")
    try:
        private_dir(path)
        atomic_write(path / "rig.toml", rig_to_toml(rig))
        with atomic_path(path / "imu.csv") as temp:
            write_imu_csv(temp, simulation.samples)
        with atomic_path(path / "truth.csv") as temp:
            write_angles_csv(temp, simulation.time_s, simulation.truth_deg)
        atomic_write(
            path / "truth_events.csv",
            "time_s,side,event\n"
            + "".join(f"{e.time_s:.6f},{e.side},{e.event}\n" for e in simulation.events),
        )
        mounting = {
            name: {
                **mount.as_dict(),
                "chip": simulation.params["chips"][name],
                "errors": simulation.errors[name].as_dict(),
            }
            for name, mount in simulation.mounting.items()
        }
        atomic_write(path / "truth_mounting.json", json.dumps(mounting, indent=2))
        atomic_write(
            path / "session.json",
            json.dumps(_metadata(rig, simulation, mode, start, repeat_of), indent=2),
        )
    except OSError as exc:
        raise RecordingError(f"{path}: cannot write the simulated session: {exc.strerror}") from exc
    return path


def _metadata(
    rig: Rig,
    simulation: Simulation,
    mode: str | None,
    start: datetime | None,
    repeat_of: str | None,
) -> dict:
    scenario = simulation.params["scenario"]
    return {
        "format_version": 1,
        "device_id": rig.device_id,
        SUBJECT: rig.subject,
        "start_utc": (start or datetime.now(UTC)).isoformat(timespec="milliseconds"),
        "repeat_of": repeat_of,
        "software_version": __version__,
        "sample_rate_hz": rig.sample_rate_hz,
        "sensors": [s.name for s in rig.sensors],
        "activity": SCENARIO_ACTIVITY[scenario],
        "mode": mode,
        "note": f"simulated by hiprot simulate: scenario {scenario}, seed {simulation.params['seed']}",
        "samples": {name: len(s) for name, s in simulation.samples.items()},
        "dropped_chunks": 0,
        "duration_s": simulation.duration_s,
        "complete": True,
        "simulation": simulation.params,
    }
