"""Session directories: metadata, rig and raw samples on disk, and reading them back."""

from hiprot.recording.disk import DiskPolicy
from hiprot.recording.session import Recovery, Session, load_session
from hiprot.recording.writer import SessionWriter

__all__ = ["DiskPolicy", "Recovery", "Session", "SessionWriter", "load_session"]
