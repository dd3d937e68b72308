"""The run loop's contract with its sinks, and closeable sources, buses and publisher."""

from __future__ import annotations

import pytest

from hiprot.config import MqttConfig, load_rig
from hiprot.mqtt import Publisher
from hiprot.pipeline import Pipeline
from hiprot.run_loop import run_sinks
from hiprot.sinks import RunSummary, SummarySink
from hiprot.sources import open_source


class Tape:
    """A sink that notes every call; ``fail_on`` makes that method raise."""

    def __init__(self, name: str, calls: list, fail_on: str | None = None):
        self.name, self.calls, self.fail_on = name, calls, fail_on

    def _note(self, what: str) -> None:
        self.calls.append((self.name, what))
        if what == self.fail_on:
            raise RuntimeError(f"{self.name} failed in {what}")

    def receive(self, chunk, angles) -> None:
        self._note("receive" if chunk else "receive-final")

    def idle(self) -> None:
        self._note("idle")

    def close(self) -> None:
        self._note("close")


def _run(sinks, duration_s=1.0, summary=None):
    rig = load_rig()
    summary = summary or RunSummary(None)
    with open_source(rig, duration_s=3.0, realtime=False) as source:
        run_sinks(
            source, Pipeline(rig), sinks, summary, lambda: None, duration_s, rig.sample_rate_hz
        )
    return summary


def test_every_sink_gets_every_chunk_then_the_final_angles_then_close_in_order():
    calls: list = []
    summary = RunSummary(None)
    _run([SummarySink(summary), Tape("a", calls), Tape("b", calls)])
    for name in "ab":
        mine = [what for who, what in calls if who == name]
        assert mine[-2:] == ["receive-final", "close"]
        assert set(mine[:-2]) <= {"receive", "idle"} and "receive" in mine
    assert calls[-2:] == [("a", "close"), ("b", "close")]


def test_a_failing_sink_still_lets_every_sink_close():
    calls: list = []
    with pytest.raises(RuntimeError, match="a failed in receive"):
        _run([Tape("a", calls, fail_on="receive"), Tape("b", calls)])
    assert ("a", "close") in calls and ("b", "close") in calls


def test_the_summary_sink_counts_samples_and_duration():
    summary = RunSummary(None)
    _run([SummarySink(summary)], duration_s=1.0, summary=summary)
    assert summary.samples == {"right_thigh": 200, "right_shank": 200}
    assert summary.duration_s == pytest.approx(1.0, abs=0.01)
    assert summary.stop_reason == "duration"


def test_sources_buses_and_the_publisher_close_twice_without_harm():
    rig = load_rig()
    with open_source(rig, duration_s=1.0, realtime=False) as source:
        next(iter(source))
        buses = list(source.acquisition.buses.values())
    source.close()
    for bus in buses:
        with bus:
            pass
        bus.close()
    with Publisher(MqttConfig(), "closing") as publisher:
        pass
    publisher.close()
