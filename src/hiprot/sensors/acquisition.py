"""Acquisition: every sensor of a rig read at a steady pace, with honest timestamps and counts.

Each cycle (every ``read_period_s``, shorter when a chip's FIFO is small) reads
every sensor's FIFO in bursts, so a late wake-up loses nothing while the FIFO
lasts. Samples get monotonic timestamps on the acquisition clock (seconds since
the acquisition started) from :class:`~hiprot.sensors.timing.SampleTimer`.
Whatever is lost shows twice: as a real gap in that sensor's timestamps and in
its counts, and each gap names its cause. A FIFO overflow (the driver saw the
chip's overflow flag or a full FIFO, and flushed it) is a "late read" when the
interval since the previous read (from its start to the end of this FIFO
access, the longest the FIFO can have been filling) exceeded what the FIFO
holds: a FIFO of n samples fills in just over n - 1 periods, never in less. An
overflow after a timely read is an "overflow" (a fault, not lateness).
A loss that no later sample bounds (the last read found the FIFO overflowed and
flushed it, or the sensor was unavailable to the end) is a gap too when the
acquisition ends: up to where the first sample after the end would have been,
so that the counts add up to rate × duration.
A sensor that stops answering is marked unavailable and retried every
``retry_s``; when it answers again it is reconfigured and resumes, and
the other sensors never wait for it. Two faults give no I2C error, so they are
looked for: a chip that lost power between two reads answers from its reset
state with its FIFO off, and a different chip may answer at the address. Every
sensor's WHO_AM_I is checked again every ``verify_s`` and whenever it has been
silent for ``silent_s``; a wrong chip makes it unavailable (and retried), a
right chip whose FIFO is still empty then is reconfigured (a loop that was late
itself, on a busy machine, finds the FIFO full and reconfigures nothing). Waits
are kept short for the sake of the other sensors' FIFOs: a stuck bus (a
transaction timed out) makes all its sensors unavailable at once, so it costs
one adapter timeout per retry, and at most one sensor is reconnected per cycle,
after every other sensor was read.
Samples at the full scale the chip was set to are counted (``saturated``): the
angles computed from them are wrong.
"""

from __future__ import annotations

import errno
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from hiprot.config import Rig, SensorConfig
from hiprot.errors import SensorError
from hiprot.samples import Chunk, ImuSamples
from hiprot.saturation import FullScale, at_full_scale
from hiprot.sensors.base import ImuDriver
from hiprot.sensors.bus import I2CBus
from hiprot.sensors.clock import Clock, sleep_until
from hiprot.sensors.device import where
from hiprot.sensors.drivers import imu_driver, mag_driver
from hiprot.sensors.lis3mdl import Lis3mdl
from hiprot.sensors.timing import SampleTimer

READ_PERIOD_S = 0.05
FIFO_MARGIN = 0.4  # read when a FIFO is at most this full, so a late wake-up has room
RETRY_S = 1.0
VERIFY_S = 1.0
SILENT_S = 0.5  # several read periods without one sample: the chip is reset or not sampling
LATE_AFTER_S = 0.25
GAP_PERIODS = 1.5  # consecutive samples further apart than this many periods leave a gap
GAP_LINES = 5  # gaps described per sensor on the console


