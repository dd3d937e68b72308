"""No test writes into the real home: tests/conftest.py gives every test, and the processes it
starts, a HOME and XDG folders of its own under tmp."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hiprot_testing import STARTING_ENVIRONMENT, free_port

from hiprot.mqtt.outbox import default_outbox_path

FOLDERS = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")


def real_outbox(device_id: str) -> Path:
    """Where ``hiprot record`` would keep the outbox of ``device_id`` in the real home."""
    env = STARTING_ENVIRONMENT
    state = env.get("XDG_STATE_HOME") or Path(env.get("HOME", "~")).expanduser() / ".local/state"
    return Path(state) / "hiprot" / f"mqtt-outbox-{device_id}.sqlite3"


HOMES_SEEN: list[Path] = []


@pytest.mark.parametrize("run", [1, 2])
def test_home_and_xdg_folders_lie_under_tmp_and_are_the_test_s_own(run, tmp_path_factory):
    base = tmp_path_factory.getbasetemp().resolve()
    for name in FOLDERS:
        folder = Path(os.environ[name])
        assert folder.is_relative_to(base), (name, folder)
        assert folder.is_dir(), name
        if name in STARTING_ENVIRONMENT:
            assert folder != Path(STARTING_ENVIRONMENT[name]).resolve(), name
    home = Path(os.environ["HOME"])
    assert Path.home() == home
    assert home not in HOMES_SEEN, "two tests shared a home"
    HOMES_SEEN.append(home)
    assert default_outbox_path("x").is_relative_to(home)
    probe = "from hiprot.mqtt.outbox import default_outbox_path as d; print(d('x'))"
    child = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert Path(child.stdout.strip()).is_relative_to(home)


def test_a_record_run_keeps_its_outbox_in_the_private_state_folder(
    tmp_path, tmp_path_factory, sim_rig_text
):
    device_id = f"home-check-{os.getpid()}-{time.monotonic_ns()}"
    rig = tmp_path / "rig.toml"
    rig.write_text(sim_rig_text.replace('device_id = "hiprot-sim"', f'device_id = "{device_id}"'))
    assert device_id in rig.read_text()
    broker = f"127.0.0.1:{free_port()}"  # nobody listens: the metrics wait in the on-disk outbox
    result = subprocess.run(
        [sys.executable, "-m", "hiprot", "record", "--rig", str(rig), "--broker", broker]
        + ["--out", str(tmp_path / "sessions"), "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outbox = default_outbox_path(device_id)
    assert outbox.is_file()
    assert outbox.is_relative_to(tmp_path_factory.getbasetemp().resolve())
    assert not real_outbox(device_id).exists()
