"""Security through the real CLI: secrets never printed or recorded, TLS verified, the dashboard
on localhost unless told otherwise.

The password file's permissions are tests/test_config.py; a wrong password and an
unknown certificate authority are tests/mqtt/test_publisher.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from hiprot_testing import ConfiguredBroker

from hiprot.config import PASSWORD_ENV, MqttConfig
from hiprot.mqtt import Publisher
from hiprot.mqtt.connection import BrokerError

from .conftest import PASSWORD, USER


def _tls_rig(
    tmp_path: Path, sim_rig_text: str, port: int, ca_file: Path, password_file: bool
) -> Path:
    secret = f'\npassword_file = "{tmp_path / "mqtt-password"}"' if password_file else ""
    rig = tmp_path / "rig.toml"
    rig.write_text(
        sim_rig_text.replace('host = "localhost"', 'host = "127.0.0.1"').replace(
            "port = 1883",
            f'port = {port}\ntls = true\nca_file = "{ca_file}"\nusername = "{USER}"{secret}',
        )
    )
    return rig


def _files_holding(directory: Path, secret: bytes) -> list[str]:
    return [str(p) for p in directory.rglob("*") if p.is_file() and secret in p.read_bytes()]


@pytest.mark.parametrize("source", ["password_file", PASSWORD_ENV])
def test_the_password_is_never_printed_or_recorded(
    source, tls_broker, tls_files, tmp_path, sim_rig_text
):
    (tmp_path / "mqtt-password").write_text(PASSWORD + "\n")
    (tmp_path / "mqtt-password").chmod(0o600)
    rig = _tls_rig(
        tmp_path,
        sim_rig_text,
        tls_broker.port,
        tls_files["ca.crt"],
        password_file=source == "password_file",
    )
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    if source == PASSWORD_ENV:
        env[PASSWORD_ENV] = PASSWORD
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hiprot",
            "record",
            "--rig",
            str(rig),
            "--duration",
            "1",
            "--out",
            str(tmp_path / "sessions"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == "", "connected with TLS and the password"
    assert PASSWORD not in result.stdout
    # the state directory is checked too: the device lock (its note) and the outbox directory
    # (the session's outbox is deleted once drained)
    assert list((tmp_path / "state").rglob("lock")) and list((tmp_path / "state").rglob("outbox"))
    for directory in (tmp_path / "sessions", tmp_path / "state"):
        assert _files_holding(directory, PASSWORD.encode()) == []
    (session,) = (tmp_path / "sessions").iterdir()
    assert USER in (session / "rig.toml").read_text(), "the rig is recorded, its secret is not"


def test_tls_checks_the_broker_s_host_name(tmp_path, tls_files):
    """The right CA is not enough: the certificate (localhost, 127.0.0.1) must name the host."""
    broker = ConfiguredBroker(
        tmp_path,
        lambda port: [
            f"listener {port} 127.0.0.2",
            "allow_anonymous true",
            f"cafile {tls_files['ca.crt']}",
            f"certfile {tls_files['server.crt']}",
            f"keyfile {tls_files['server.key']}",
        ],
    )
    broker.host = "127.0.0.2"
    broker.start()
    try:
        config = MqttConfig(
            host="127.0.0.2", port=broker.port, tls=True, ca_file=tls_files["ca.crt"]
        )
        with pytest.raises(
            BrokerError, match="TLS failed: certificate verify failed: IP address mismatch"
        ):
            Publisher(config, "dev", outbox_dir=tmp_path / "outbox").start()
    finally:
        broker.stop()


def _listening_address(port: int) -> str:
    """The local IPv4 address a socket listens on at ``port``, from /proc/net/tcp."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, _, state = line.split()[1:4]
        address, hex_port = local.split(":")
        if int(hex_port, 16) == port and state == "0A":  # TCP_LISTEN
            return ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
    raise AssertionError(f"nothing listens on port {port}")


def test_dashboard_listens_on_localhost_unless_told_otherwise():
    processes = {
        address: subprocess.Popen(
            [sys.executable, "-m", "hiprot", "dashboard", "--port", "0", *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for options, address in (([], "127.0.0.1"), (["--host", "0.0.0.0"], "0.0.0.0"))
    }
    try:
        for address, process in processes.items():
            line = process.stdout.readline()
            url = next(w for w in line.split() if w.startswith("http://"))
            port = int(url.rstrip("/").rsplit(":", 1)[1])
            assert _listening_address(port) == address
            assert (
                b"<html" in urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
            )
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(10)
