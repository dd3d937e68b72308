"""Session directories: metadata, rig and raw samples on disk, and reading them back."""

from hiprot.recording.disk import DiskPolicy
from hiprot.recording.segments import Segment, Timeline, before_after_pairs, read_timeline
from hiprot.recording.session import Recovery, Session, load_session
from hiprot.recording.writer import SessionWriter

__all__ = [
    "DiskPolicy",
    "Recovery",
    "Segment",
    "Session",
    "SessionWriter",
    "Timeline",
    "before_after_pairs",
    "load_session",
    "read_timeline",
]
