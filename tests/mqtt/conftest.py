"""Brokers for the MQTT tests: TLS with passwords, WebSockets (the persistent one is in tests/conftest.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hiprot_testing import ConfiguredBroker, free_port

USER, PASSWORD = "hiprot", "correct horse battery"


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> dict[str, Path]:
    """A CA, a server certificate for localhost/127.0.0.1 and a mosquitto password file."""
    d = tmp_path_factory.mktemp("tls")
    openssl = shutil.which("openssl") or pytest.fail(
        "openssl is not installed (.ci/run installs it)"
    )
    passwd = shutil.which("mosquitto_passwd") or pytest.fail(
        "mosquitto_passwd is not installed (Debian's mosquitto package; .ci/run installs it)"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args):
        subprocess.run(args, cwd=d, check=True, capture_output=True)

    run(
        openssl,
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=hiprot test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    run(
        openssl, "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"
    )
    (d / "ext.cnf").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    run(
        openssl,
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    )
    run(passwd, "-c", "-b", "passwd", USER, PASSWORD)
    return {name: d / name for name in ("ca.crt", "server.crt", "server.key", "passwd")}


@pytest.fixture
def tls_broker(tmp_path, tls_files):
    """A broker that only speaks TLS and only to USER with PASSWORD."""
    b = ConfiguredBroker(
        tmp_path,
        lambda port: [
            f"listener {port} 127.0.0.1",
            "allow_anonymous false",
            f"password_file {tls_files['passwd']}",
            f"cafile {tls_files['ca.crt']}",
            f"certfile {tls_files['server.crt']}",
            f"keyfile {tls_files['server.key']}",
            "persistence false",
        ],
    ).start()
    yield b
    b.stop()


@pytest.fixture
def ws_broker(tmp_path):
    """A broker with a TCP and a WebSocket listener, as config/mosquitto.conf has."""
    ws_port = free_port()
    b = ConfiguredBroker(
        tmp_path,
        lambda port: [
            f"listener {port} 127.0.0.1",
            f"listener {ws_port} 127.0.0.1",
            "protocol websockets",
            "allow_anonymous true",
            "persistence false",
        ],
        ws_port,
    ).start()
    yield b
    b.stop()