@dataclass
class SensorHealth:
    """One sensor's data so far: what was delivered, lost, late, and how the bus behaved."""

    name: str
    chip: str
    location: str
    available: bool = False
    odr_hz: float | None = None
    samples: int = 0
    dropped: int = 0
    late: int = 0
    fifo_s: float | None = None
    overflows: int = 0
    overflow_dropped: int = 0
    max_read_interval_s: float = 0.0
    first_s: float | None = None
    last_s: float | None = None
    gaps: list[tuple[float, float]] = field(default_factory=list)
    gap_causes: list[dict] = field(default_factory=list)  # one per gap, see :func:`gap_text`
    i2c_errors: int = 0
    i2c_retries: int = 0
    i2c_failures: int = 0
    last_error: str | None = None
    ranges: tuple[float, float] | None = None  # the chip's set ranges: (g, °/s)
    saturated_acc: int = 0  # samples with an accelerometer axis at full scale
    saturated_gyr: int = 0

    @property
    def rate_hz(self) -> float:
        """Samples per second actually delivered (lost samples lower it)."""
        if self.samples < 2 or self.first_s is None or self.last_s == self.first_s:
            return 0.0
        return (self.samples - 1) / (self.last_s - self.first_s)

    def as_dict(self) -> dict:
        """JSON-ready: what recordings store and MQTT publishes."""
        return {
            "chip": self.chip,
            "location": self.location,
            "available": self.available,
            "odr_hz": self.odr_hz,
            "rate_hz": round(self.rate_hz, 3),
            "samples": self.samples,
            "dropped": self.dropped,
            "late": self.late,
            "fifo_s": None if self.fifo_s is None else round(self.fifo_s, 4),
            "overflows": self.overflows,
            "overflow_dropped": self.overflow_dropped,
            "max_read_interval_s": round(self.max_read_interval_s, 4),
            "gaps": [[round(a, 4), round(b, 4)] for a, b in self.gaps],
            "gap_causes": [dict(cause) for cause in self.gap_causes],
            "i2c_errors": self.i2c_errors,
            "i2c_retries": self.i2c_retries,
            "i2c_failures": self.i2c_failures,
            "last_error": self.last_error,
            "saturated": {"acc": self.saturated_acc, "gyr": self.saturated_gyr},
            "full_scale": None
            if self.ranges is None
            else {"accel_g": self.ranges[0], "gyro_dps": self.ranges[1]},
        }


class _Sensor:
    """Runtime state of one sensor: its drivers, sample timer and health."""

    def __init__(self, config: SensorConfig, imu: ImuDriver, mag: Lis3mdl | None):
        self.config, self.imu, self.mag = config, imu, mag
        location = where(config.bus, config.address, config.mux_address, config.mux_channel)
        self.health = SensorHealth(config.name, config.chip, location)
        self.timer: SampleTimer | None = None
        self.retry_at = 0.0
        self.verify_at = 0.0
        self.heard_at = 0.0  # when it last delivered a sample, or was (re)configured
        self.drained_at = 0.0  # its FIFO was emptied after this: a read began, or it (re)started
        self.last_interval_s = 0.0  # the previous read's interval (0 after a flush or a start)
        self.cause: dict | None = None  # why the next samples may follow a gap

    @property
    def devices(self):
        return [self.imu.device] + ([self.mag.device] if self.mag else [])


