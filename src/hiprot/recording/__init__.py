"""Session directories: metadata, rig and raw samples on disk."""

from hiprot.recording.session import Session, load_session
from hiprot.recording.writer import SessionWriter

__all__ = ["Session", "SessionWriter", "load_session"]
