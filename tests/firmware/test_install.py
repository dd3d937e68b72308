"""firmware/install.sh in a scratch root: accounts, venv, config, unit; a second run changes nothing."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import stat
from pathlib import Path

from .conftest import ACCOUNT_FILES, NEEDS_ROOT, run_install

pytestmark = NEEDS_ROOT


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` with its type, mode, owner, link target and content hash."""
    tree = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        content = (
            hashlib.sha256(path.read_bytes()).hexdigest()
            if path.is_file() and not path.is_symlink()
            else None
        )
        link = os.readlink(path) if path.is_symlink() else None
        tree[str(path.relative_to(root))] = (
            stat.filemode(info.st_mode),
            info.st_uid,
            info.st_gid,
            link,
            content,
        )
    return tree


def account(root: Path, file: str, name: str) -> list[str]:
    for line in (root / "etc" / file).read_text().splitlines():
        if line.split(":")[0] == name:
            return line.split(":")
    raise AssertionError(f"{name} not in {file}")


def test_install_creates_accounts_venv_config_and_enabled_unit(installed_root):
    user = account(installed_root, "passwd", "hiprot")
    assert user[5:] == ["/var/lib/hiprot", "/usr/sbin/nologin"] and 0 < int(user[2]) < 1000
    assert account(installed_root, "group", "i2c")[3].split(",") == ["hiprot"]
    hiprot_group = account(installed_root, "group", "hiprot")
    assert user[3] == hiprot_group[2]
    assert os.access(installed_root / "opt/hiprot/venv/bin/hiprot", os.X_OK)
    assert (installed_root / "etc/hiprot/rig.toml").read_bytes() == (
        Path(__file__).parents[2] / "config/two-sensors.toml"
    ).read_bytes()
    password = (installed_root / "etc/hiprot/mqtt-password").stat()
    assert stat.S_IMODE(password.st_mode) == 0o600 and password.st_uid == int(user[2])
    state = (installed_root / "var/lib/hiprot").stat()
    assert state.st_uid == int(user[2]) and stat.S_IMODE(state.st_mode) == 0o750
    wants = installed_root / "etc/systemd/system/multi-user.target.wants/hiprot.service"
    assert os.readlink(wants) == "/etc/systemd/system/hiprot.service"
    assert (installed_root / "etc/modules-load.d/hiprot.conf").read_text() == "i2c-dev\n"


def test_second_run_changes_nothing(installed_root):
    before = snapshot(installed_root)
    result = run_install(installed_root)
    assert result.returncode == 0, result.stderr
    assert snapshot(installed_root) == before
    assert "up to date" in result.stdout


def test_existing_config_is_never_overwritten(installed_root):
    rig = installed_root / "etc/hiprot/rig.toml"
    password = installed_root / "etc/hiprot/mqtt-password"
    rig.write_text(rig.read_text().replace('device_id = "hiprot-pi"', 'device_id = "my-pi"'))
    password.write_text("my secret\n")
    result = run_install(installed_root)
    assert result.returncode == 0, result.stderr
    assert 'device_id = "my-pi"' in rig.read_text()
    assert password.read_text() == "my secret\n"
    assert "my secret" not in result.stdout + result.stderr


def test_user_missing_from_i2c_is_added(installed_root, tmp_path):
    """A hiprot account made before, outside group i2c. In a copy of an installed root whose
    account files are put back to a scratch root's: its venv is up to date, so the run does
    the account work alone (a fresh venv is the first test's)."""
    root = tmp_path / "root"
    shutil.copytree(installed_root, root, symlinks=True)
    for name, text in ACCOUNT_FILES.items():
        (root / "etc" / name).write_text(text)
    (root / "etc/group").write_text("root:x:0:\ni2c:x:998:\nhiprot:x:997:\n")
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\nhiprot:x:997:997::/var/lib/hiprot:/usr/sbin/nologin\n"
    )
    result = run_install(root)
    assert result.returncode == 0, result.stderr
    assert "added hiprot to group i2c" in result.stdout
    assert account(root, "group", "i2c")[3] == "hiprot"


def test_bad_root_is_one_line_and_exit_2(tmp_path):
    result = run_install(tmp_path / "missing")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no such directory" in result.stderr


def password_matches(line: str, password: str) -> bool:
    """Whether a Mosquitto password-file line (``user:$7$rounds$salt$hash``) holds ``password``."""
    _, kind, rounds, salt, digest = line.split(":", 1)[1].split("$")
    made = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(rounds), 64)
    return kind == "7" and base64.b64encode(made).decode() == digest


def test_an_earlier_install_s_empty_password_file_gets_a_password_and_a_broker_user(
    installed_root, tmp_path
):
    """Earlier versions left /etc/hiprot/mqtt-password empty and made no broker: the next run
    writes a password into it and makes the user with it; the wearer's user is left alone."""
    root = tmp_path / "root"
    shutil.copytree(installed_root, root, symlinks=True)
    secret = root / "etc/hiprot/mqtt-password"
    secret.write_text("")
    passwd = root / "etc/mosquitto/hiprot.passwd"
    wearer = [line for line in passwd.read_text().splitlines() if line.startswith("wearer:")]
    passwd.write_text("\n".join(wearer) + "\n")
    result = run_install(root)
    assert result.returncode == 0, result.stderr
    assert "wrote a new password for broker user hiprot" in result.stdout
    password = secret.read_text().strip()
    assert len(password) == 24 and password not in result.stdout + result.stderr
    lines = passwd.read_text().splitlines()
    assert lines[0] == wearer[0] and lines[1].startswith("hiprot:") and len(lines) == 2
    assert password_matches(lines[1], password)
    assert not password_matches(lines[1], password + "x"), "the check can fail"
    assert password_matches(wearer[0], (root / "etc/hiprot/wearer-password").read_text().strip())