class Acquisition:
    """Samples all sensors of ``rig`` on ``buses`` (bus number → bus) using ``clock``.

    Iterate it for chunks (sensor name → :class:`ImuSamples`, time order); with
    ``duration_s`` it ends after that many seconds of samples. ``health()``
    reports per-sensor counts at any time; ``on_event`` hears of sensors lost
    and resumed.
    """

    def __init__(
        self,
        rig: Rig,
        buses: dict[int, I2CBus],
        clock: Clock,
        duration_s: float | None = None,
        read_period_s: float = READ_PERIOD_S,
        retry_s: float = RETRY_S,
        late_after_s: float = LATE_AFTER_S,
        on_event: Callable[[str], None] | None = None,
        verify_s: float = VERIFY_S,
        silent_s: float = SILENT_S,
    ):
        self.rig, self.buses, self.clock = rig, buses, clock
        self.duration_s, self.read_period_s = duration_s, read_period_s
        self.retry_s, self.late_after_s = retry_s, late_after_s
        self.verify_s, self.silent_s = verify_s, silent_s
        self.on_event = on_event or (lambda message: None)
        use_mag = rig.fusion.use_magnetometer
        self.sensors = [
            _Sensor(
                s, imu_driver(s, buses[s.bus], clock, use_mag), mag_driver(s, buses[s.bus], clock)
            )
            for s in rig.sensors
        ]
        self.start_s: float | None = None
        self._read_s: float | None = None  # when the latest cycle's reads began (acquisition time)
        self._ended = False  # the losses at the end were counted
        self.start_utc: datetime | None = None  # wall-clock UTC of sample time 0
        self._closed = False
        self._released = False
        self._stuck_buses: dict[int, SensorError] = {}  # bus → its timeout, in this cycle

    def open(self) -> None:
        """Identify, configure and start every sensor; refuse if any is missing or wrong."""
        problems = []
        for sensor in self.sensors:
            try:
                self._connect(sensor)
            except SensorError as exc:
                problems.append(f"{sensor.config.name}: {exc}")
        if problems:
            raise SensorError(
                "; ".join(problems) + " (run `hiprot scan --rig` to compare the bus with the rig)"
            )
        fifo_s = min(
            s.imu.configuration.fifo_samples / s.imu.configuration.odr_hz for s in self.sensors
        )
        self.read_period_s = min(self.read_period_s, FIFO_MARGIN * fifo_s)
        for sensor in self.sensors:  # all FIFOs start together, after every chip is set up
            sensor.drained_at, sensor.last_interval_s = self.clock.now(), 0.0
            sensor.imu.start()
        self.start_s = self.clock.now()
        self.start_utc = datetime.now(UTC)
        for sensor in self.sensors:
            sensor.heard_at = self.start_s

    def _connect(self, sensor: _Sensor, start: bool = False) -> None:
        sensor.imu.identify()
        configuration = sensor.imu.configure(self.rig.sample_rate_hz)
        if sensor.mag is not None:
            sensor.mag.identify()
            sensor.mag.configure()
        if start:
            sensor.drained_at, sensor.last_interval_s = self.clock.now(), 0.0
            sensor.imu.start()
        sensor.timer = SampleTimer(1.0 / configuration.odr_hz)
        sensor.health.odr_hz = configuration.odr_hz
        sensor.health.ranges = (configuration.accel_range_g, configuration.gyro_range_dps)
        sensor.health.fifo_s = configuration.fifo_samples / configuration.odr_hz
        sensor.health.available = True
        sensor.heard_at = self.clock.now()
        sensor.verify_at = sensor.heard_at + self.verify_s

    def __iter__(self) -> Iterator[Chunk]:
        if self.start_s is None:
            self.open()
        next_read = self.start_s + self.read_period_s
        try:
            while not self._closed:
                sleep_until(self.clock, next_read)
                now = self.clock.now()
                next_read = max(next_read + self.read_period_s, now)
                self._read_s = now - self.start_s
                chunk = {}
                self._stuck_buses.clear()
                for sensor in self.sensors:
                    samples = self._poll(sensor, now)
                    if samples is not None and len(samples):
                        chunk[sensor.config.name] = samples
                self._retry_one(now)
                yield chunk
                if self.duration_s is not None and now - self.start_s >= self.duration_s:
                    break
        finally:  # the duration passed, or whoever iterated stopped (a closed generator)
            self._count_losses_at_end()

    def _poll(self, sensor: _Sensor, now: float) -> ImuSamples | None:
        stuck = self._stuck_buses.get(sensor.config.bus)
        if stuck is not None:  # one timeout per bus and cycle: the others wait for the next retry
            if sensor.health.available:
                self._lose(sensor, now, stuck)
            sensor.retry_at = max(sensor.retry_at, now + self.retry_s)
            return None
        if not sensor.health.available:
            return None
        try:
            silent_s = now - sensor.heard_at
            if silent_s > self.silent_s or now >= sensor.verify_at:
                sensor.verify_at = now + self.verify_s
                sensor.imu.identify()  # first: a wrong chip raises ChipMismatch, is never read
            samples = self._read(sensor)
            if now - sensor.heard_at <= self.silent_s:  # heard in this read or lately
                return samples
            # Nothing in its FIFO after silent_s: the chip is not sampling. (A loop that was
            # itself late, on a busy machine, finds the FIFO full instead and reconfigures nothing.)
            self._connect(sensor, start=True)
            sensor.cause = sensor.cause or {"cause": "silent, reconfigured"}
            self.on_event(
                f"{sensor.config.name} silent for {silent_s:.2g} s "
                "(reset by a power glitch?); reconfigured"
            )
            return self._read(sensor)
        except SensorError as exc:
            self._note_timeout(sensor, exc)
            self._lose(sensor, now, exc)
            return None

    def _lose(self, sensor: _Sensor, now: float, exc: SensorError) -> None:
        sensor.health.available = False
        sensor.health.last_error = str(exc)
        sensor.retry_at = now + self.retry_s
        sensor.cause = sensor.cause or {"cause": "unavailable", "error": str(exc)}
        self.on_event(f"{sensor.config.name} lost ({exc}); retrying every {self.retry_s:g} s")

    def _retry_one(self, now: float) -> None:
        """Reconnect the longest-due unavailable sensor, after every other sensor was read.

        One per cycle: reconfiguring a chip waits for its start-up (up to 0.15 s) and a stuck
        bus for its timeout, and the others' FIFOs must outlast that wait.
        """
        due = [
            s
            for s in self.sensors
            if not s.health.available
            and now >= s.retry_at
            and s.config.bus not in self._stuck_buses
        ]
        if not due:
            return
        sensor = min(due, key=lambda s: s.retry_at)
        self._reconnect(sensor, now)
        if sensor.config.bus in self._stuck_buses:  # its bus-mates would wait the timeout too
            for other in self.sensors:
                if other.config.bus == sensor.config.bus and not other.health.available:
                    other.retry_at = max(other.retry_at, now + self.retry_s)

    def _reconnect(self, sensor: _Sensor, now: float) -> None:
        try:
            self._connect(sensor, start=True)
        except SensorError as exc:
            self._note_timeout(sensor, exc)
            sensor.health.last_error = str(exc)
            sensor.retry_at = now + self.retry_s
            return
        self.on_event(f"{sensor.config.name} answers again; resumed")

    def _note_timeout(self, sensor: _Sensor, exc: SensorError) -> None:
        """A timed-out transaction means a stuck bus: spare its other sensors the same wait."""
        if getattr(exc, "errno", None) == errno.ETIMEDOUT:
            self._stuck_buses[sensor.config.bus] = exc

    def _read(self, sensor: _Sensor) -> ImuSamples:
        began = self.clock.now() - self.start_s
        reading = sensor.imu.read_fifo()
        # The FIFO was emptied after the previous read began and looked at before now: at most
        # this long apart (a logger descheduled in mid-read counts as late too).
        interval_s = self.clock.now() - sensor.drained_at
        previous_s, sensor.last_interval_s = sensor.last_interval_s, interval_s
        sensor.drained_at = began + self.start_s
        field_ut = sensor.mag.read() if sensor.mag is not None else None
        ended = self.clock.now() - self.start_s
        health = sensor.health
        health.max_read_interval_s = max(health.max_read_interval_s, interval_s)
        if len(reading) or reading.overflow:
            sensor.heard_at = ended + self.start_s
        if reading.overflow:
            sensor.timer.restart()
            sensor.last_interval_s = 0.0  # flushed: what filled it before is gone with the flag
            overflow = self._overflow_cause(sensor, interval_s, previous_s)
            sensor.cause = sensor.cause or overflow
        times = sensor.timer.stamp(len(reading), began, ended)
        keep = times >= 0.0
        if self.duration_s is not None:
            keep &= times < self.duration_s
        if reading.valid is not None:
            keep &= reading.valid
        mag = (
            reading.mag if field_ut is None else np.repeat(field_ut[None, :], len(reading), axis=0)
        )
        samples = ImuSamples(times, reading.acc, reading.gyr, mag)[keep]
        self._account(sensor, samples.time_s, ended)
        self._count_saturated(sensor, samples)
        return samples

    def _count_saturated(self, sensor: _Sensor, samples: ImuSamples) -> None:
        """Samples at the full scale the chip was set to (their angles are wrong)."""
        if sensor.health.ranges is None or not len(samples):
            return
        full_scale = FullScale.of(*sensor.health.ranges)
        sensor.health.saturated_acc += int(at_full_scale(samples.acc, full_scale.acc_m_s2).sum())
        sensor.health.saturated_gyr += int(at_full_scale(samples.gyr, full_scale.gyr_rad_s).sum())

    def _overflow_cause(self, sensor: _Sensor, interval_s: float, previous_s: float) -> dict:
        """A late read if the interval since the FIFO was emptied could fill it, else an overflow.

        A FIFO of n samples is full after n ticks, which fit in an interval just over n - 1
        periods (the chip's period as the sample timer estimates it), never in a shorter one.
        The overflow flag stays set from the previous read's status on, so a previous read that
        took too long (it read a nearly full FIFO and was descheduled before its burst) explains
        it too; that read's interval is then given as ``previous_read_after_s``.
        """
        fifo_samples = sensor.imu.configuration.fifo_samples
        limit_s = (fifo_samples - 1) * sensor.timer.period_s
        sensor.health.overflows += 1
        cause = {
            "cause": "late read" if max(interval_s, previous_s) > limit_s else "overflow",
            "read_after_s": round(interval_s, 4),
            "fifo_s": round(fifo_samples * sensor.timer.period_s, 4),
        }
        if previous_s > limit_s >= interval_s:
            cause["previous_read_after_s"] = round(previous_s, 4)
        return cause

    def _account(self, sensor: _Sensor, times: np.ndarray, read_end_s: float) -> None:
        health = sensor.health
        if len(times) == 0:
            return
        period = sensor.timer.period_s
        joined = times if health.last_s is None else np.concatenate([[health.last_s], times])
        steps = np.diff(joined)
        cause, sensor.cause = sensor.cause, None  # it explains the gap before these samples only
        for i in np.flatnonzero(steps > GAP_PERIODS * period):
            lost = max(0, round(steps[i] / period) - 1)
            joins = i == 0 and health.last_s is not None and cause is not None
            gap = (float(joined[i]), float(joined[i + 1]))
            _add_gap(health, gap, cause if joins else {"cause": "unknown"}, lost)
        health.samples += len(times)
        health.late += int(np.count_nonzero(read_end_s - times > self.late_after_s))
        health.first_s = float(times[0]) if health.first_s is None else health.first_s
        health.last_s = float(times[-1])

    def _count_losses_at_end(self) -> None:
        """Each loss no later sample bounds, as a gap from the sensor's last sample to the slot
        of the first sample after the end (the end of ``duration_s``, else the last reads).

        Only a known loss (a FIFO flushed, a sensor unavailable: a cause still waiting for the
        samples after it) counts: it would otherwise vanish from the counts.
        """
        if self._ended or self._read_s is None:
            return
        self._ended = True
        end_s = self._read_s if self.duration_s is None else min(self._read_s, self.duration_s)
        for sensor in self.sensors:
            health, cause = sensor.health, sensor.cause
            if cause is None or health.last_s is None or sensor.timer is None:
                continue
            period = sensor.timer.period_s
            lost = math.ceil((end_s - health.last_s) / period - 1e-9) - 1  # slots before end_s
            if lost > 0:
                sensor.cause = None
                gap = (health.last_s, health.last_s + (lost + 1) * period)
                _add_gap(health, gap, {**cause, "at_end": True}, lost)

    def elapsed_s(self) -> float:
        """Seconds since acquisition started (the clock of the sample times)."""
        return self.clock.now() - self.start_s

    def health(self) -> dict[str, dict]:
        """Per-sensor health (see :class:`SensorHealth`), JSON-ready."""
        report = {}
        for sensor in self.sensors:
            stats = [device.stats for device in sensor.devices]
            sensor.health.i2c_errors = sum(s.errors for s in stats)
            sensor.health.i2c_retries = sum(s.retries for s in stats)
            sensor.health.i2c_failures = sum(s.failures for s in stats)
            report[sensor.config.name] = sensor.health.as_dict()
        return report

    def close(self) -> None:
        """Stop iterating and release the buses; again does nothing."""
        if self._released:
            return
        self._count_losses_at_end()
        self._closed = self._released = True
        for bus in self.buses.values():
            bus.close()


