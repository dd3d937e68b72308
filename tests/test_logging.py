"""Library code logs through ``logging``; only the command line prints, with the same lines as
before (``warning: ...`` on stderr)."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from hiprot_testing import free_port

import hiprot
from hiprot.cli.common import install_log_handler
from hiprot.config import MqttConfig
from hiprot.mqtt import Publisher

SRC = Path(hiprot.__file__).parent


def test_library_code_neither_prints_nor_echoes():
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path.relative_to(SRC).parts[0] == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: print")
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            else:
                modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(m.split(".")[0] == "click" for m in modules):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: imports click")
    assert found == []


def test_an_unreachable_broker_is_one_logged_warning(caplog, tmp_path):
    port = free_port()  # nothing listens there
    publisher = Publisher(MqttConfig(), "dev", "127.0.0.1", port, outbox_dir=tmp_path / "outbox")
    with caplog.at_level(logging.WARNING, logger="hiprot"):
        try:
            assert not publisher.start()
        finally:
            publisher.stop(flush_timeout=0)
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            "hiprot.mqtt.publisher",
            logging.WARNING,
            f"MQTT broker 127.0.0.1:{port} not reachable; recording continues, "
            "publishing resumes when it appears",
        )
    ]


@pytest.fixture
def cli_logging():
    """The command line's log handler, removed again after the test."""
    logger = logging.getLogger("hiprot")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:], logger.level = handlers, level


def test_the_command_line_prints_library_warnings_as_warning_lines(cli_logging, capsys):
    install_log_handler()
    install_log_handler()  # every command installs it; still one line per record
    logging.getLogger("hiprot.recording.writer").warning("disk space low: %d MB left", 3)
    logging.getLogger("hiprot.mqtt.publisher").info("connected")  # below warnings: not printed
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "warning: disk space low: 3 MB left\n")
