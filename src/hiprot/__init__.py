"""hiprot: a wearable IMU logger that measures hip internal rotation."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hiprot")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
