"""Lines on the terminal beside a progress line that nothing glues to.

A progress line (``analysing sessions 2/5``) is drawn on stderr without a newline, so
the next thing printed — a result on stdout, an error or a library warning on stderr —
would continue it. :class:`Progress` erases it before each line printed through
:func:`echo` and draws it again after; it is drawn only on a terminal (a file or pipe
gets the lines alone). Library log lines (:class:`hiprot.cli.common.EchoHandler`) go
through :func:`echo` too; in a worker process forked from the command, a line erases the
progress line in the same write and leaves the redrawing to the command.
"""

from __future__ import annotations

import os
import sys

import click

ERASE_LINE = "\r\x1b[K"  # carriage return, then erase to the end of the line (ECMA-48 EL)
_active: Progress | None = None


class Progress:
    """``label done/total`` on the last line of the terminal while a batch runs (a context
    manager: the line is erased when the block ends)."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, total, 0
        self.owner = os.getpid()
        self.shown = sys.stderr.isatty()

    def __enter__(self) -> Progress:
        global _active
        _active = self
        self._draw()
        return self

    def __exit__(self, *exc) -> None:
        global _active
        _active = None
        self._erase()

    def step(self) -> None:
        """One more item done."""
        self.done += 1
        self._draw()

    def echo(self, message: str, err: bool = False) -> None:
        """Print ``message`` as a line of its own, the progress line drawn again below it."""
        if not self.shown:
            click.echo(message, err=err)
        elif os.getpid() != self.owner:  # a forked worker: erase and print in one write
            stream = sys.stderr if err else sys.stdout
            stream.write(ERASE_LINE + message + "\n")
            stream.flush()
        else:
            self._erase()
            click.echo(message, err=err)
            self._draw()

    def _draw(self) -> None:
        if self.shown:
            sys.stderr.write(f"{ERASE_LINE}{self.label} {self.done}/{self.total}")
            sys.stderr.flush()

    def _erase(self) -> None:
        if self.shown:
            sys.stderr.write(ERASE_LINE)
            sys.stderr.flush()


def echo(message: str, err: bool = False) -> None:
    """``click.echo``, on a line of its own beside the progress line when one is shown."""
    if _active is not None:
        _active.echo(message, err)
    else:
        click.echo(message, err=err)
