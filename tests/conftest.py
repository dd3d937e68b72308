"""Shared fixtures: a private home for every test, a real Mosquitto broker per test, the default
rig's text, MQTT subscribers."""

from __future__ import annotations

import pytest
from hiprot_testing import CONFIG, Broker, ConfiguredBroker, Subscriber

PRIVATE_DIRS = {  # variable → folder under the private home
    "HOME": ".",
    "XDG_CONFIG_HOME": ".config",
    "XDG_DATA_HOME": ".local/share",
    "XDG_STATE_HOME": ".local/state",
}
CACHE = "XDG_CACHE_HOME"


def _point_home_at(root, patch: pytest.MonkeyPatch) -> None:
    for name, folder in PRIVATE_DIRS.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        patch.setenv(name, str((root / folder).resolve()))


@pytest.fixture(scope="session", autouse=True)
def session_home(tmp_path_factory):
    """A home and XDG folders under tmp for the whole run, before any fixture of a wider scope
    than one test starts a process: nothing a test or its subprocesses write lands in the real
    home. The cache folder (font caches and the like, rebuilt slowly) is this one for every test."""
    root = tmp_path_factory.mktemp("session-home")
    with pytest.MonkeyPatch.context() as patch:
        _point_home_at(root, patch)
        (root / ".cache").mkdir()
        patch.setenv(CACHE, str((root / ".cache").resolve()))
        yield root


@pytest.fixture(autouse=True)
def private_home(session_home, tmp_path_factory, monkeypatch):
    """Every test gets its own home and XDG config, data and state folders (an MQTT outbox left
    by one test is never found by the next); subprocesses inherit them through the environment."""
    root = tmp_path_factory.mktemp("home")
    _point_home_at(root, monkeypatch)
    return root


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
