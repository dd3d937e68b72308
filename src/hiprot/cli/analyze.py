"""``hiprot analyze``: joint angles and orientations of recorded, simulated or imported sessions."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from hiprot.csvio import write_angles_csv
from hiprot.errors import HiprotError
from hiprot.processing import ProcessedSession, process_session
from hiprot.recording import load_session


def write_orientations(path: Path, processed: ProcessedSession) -> None:
    """``time_s,sensor,qw,qx,qy,qz`` rows, each sensor's ``q_ES`` at its own sample times."""
    with open(path, "w") as f:
        f.write("time_s,sensor,qw,qx,qy,qz\n")
        for name, o in processed.orientations.items():
            rows = np.column_stack([o.time_s, o.q_es])
            for row in rows:
                f.write(f"{row[0]:.6f},{name}," + ",".join(f"{v:.6f}" for v in row[1:]) + "\n")


def analyze_one(session_dir: Path, out_dir: Path) -> ProcessedSession:
    """Process one session and write its outputs into ``out_dir``."""
    processed = process_session(load_session(session_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    write_orientations(out_dir / "orientations.csv", processed)
    if processed.angles is not None:
        write_angles_csv(out_dir / "angles.csv", processed.angles.time_s, processed.angles.columns)
    return processed


@click.command()
@click.argument("sessions", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where results go (default: SESSION/analysis; one subdirectory per session "
                   "when several are given).")
def analyze(sessions, out_dir) -> None:
    """Compute orientations and joint angles (angles.csv, orientations.csv) of each SESSION."""
    failed = 0
    for session_dir in sessions:
        if out_dir is None:
            target = session_dir / "analysis"
        else:
            target = out_dir / session_dir.name if len(sessions) > 1 else out_dir
        try:
            processed = analyze_one(session_dir, target)
        except HiprotError as exc:
            failed += 1
            click.echo(f"hiprot: error: {exc}", err=True)
            continue
        click.echo(f"{session_dir}: results in {target}")
        for warning in processed.warnings:
            click.echo(f"  note: {warning}")
    if failed:
        raise click.exceptions.Exit(2)
