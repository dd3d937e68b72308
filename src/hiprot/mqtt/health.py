"""The ``health`` message: per-sensor rate and missed samples, drops, CPU, disk, battery.

Sensor figures come from the samples themselves (a gap longer than one and a
half sample periods counts the samples missing in it); machine figures come
from the operating system and are left out where the machine does not know
them (no battery, no thermal zone).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np

from hiprot.samples import Chunk

SYS = Path("/sys")
BATTERY = "battery_percent"  # health and state keys of what the machine reports
DISK_FREE = "disk_free_mb"


class SensorTally:
    """Samples and gaps of one sensor since the last report."""

    def __init__(self, rate_hz: float):
        self.period_s = 1.0 / rate_hz
        self.samples = 0
        self.missed = 0
        self.first_s: float | None = None
        self.last_s: float | None = None

    def add(self, time_s: np.ndarray) -> None:
        if not len(time_s):
            return
        times = time_s if self.last_s is None else np.concatenate([[self.last_s], time_s])
        gaps = np.diff(times)
        self.missed += int(np.sum(np.round(gaps[gaps > 1.5 * self.period_s] / self.period_s) - 1))
        self.samples += len(time_s)
        self.first_s = time_s[0] if self.first_s is None else self.first_s
        self.last_s = float(time_s[-1])

    def report(self) -> dict:
        """``rate_hz`` over the window, ``samples`` and ``missed_samples``; the window restarts."""
        span = (self.last_s - self.first_s) if self.first_s is not None else 0.0
        rate = (self.samples - 1) / span if span > 0 else 0.0
        out = {"rate_hz": round(rate, 1), "samples": self.samples, "missed_samples": self.missed}
        self.samples, self.missed, self.first_s = 0, 0, None
        return out


def battery_percent(sys_root: Path = SYS) -> float | None:
    """Charge of the first battery the kernel reports, if any."""
    for supply in sorted((sys_root / "class" / "power_supply").glob("*")):
        try:
            if (supply / "type").read_text().strip() == "Battery":
                return float((supply / "capacity").read_text())
        except (OSError, ValueError):
            continue
    return None


def cpu_temperature_c(sys_root: Path = SYS) -> float | None:
    """The first thermal zone's temperature (the SoC on a Raspberry Pi), if any."""
    try:
        return int((sys_root / "class" / "thermal" / "thermal_zone0" / "temp").read_text()) / 1000.0
    except (OSError, ValueError):
        return None


ACQUISITION_KEYS = (
    "available",
    "dropped",
    "late",
    "overflows",
    "max_read_interval_s",
    "i2c_errors",
    "i2c_failures",
    "saturated",
)


def _acquisition(source: dict[str, dict] | None, name: str) -> dict:
    """The acquisition's counts for one sensor, as health fields."""
    counts = (source or {}).get(name)
    if counts is None:
        return {}
    out = {key: counts[key] for key in ACQUISITION_KEYS if key in counts}
    if "gaps" in counts:
        out["gaps"] = len(counts["gaps"])
    return out


class HealthMonitor:
    """Collects what a health message reports; ``report()`` once per interval of sample time."""

    def __init__(self, sensors: dict[str, float], disk_path: Path, interval_s: float = 1.0):
        self.tallies = {name: SensorTally(rate) for name, rate in sensors.items()}
        self.disk_path = disk_path
        self.interval_s = interval_s
        self._next_s: float | None = None
        self._cpu = (time.monotonic(), time.process_time())

    def add(self, chunk: Chunk) -> None:
        """Count the samples of one chunk."""
        for name, samples in chunk.items():
            if name in self.tallies:
                self.tallies[name].add(samples.time_s)

    def due(self, time_s: float) -> bool:
        """True once per ``interval_s`` of sample time."""
        if self._next_s is None:
            self._next_s = time_s + self.interval_s
        if time_s < self._next_s:
            return False
        self._next_s = max(self._next_s + self.interval_s, time_s)
        return True

    def report(
        self,
        time_s: float,
        recording_dropped_chunks: int,
        mqtt: dict,
        source: dict[str, dict] | None = None,
    ) -> dict:
        """The health payload (without the timestamp the publisher adds); ``source`` adds what
        the acquisition knows per sensor (availability, drops, gaps, I2C errors)."""
        wall, cpu = time.monotonic(), time.process_time()
        cpu_percent = 100.0 * (cpu - self._cpu[1]) / max(wall - self._cpu[0], 1e-6)
        self._cpu = (wall, cpu)
        out = {
            "time_s": round(time_s, 3),
            "sensors": {
                name: {**tally.report(), **_acquisition(source, name)}
                for name, tally in self.tallies.items()
            },
            "recording_dropped_chunks": recording_dropped_chunks,
            "mqtt": mqtt,
            "cpu_percent": round(cpu_percent, 1),
            "load_1min": round(os.getloadavg()[0], 2),
        }
        try:
            out[DISK_FREE] = round(shutil.disk_usage(self.disk_path).free / 1e6)
        except OSError:
            pass
        known = {BATTERY: battery_percent(), "cpu_temp_c": cpu_temperature_c()}
        for key, value in known.items():
            if value is not None:
                out[key] = round(value, 1)
        return out
