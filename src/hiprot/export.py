"""Export a session to the formats other tools read: the CSV import layout and OpenSim tables.

Orientations and joint angles come from batch processing
(:func:`hiprot.processing.process_session`), on its common time grid; a leg whose
calibration is judged unusable has its angles withheld, as ``hiprot analyze`` does. This module
sits above both processing and :mod:`hiprot.recording` (which only writes and reads
the formats, :mod:`hiprot.recording.opensim`), so storage never depends on processing.
"""

from __future__ import annotations

from pathlib import Path

from hiprot.config import rig_to_toml
from hiprot.csvio import write_imu_csv
from hiprot.errors import RecordingError
from hiprot.files import (
    atomic_path,
    atomic_write,
    fsync_directory,
    private_dir,
    remove_temporaries,
)
from hiprot.recording.opensim import imu_label, write_motion, write_orientations
from hiprot.recording.session import CSV_FILE, Session


def export_csv(session: Session, out_dir: Path) -> list[Path]:
    """``imu.csv`` in the CSV import layout and the session's ``rig.toml``: a session to import.

    Written so that a kill at any moment leaves a loadable pair or no ``imu.csv`` at all: the
    old ``imu.csv`` goes first, then each file is written atomically, ``imu.csv`` last.
    """
    out_dir = _make(out_dir)
    csv, rig = out_dir / CSV_FILE, out_dir / "rig.toml"
    try:
        csv.unlink(missing_ok=True)
        fsync_directory(out_dir)
        atomic_write(rig, rig_to_toml(session.rig))
        with atomic_path(csv) as temp:
            write_imu_csv(temp, session.samples)
    except OSError as exc:
        raise _write_error(out_dir, exc) from exc
    return [csv, rig]


def export_sto(session: Session, out_dir: Path) -> list[Path]:
    """``<name>_orientations.sto`` (OpenSense quaternions), ``<name>_angles.mot`` (joint angles),
    each written atomically."""
    out_dir = _make(out_dir)
    from hiprot.analysis.batch import analyse  # here: the CSV export needs none of it

    name = session.path.name
    # the angles `hiprot analyze` writes, an unusable leg's withheld
    processed = analyse(session).processed
    grid = processed.grid
    columns = {
        imu_label(s.segment, s.side): grid.tracks[s.name].q_es
        for s in session.rig.sensors
        if s.name in grid.tracks
    }
    sto = out_dir / f"{name}_orientations.sto"
    mot = out_dir / f"{name}_angles.mot"
    try:
        with atomic_path(sto) as temp:
            write_orientations(temp, grid.time_s, columns, session.rig.sample_rate_hz)
        if processed.angles is not None:
            angles = processed.angles
            with atomic_path(mot) as temp:
                write_motion(
                    temp, f"{name} joint angles (ISB, degrees)", angles.time_s, angles.columns
                )
    except OSError as exc:
        raise _write_error(out_dir, exc) from exc
    if processed.angles is None:
        raise RecordingError(
            f"{session.path}: orientations written to {sto}, but no joint angles: "
            + "; ".join(processed.warnings)
        )
    return [sto, mot]


def _make(out_dir: Path) -> Path:
    """The output directory, created private (0700) if missing; left-overs of killed exports
    removed."""
    out_dir = Path(out_dir)
    try:
        private_dir(out_dir)
        remove_temporaries(out_dir)
    except OSError as exc:
        raise RecordingError(
            f"{out_dir}: cannot create the output directory: {exc.strerror}"
        ) from exc
    return out_dir


def _write_error(out_dir: Path, exc: OSError) -> RecordingError:
    return RecordingError(f"{out_dir}: cannot write the export: {exc.strerror or exc}")
