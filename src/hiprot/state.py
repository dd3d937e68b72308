"""A device's state directory: one process per device, its MQTT outboxes, what a killed run left.

``$XDG_STATE_HOME/hiprot/<device_id>/`` (default ``~/.local/state``; under
systemd ``/var/lib/hiprot``) holds ``lock``, locked (``flock``) by the one
``hiprot record`` or publishing ``hiprot replay`` of that device, and the
outbox directory ``outbox/`` with one outbox per session.

Two recorders of one device would fight over its MQTT client id and mix two
wearers' data on its topics, so a second is refused in one line — also when it
runs as another user or with another state directory (the service under
``/var/lib/hiprot`` and a run by hand under ``~/.local/state``): the holder
also binds a machine-wide name, the abstract Unix socket
``hiprot-device-<device_id>`` (Linux ``unix(7)``), which the kernel frees when
the process ends, however it ends. The lock file also carries a note the running process keeps up to date — how many
metrics exist only in its memory (when its outbox fell back to memory) — so
the next start can report them as lost after a ``kill -9``. The kernel
releases the lock when a process dies, however it dies.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
from pathlib import Path

from hiprot.errors import HiprotError

LOCK_FILE = "lock"
NOTE_BYTES = 4096  # reserved at creation, so notes are rewritten in place on a full disk


class DeviceBusy(HiprotError):
    """Another process records (or publishes) for this device."""


def state_home() -> Path:
    """``$XDG_STATE_HOME/hiprot`` (default ``~/.local/state/hiprot``)."""
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "hiprot"


def device_state_dir(device_id: str) -> Path:
    """The state directory of ``device_id``."""
    return state_home() / device_id


def outbox_dir(device_id: str) -> Path:
    """Where the MQTT outboxes of ``device_id`` live, one per session."""
    return device_state_dir(device_id) / "outbox"


def adopt_legacy_outbox(device_id: str) -> None:
    """Move the outbox of earlier hiprot versions (one per device) into the outbox directory.

    Its metrics carry no session id (``session`` null); it is then delivered,
    or put aside when damaged, like any outbox an earlier session left.
    """
    legacy = state_home() / f"mqtt-outbox-{device_id}.sqlite3"
    if not legacy.exists():
        return
    target = outbox_dir(device_id)
    with contextlib.suppress(OSError):
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        for suffix in ("-wal", "-shm", ""):
            source = Path(f"{legacy}{suffix}")
            if source.exists():
                source.rename(target / f"legacy-{device_id}.sqlite3{suffix}")
        Path(f"{legacy}.lock").unlink(missing_ok=True)


class DeviceLock:
    """Held by the one process that records or publishes for a device, until it ends.

    ``acquire`` raises :class:`DeviceBusy` when another process holds it. A state
    directory that cannot be used (read-only, full) does not stop the recording:
    ``problem`` says why and the run goes on unlocked.
    """

    def __init__(self, device_id: str, command: str):
        self.device_id, self.command = device_id, command
        self.path = device_state_dir(device_id) / LOCK_FILE
        self.problem: str | None = None
        self.previous: dict = {}  # the note a killed run left
        self._fd: int | None = None
        self._claim: socket.socket | None = None

    def acquire(self) -> DeviceLock:
        """Take the lock; keep the note the previous holder left in ``previous``."""
        self._lock_state_dir()  # first: a holder with the same state directory is named by pid
        try:
            self._claim_name()
        except DeviceBusy:
            if self._fd is not None:  # the note a killed run left stays for the next start
                os.close(self._fd)
                self._fd = None
            raise
        self.note()
        return self

    def _lock_state_dir(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            self.problem = f"{self.path}: cannot lock the device ({exc.strerror or exc})"
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_note(fd)
            os.close(fd)
            who = f"pid {holder['pid']}, hiprot {holder.get('command', '?')}" if holder else "?"
            raise DeviceBusy(
                f"device {self.device_id!r} is already in use by another hiprot process ({who}); "
                "one recorder per device_id: stop it first or give this rig another device_id"
            ) from None
        self._fd = fd
        self.previous = _read_note(fd)
        with contextlib.suppress(OSError):
            os.posix_fallocate(fd, 0, NOTE_BYTES)

    def _claim_name(self) -> None:
        """Bind the machine-wide name of the device, or raise :class:`DeviceBusy`."""
        name = f"\0hiprot-device-{self.device_id}"
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            claim.bind(name)
        except OSError as exc:
            claim.close()
            if exc.errno != errno.EADDRINUSE:
                return  # no abstract names here: the state directory's lock alone
            raise DeviceBusy(
                f"device {self.device_id!r} is already in use by another hiprot process on this "
                "machine (another user or state directory); one recorder per device_id: stop it "
                "first or give this rig another device_id"
            ) from None
        self._claim = claim

    def note(self, **fields) -> None:
        """Rewrite the note (pid, command and ``fields``); best effort, never raises."""
        if self._fd is None:
            return
        data = json.dumps({"pid": os.getpid(), "command": self.command, **fields}).encode()
        with contextlib.suppress(OSError):
            os.pwrite(self._fd, data[: NOTE_BYTES - 1].ljust(NOTE_BYTES - 1) + b"\n", 0)

    def note_memory_only(self, session: str, count: int) -> None:
        """The publisher's hook: ``count`` metrics of ``session`` exist only in memory."""
        self.note(session=session, memory_only=count)

    def release(self) -> None:
        """Clear the note and let go of the lock."""
        if self._fd is not None:
            self.note()
            os.close(self._fd)
            self._fd = None
        if self._claim is not None:
            self._claim.close()
            self._claim = None


def _read_note(fd: int) -> dict:
    """The note in the lock file, or {} when there is none (or it is not ours)."""
    try:
        text = os.pread(fd, NOTE_BYTES, 0).decode(errors="replace").strip()
        note = json.loads(text) if text else {}
    except (OSError, ValueError):
        return {}
    return note if isinstance(note, dict) else {}
