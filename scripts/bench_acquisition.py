"""Benchmark: CPU time per sample in the driver and acquisition layers against the I2C bus time.

An emulated rig of ICM-42688-P chips behind a TCA9548A runs for a while on a
virtual clock. The time spent inside the emulated chips and bus is measured
and left out (it does not exist on hardware); what remains is split into the
driver layer (FIFO reads and parsing) and the acquisition layer (scheduling,
timestamps, accounting, chunks). The I2C time is what the bytes on the wire
(addresses, registers, multiplexer selects and data) take at 400 kHz: 9 clock
cycles per byte, the physical limit of the bus. Times are thread CPU time,
measured in this one run, so the ratios hold on a loaded machine.

Run: ``.venv/bin/python scripts/bench_acquisition.py [--seconds 60]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hiprot.config import parse_rig
from hiprot.sensors.acquisition import Acquisition
from hiprot.sensors.clock import VirtualClock
from hiprot.sensors.emulated import emulated_buses
from hiprot.sim import simulate

BITRATE_HZ = 400_000
SEGMENTS = [
    ("pelvis", None),
    ("thigh", "right"),
    ("shank", "right"),
    ("thigh", "left"),
    ("shank", "left"),
]


class Stopwatch:
    """Accumulates thread CPU time spent inside wrapped calls (outermost call only)."""

    def __init__(self):
        self.total_ns = 0
        self._depth = 0

    def wrap(self, function):
        def timed(*args, **kwargs):
            self._depth += 1
            start = time.thread_time_ns()
            try:
                return function(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self.total_ns += time.thread_time_ns() - start

        return timed


def rig_data(sensors: int, rate_hz: float, chip: str) -> dict:
    rows = []
    for channel, (segment, side) in enumerate(SEGMENTS[:sensors]):
        row = {
            "name": f"{side}_{segment}" if side else segment,
            "segment": segment,
            "chip": chip,
            "address": 0x68,
            "mux_channel": channel,
        }
        if side:
            row["side"] = side
        rows.append(row)
    return {
        "device_id": "bench",
        "sample_rate_hz": rate_hz,
        "sensors": rows,
        "simulation": {"duration_s": 5.0},
    }


def measure(sensors: int, rate_hz: float, seconds: float, chip: str) -> dict:
    rig = parse_rig(rig_data(sensors, rate_hz, chip), Path("bench.toml"))
    clock = VirtualClock()
    motion = simulate(rig, 5.0).samples
    buses = emulated_buses(rig, clock, {s.name: motion.get(s.name) for s in rig.sensors})
    bus = buses[1]
    emulation, drivers = Stopwatch(), Stopwatch()
    for name in ("_read_register", "_write_register", "_receive_byte", "_send_byte"):
        setattr(bus, name, emulation.wrap(getattr(bus, name)))
    acquisition = Acquisition(rig, buses, clock, seconds)
    for sensor in acquisition.sensors:
        sensor.imu.read_fifo = drivers.wrap(sensor.imu.read_fifo)
    acquisition.open()
    bytes_before = bus.stats.wire_bytes
    emulation.total_ns = drivers.total_ns = 0
    start = time.thread_time_ns()
    samples = 0
    for chunk in acquisition:
        samples += sum(len(s) for s in chunk.values())
    total_ns = time.thread_time_ns() - start
    wire_bytes = bus.stats.wire_bytes - bytes_before
    driver_ns = drivers.total_ns - emulation.total_ns
    acquisition_ns = total_ns - drivers.total_ns
    bus_s = wire_bytes * 9 / BITRATE_HZ
    return {
        "samples": samples,
        "driver_us": driver_ns / samples / 1e3,
        "acquisition_us": acquisition_ns / samples / 1e3,
        "bus_us": bus_s / samples * 1e6,
        "bytes": wire_bytes / samples,
        "bus_load": bus_s / seconds,
        "odr_hz": acquisition.sensors[0].imu.configuration.odr_hz,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="virtual seconds per scenario")
    parser.add_argument("--chip", default="icm42688", help="chip of every sensor (rig chip name)")
    args = parser.parse_args()
    print(f"emulated {args.chip} rigs behind a TCA9548A, {args.seconds:g} s each; per sample:")
    print(
        f"{'rig (chip ODR)':<28}{'driver CPU':>12}{'acq. CPU':>10}{'CPU total':>11}"
        f"{'I2C @400k':>11}{'CPU/I2C':>9}{'bytes':>7}{'bus busy':>10}"
    )
    for sensors, rate in ((3, 400.0), (5, 200.0), (3, 200.0)):
        r = measure(sensors, rate, args.seconds, args.chip)
        cpu = r["driver_us"] + r["acquisition_us"]
        label = f"{sensors} sensors at {rate:g} Hz ({r['odr_hz']:g})"
        print(
            f"{label:<28}{r['driver_us']:>9.1f} us{r['acquisition_us']:>7.1f} us"
            f"{cpu:>8.1f} us{r['bus_us']:>8.1f} us{cpu / r['bus_us']:>9.2f}{r['bytes']:>7.1f}"
            f"{100 * r['bus_load']:>9.0f}%"
        )
    print(
        "CPU: thread time in this process without the emulated chips; "
        "I2C: bytes on the wire x 9 bits "
        "/ 400 kHz. On a Pi add the smbus2/ioctl cost per transaction, which this run cannot see."
    )


if __name__ == "__main__":
    main()
