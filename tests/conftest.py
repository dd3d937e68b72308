"""Shared fixtures: a real Mosquitto broker per test, the default rig's text, MQTT subscribers."""

from __future__ import annotations

import pytest
from hiprot_testing import CONFIG, Broker, ConfiguredBroker, Subscriber


@pytest.fixture(autouse=True)
def private_state_home(tmp_path_factory, monkeypatch):
    """hiprot's state (device lock, MQTT outboxes) goes to a directory of the test's own,
    never the home directory; a test may still set ``XDG_STATE_HOME`` for a process it starts."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def broker(tmp_path):
    """A fresh Mosquitto broker for one test, stopped afterwards."""
    b = Broker(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture
def persistent_broker(tmp_path):
    """A broker that keeps sessions and queued messages across a restart (like config/mosquitto.conf)."""
    store = tmp_path / "store"
    store.mkdir()
    b = ConfiguredBroker(
        tmp_path,
        lambda port: [
            f"listener {port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {store}/",
            "autosave_interval 1",
        ],
    ).start()
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
