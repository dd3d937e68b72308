"""A scratch root with firmware/install.sh run in it once, shared by the firmware tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hiprot_testing import ROOT

INSTALL = ROOT / "firmware" / "install.sh"
# A minimal root file system: the account files useradd and groupadd edit.
ACCOUNT_FILES = {
    "passwd": "root:x:0:0:root:/root:/bin/bash\n",
    "group": "root:x:0:\n",
    "shadow": "root:*:19000:0:99999:7:::\n",
    "gshadow": "root:*::\n",
}
NEEDS_ROOT = pytest.mark.skipif(
    os.geteuid() != 0, reason="install.sh creates users and sets owners: it needs root"
)


def run_install(root: Path, *args: str) -> subprocess.CompletedProcess:
    """install.sh into ``root`` without the dependencies (numpy, scipy...) in the scratch venv."""
    env = {**os.environ, "HIPROT_PIP_ARGS": "--no-deps"}
    return subprocess.run(
        ["bash", str(INSTALL), "--root", str(root), *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def scratch_root(path: Path) -> Path:
    (path / "etc").mkdir(parents=True)
    for name, text in ACCOUNT_FILES.items():
        (path / "etc" / name).write_text(text)
    return path


@pytest.fixture(scope="session")
def installed_root(tmp_path_factory) -> Path:
    """A scratch root after one run of install.sh."""
    root = scratch_root(tmp_path_factory.mktemp("root"))
    result = run_install(root)
    assert result.returncode == 0, result.stderr
    return root
