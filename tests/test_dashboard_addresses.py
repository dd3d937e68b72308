"""``hiprot dashboard`` tells the addresses a phone can open (never http://0.0.0.0), each of which
serves the page, and prints a QR code of one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import urllib.request

import pytest
import qrcode

# print_ascii's characters for a top and a bottom module (True: dark) on a dark terminal
BLOCKS = {"█": (False, False), "▄": (True, False), "▀": (False, True), "\xa0": (True, True)}


def ipv4_addresses() -> set[str]:
    """The machine's IPv4 addresses but loopback and link-local, from iproute2 (not our code)."""
    ip = shutil.which("ip") or pytest.fail("iproute2's ip is not installed (.ci/run installs it)")
    out = subprocess.run([ip, "-4", "-o", "addr", "show"], capture_output=True, text=True).stdout
    found = {line.split()[3].split("/")[0] for line in out.splitlines()}
    return {a for a in found if not a.startswith(("127.", "169.254."))}


def printed_matrix(lines: list[str]) -> list[list[bool]]:
    """The modules of a QR code printed with half blocks (two rows a line)."""
    rows: list[list[bool]] = []
    for line in lines:
        rows.append([BLOCKS[c][0] for c in line])
        rows.append([BLOCKS[c][1] for c in line])
    return rows


def dashboard(*options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hiprot", "dashboard", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_on_every_interface_it_names_the_mdns_name_and_each_address_with_a_qr_code():
    process = dashboard("--host", "0.0.0.0", "--qr")
    try:
        first = process.stdout.readline()
        assert first.startswith("dashboard for "), (
            process.stderr.read() if process.poll() else first
        )
        lines = [first]
        while not lines[-1].startswith("QR code of"):
            lines.append(process.stdout.readline())
            assert lines[-1], "".join(lines)
        url = lines[-1].split()[-1].rstrip(":")
        code = qrcode.QRCode(border=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
        code.add_data(url)
        expected = code.get_matrix()
        qr_lines = [process.stdout.readline().rstrip("\n") for _ in range((len(expected) + 1) // 2)]
        text = "".join(lines)
        assert "0.0.0.0" not in text
        port = int(first.split("http://")[1].split("/")[0].rsplit(":", 1)[1])
        assert f"http://{socket.gethostname()}.local:{port}/" in first
        urls = [w for w in "".join(lines[:-1]).split() if w.startswith("http://")]
        addresses = {u.split("//")[1].rsplit(":", 1)[0] for u in urls[1:]}
        assert addresses == ipv4_addresses()
        assert url == (urls[1] if len(urls) > 1 else urls[0]), "an address: no mDNS needed"
        assert printed_matrix(qr_lines)[: len(expected)] == expected
        for link in urls[1:]:
            assert b"<html" in urllib.request.urlopen(link, timeout=10).read(), link
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/", headers={"Host": f"{socket.gethostname()}.local:{port}"}
        )
        assert b"<html" in urllib.request.urlopen(request, timeout=10).read(), "its .local name"
    finally:
        process.terminate()
        process.wait(10)


def test_on_localhost_it_says_a_phone_cannot_open_it_and_prints_no_qr_code():
    process = dashboard("--qr")
    try:
        first, second = process.stdout.readline(), process.stdout.readline()
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert "http://127.0.0.1:" in first
    assert second.startswith("only this machine can open it; --host 0.0.0.0")
    assert "QR code" not in out


def test_show_addresses_prints_the_service_s_addresses_and_exits():
    result = subprocess.run(
        [sys.executable, "-m", "hiprot", "dashboard", "--show-addresses", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"open http://{socket.gethostname()}.local:8080/"
    assert {line.split("//")[1].rsplit(":", 1)[0] for line in lines[1:]} == ipv4_addresses()
    assert "QR code" not in result.stdout, "a pipe gets no QR code unless asked"
