"""Shared fixtures: a private home for every test, a real Mosquitto broker per test, the default
rig's text, MQTT subscribers; the tests that start a recorder kept on one xdist worker."""

from __future__ import annotations

import functools
import re
from pathlib import Path

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


# A recorder claims its device_id machine-wide (hiprot.state.DeviceLock: an abstract socket, for
# the I2C bus and the MQTT topics are the machine's), so two tests recording the same rig at once
# would refuse each other. The suite runs on two xdist workers (pyproject: -n 2), and every test
# of a module that starts a recorder of a shared rig — it names the record, demo or replay
# command, the device lock, the faults' start_record fixture or the wearer's helpers — is one
# scope that a single worker runs from start to end, while the others go to whichever worker is
# free (the soak script's recorder has a device_id of its own, "hiprot-soak").
STARTS_A_RECORDER = re.compile(r'"record"|"demo"|"replay"|DeviceLock|start_record|wearer')


@functools.cache
def _starts_a_recorder(module: Path) -> bool:
    return bool(STARTS_A_RECORDER.search(module.read_text()))


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    root = config.rootpath

    class RecorderScope(LoadScopeScheduling):
        """The recorders' tests one scope, every other test its own."""

        def _split_scope(self, nodeid: str) -> str:
            module = root / nodeid.split("::", 1)[0]
            return "recorder" if _starts_a_recorder(module) else nodeid

    return RecorderScope(config, log)


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
    """Every test gets its own home and XDG config, data and state folders (hiprot's device lock
    and MQTT outboxes left by one test are never found by the next); subprocesses inherit them
    through the environment, and a test may still set ``XDG_STATE_HOME`` for a process it
    starts."""
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
