"""Reading a session directory back: rig, metadata and samples."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hiprot.config import Rig, load_rig
from hiprot.csvio import read_imu_csv
from hiprot.errors import RecordingError
from hiprot.samples import Chunk


@dataclass
class Session:
    """A recorded, simulated or imported session."""

    path: Path
    rig: Rig
    meta: dict
    samples: Chunk


def load_session(path: str | Path) -> Session:
    """Load a session directory (``rig.toml``, ``imu.csv``, optional ``session.json``)."""
    path = Path(path)
    if not path.is_dir():
        raise RecordingError(f"{path}: not a session directory")
    rig = load_rig(path / "rig.toml")
    meta = {}
    if (path / "session.json").exists():
        try:
            meta = json.loads((path / "session.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise RecordingError(f"{path / 'session.json'}: unreadable metadata: {exc}")
    samples = read_imu_csv(path / "imu.csv", tuple(s.name for s in rig.sensors))
    return Session(path, rig, meta, samples)
