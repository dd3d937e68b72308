"""Shared fixtures: a real Mosquitto broker per test, the default rig's text, MQTT subscribers."""

from __future__ import annotations

import pytest

from hiprot_testing import CONFIG, Broker, Subscriber


@pytest.fixture
def broker(tmp_path):
    """A fresh Mosquitto broker for one test, stopped afterwards."""
    b = Broker(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture
def sim_rig_text() -> str:
    """The text of the default simulated rig."""
    return (CONFIG / "sim.toml").read_text()


@pytest.fixture
def subscribe():
    """Start subscribers on a broker; all are closed after the test."""
    made: list[Subscriber] = []

    def make(broker, topic: str = "hiprot/#", persistent: bool = False) -> Subscriber:
        made.append(Subscriber(broker, topic, persistent))
        return made[-1]

    yield make
    for s in made:
        s.close()
