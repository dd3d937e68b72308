"""One exception family for expected failures.

The CLI turns any :class:`HiprotError` into a single line on stderr and exit
status 2; anything else is a bug and keeps its traceback.
"""


class HiprotError(Exception):
    """An expected failure the user can act on (bad input, missing hardware...)."""

    exit_code = 2


class ConfigError(HiprotError):
    """A rig or session file is missing, unreadable or invalid."""


class SensorError(HiprotError):
    """A sensor is missing, answers wrongly, or the bus fails."""


class RecordingError(HiprotError):
    """A recording cannot be written or read."""


class EmptySessionError(RecordingError):
    """A session directory holds no sample at all: its recording was stopped or killed before
    its first write (a batch skips it with a warning)."""


class CalibrationError(HiprotError):
    """The data cannot define the sensor-to-segment alignment."""


class NoStandingError(CalibrationError):
    """The session has no still standing phase to calibrate from."""


class AnalysisError(HiprotError):
    """A session yields no joint angles to analyse."""
