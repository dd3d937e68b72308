"""``hiprot subject export|delete``: one person's sessions, by their pseudonymous code."""

from __future__ import annotations

from pathlib import Path

import click

from hiprot.config import check_subject
from hiprot.errors import ConfigError
from hiprot.files import private_dir
from hiprot.recording.subjects import (
    Found,
    SubjectError,
    analysis_outputs,
    delete_session,
    export_session,
    find_sessions,
    finish_deletion,
    refuse_live,
    remove_outputs,
    remove_staging,
)

SESSIONS_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


def _subject_argument(ctx, param, value: str) -> str:
    try:
        return check_subject(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None


subject_argument = click.argument("subject", metavar="ID", callback=_subject_argument)
sessions_option = click.option(
    "--sessions",
    "sessions_dir",
    type=SESSIONS_DIR,
    required=True,
    metavar="DIR",
    help="The directory of session directories (hiprot record --out).",
)


@click.group()
def subject() -> None:
    """Export or delete one subject's sessions (found by the code in their session.json)."""


def _find(sessions_dir: Path, subject_id: str) -> Found:
    """The subject's sessions, with a warning for each session whose subject is unreadable."""
    found = find_sessions(sessions_dir, subject_id)
    for path, why in found.unknown:
        click.echo(f"warning: {path}: subject unreadable, left alone ({why})", err=True)
    return found


@subject.command("export")
@subject_argument
@sessions_option
@click.option(
    "--to",
    "dest",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    metavar="DEST",
    help="Where the copies go (created; a session already there is refused).",
)
def export(subject, sessions_dir, dest) -> None:
    """Copy every session of subject ID in DIR to DEST, each file checked by SHA-256.

    A session appears in DEST only once it is complete and checked. Exit status 2 if
    the subject has no session in DIR.
    """
    found = _find(sessions_dir, subject)
    if not found.sessions:
        raise SubjectError(f"{sessions_dir}: no session of subject {subject}")
    dest_real = dest.resolve()
    for session in found.sessions:
        if dest_real == session.resolve() or session.resolve() in dest_real.parents:
            raise SubjectError(f"{dest}: inside the session {session}; export elsewhere")
    refuse_live(found.sessions)
    taken = [dest / s.name for s in found.sessions if (dest / s.name).exists()]
    if taken:
        raise SubjectError(f"{taken[0]}: already exists; export into an empty place")
    try:
        private_dir(dest)
        for left in remove_staging(dest):
            click.echo(f"removed {left}: the partial copy of an interrupted export")
    except OSError as exc:
        raise SubjectError(f"{dest}: cannot prepare: {exc.strerror or exc}") from exc
    total_files = total_bytes = 0
    for session in found.sessions:
        try:
            target, files, size = export_session(session, dest)
        except OSError as exc:
            raise SubjectError(f"{session}: export failed: {exc.strerror or exc}") from exc
        total_files, total_bytes = total_files + files, total_bytes + size
        click.echo(f"exported {session} -> {target} ({files} files checked)")
    click.echo(
        f"subject {subject}: {len(found.sessions)} sessions, {total_files} files, "
        f"{total_bytes} bytes exported to {dest}"
    )


def _confirmed(question: str) -> bool:
    """Yes from the terminal; no when the answer is no, empty, or stdin ends (no terminal)."""
    try:
        return click.confirm(question, default=False, err=True)
    except click.Abort:
        click.echo("", err=True)
        return False


@subject.command("delete")
@subject_argument
@sessions_option
@click.option(
    "--analyses",
    "analysis_dirs",
    type=SESSIONS_DIR,
    multiple=True,
    metavar="DIR",
    help="Also look here for the subject's analysis outputs (hiprot analyze --out); "
    "DIR of --sessions is always searched. Repeatable.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(subject, sessions_dir, analysis_dirs, yes) -> None:
    """Delete every session of subject ID in DIR and the subject's analysis outputs.

    Outputs are report.json directories of the subject, and comparisons or histories
    that include one of the deleted sessions (they mix subjects: re-run them). Other
    subjects' sessions are never touched; sessions whose subject cannot be read are left
    alone and named.
    """
    found = _find(sessions_dir, subject)
    refuse_live(found.sessions)
    outputs = analysis_outputs(
        [sessions_dir, *analysis_dirs], subject, [*found.sessions, *found.interrupted]
    )
    if not (found.sessions or found.interrupted or outputs):
        raise SubjectError(f"{sessions_dir}: no session or analysis of subject {subject}")
    for path in found.sessions:
        click.echo(f"session  {path}")
    for path in found.interrupted:
        click.echo(f"session  {path} (a deletion that was interrupted)")
    for path in outputs:
        click.echo(f"analysis {path.parent} ({path.name})")
    if not yes and not _confirmed(
        f"delete these {len(found.sessions)} sessions and {len(outputs)} analyses of "
        f"subject {subject}?"
    ):
        click.echo("nothing deleted", err=True)
        raise click.exceptions.Exit(1)
    try:
        for path in found.interrupted:
            finish_deletion(path)
        for path in found.sessions:
            delete_session(path)
        for path in outputs:
            remove_outputs(path)
    except OSError as exc:
        raise SubjectError(
            f"{exc.filename or sessions_dir}: cannot delete: {exc.strerror or exc}; "
            "run the command again to finish"
        ) from exc
    click.echo(
        f"subject {subject}: deleted {len(found.sessions) + len(found.interrupted)} sessions "
        f"and {len(outputs)} analyses"
    )