def _add_gap(health: SensorHealth, gap: tuple[float, float], cause: dict, lost: int) -> None:
    """Count ``lost`` samples in ``gap`` with their cause."""
    health.gaps.append(gap)
    health.gap_causes.append({**cause, "lost": lost})
    health.dropped += lost
    if cause["cause"] in ("late read", "overflow"):
        health.overflow_dropped += lost


def gap_text(gap: list[float], cause: dict) -> str:
    """One gap in words: how long, how many samples and why."""
    at = " (to the end)" if cause.get("at_end") else ""
    text = f"lost {gap[1] - gap[0]:.2f} s ({cause['lost']} samples) at {gap[0]:.2f} s{at}: "
    if cause["cause"] == "late read" and "previous_read_after_s" in cause:
        return text + (
            f"the logger's previous read ended {cause['previous_read_after_s']:.2f} s after the "
            f"one before it (the FIFO holds {cause['fifo_s']:.2f} s)"
        )
    if cause["cause"] == "late read":
        return text + (
            f"the logger read {cause['read_after_s']:.2f} s after the previous read "
            f"(the FIFO holds {cause['fifo_s']:.2f} s)"
        )
    if cause["cause"] == "overflow":
        return text + (
            f"the FIFO overflowed although read {cause['read_after_s']:.2f} s after the previous "
            f"read (it holds {cause['fifo_s']:.2f} s)"
        )
    if cause["cause"] == "unavailable":
        return text + f"unavailable ({cause['error']})"
    return text + cause["cause"]


