"""The addresses a phone can open the dashboard at, and a QR code of one for the terminal.

A server bound to every interface (``0.0.0.0``, ``::``) is reached by this machine's mDNS name
(``<host name>.local``, published by avahi on Raspberry Pi OS) and by each of its IPv4
addresses that is neither loopback nor link-local; ``http://0.0.0.0`` is never printed (no
phone can open it). A server bound to one address is reached there only.

The QR code is made with the ``qrcode`` package (pure Python, no other dependency for text
output, widely used and maintained) and printed with half-block characters, two module rows a
line, with a one-module quiet zone (ISO/IEC 18004 asks for four: the terminal's background
around it serves as the rest).
"""

from __future__ import annotations

import fcntl
import io
import ipaddress
import socket
import struct

import qrcode

SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address (netdevice(7))
ANY = ("0.0.0.0", "::", "")


def interface_addresses() -> list[str]:
    """This machine's IPv4 addresses a phone on its network could reach, in interface order."""
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                reply = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)
            except OSError:  # no IPv4 address on it (or down)
                continue
            address = ipaddress.ip_address(socket.inet_ntoa(reply[20:24]))
            if not (address.is_loopback or address.is_link_local) and str(address) not in found:
                found.append(str(address))
    return found


def url(host: str, port: int) -> str:
    literal = f"[{host}]" if ":" in host else host
    return f"http://{literal}:{port}/"


def phone_urls(bind_host: str, port: int) -> list[str]:
    """URLs of a dashboard served on ``bind_host:port`` that a phone can open, the name first;
    empty when it listens on loopback only."""
    if bind_host in ANY:
        names = [f"{socket.gethostname()}.local"] + interface_addresses()
        return [url(host, port) for host in names]
    try:
        loopback = ipaddress.ip_address(bind_host).is_loopback
    except ValueError:  # a host name
        loopback = bind_host.lower().rstrip(".") == "localhost"
    return [] if loopback else [url(bind_host, port)]


def qr_text(text: str, terminal: bool) -> str:
    """``text`` as a QR code in block characters; ``terminal``: for a terminal (ANSI colours
    force dark modules on a light ground whatever its theme), else plain characters for a
    dark background (a pipe, a journal)."""
    code = qrcode.QRCode(border=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    out = _Terminal() if terminal else io.StringIO()
    code.print_ascii(out=out, tty=terminal, invert=not terminal)
    return out.getvalue()


class _Terminal(io.StringIO):
    """A text buffer that says it is a terminal: ``print_ascii(tty=True)`` writes into it."""

    def isatty(self) -> bool:
        return True
