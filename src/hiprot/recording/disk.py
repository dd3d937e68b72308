"""Free-space watch for a recording: refuse to start, warn early, stop before the disk is full."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hiprot.errors import RecordingError

MB = 1_000_000


@dataclass(frozen=True)
class DiskPolicy:
    """Thresholds on the free space of the filesystem that holds the session.

    Below ``warn_free_bytes`` a warning says how long the recording can go on;
    below ``stop_free_bytes`` a recording does not start, or stops cleanly with
    its metadata closed.
    """

    warn_free_bytes: int = 500 * MB
    stop_free_bytes: int = 50 * MB


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (a session directory may not exist yet)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes} min" if minutes else f"{seconds:.0f} s"


class DiskGuard:
    """Checks free space where a session is written: at start, then at every sync (a statvfs call).

    ``bytes_per_s`` (the recording's data rate) turns free space into time
    left for the warning. ``warn`` receives one-line messages.
    """

    def __init__(
        self, directory: Path, policy: DiskPolicy, bytes_per_s: float, warn: Callable[[str], None]
    ):
        self.directory, self.policy = Path(directory), policy
        self.bytes_per_s, self.warn = bytes_per_s, warn
        self.warned = False
        self.stopping = False  # said once: the writer checks again until the recording has stopped

    def free_bytes(self) -> int:
        """Free space available to this user on the session's filesystem."""
        return shutil.disk_usage(_existing(self.directory)).free

    def check_start(self) -> None:
        """Refuse to start below the stop threshold; warn below the warning threshold."""
        free = self.free_bytes()
        if free < self.policy.stop_free_bytes:
            raise RecordingError(
                f"{self.directory}: only {free / MB:.1f} MB free, below the minimum of "
                f"{self.policy.stop_free_bytes / MB:g} MB (--min-free-mb); free some space first"
            )
        self._maybe_warn(free)

    def must_stop(self) -> bool:
        """True when free space is below the stop threshold (said once; warns once below the
        warning one)."""
        if self.stopping:
            return True
        free = self.free_bytes()
        if free < self.policy.stop_free_bytes:
            self.stopping = True
            self.warn(
                f"{self.directory}: only {free / MB:.1f} MB free; stopping the recording "
                f"(minimum {self.policy.stop_free_bytes / MB:g} MB, --min-free-mb)"
            )
            return True
        self._maybe_warn(free)
        return False

    def _maybe_warn(self, free: int) -> None:
        if self.warned or free >= self.policy.warn_free_bytes:
            return
        self.warned = True
        left = max(0, free - self.policy.stop_free_bytes) / max(self.bytes_per_s, 1.0)
        self.warn(
            f"{self.directory}: disk space low ({free / MB:.1f} MB free); the recording "
            f"stops by itself in about {_duration(left)} "
            f"(at {self.policy.stop_free_bytes / MB:g} MB free, --min-free-mb)"
        )