def health_lines(health: dict[str, dict]) -> list[str]:
    """One line per sensor for the console (rate, losses, late samples, bus errors, state), then
    one line per gap (the first ``GAP_LINES``) with its cause."""
    lines = []
    for name, h in health.items():
        state = "ok" if h["available"] else f"UNAVAILABLE ({h['last_error']})"
        lines.append(
            f"{name}: {h['samples']} samples at {h['rate_hz']:.1f} Hz (chip {h['odr_hz']:g} Hz), "
            f"{h['dropped']} dropped in {len(h['gaps'])} gaps ({h.get('overflows', 0)} FIFO "
            f"overflows), {h['late']} late, "
            f"{h['i2c_errors']} I2C errors ({h['i2c_retries']} retried), "
            f"{_saturated(h)} at full scale, {state}"
        )
        pairs = list(zip(h["gaps"], h.get("gap_causes", []), strict=False))
        for gap, cause in pairs[:GAP_LINES]:
            lines.append(f"{name} gap: {gap_text(gap, cause)}")
        if len(pairs) > GAP_LINES:
            lines.append(f"{name}: {len(pairs) - GAP_LINES} more gaps (session.json lists all)")
    return lines


def _saturated(health: dict) -> str:
    counts = health.get("saturated") or {"acc": 0, "gyr": 0}
    return f"{counts['acc']} accelerometer / {counts['gyr']} gyroscope samples"
