"""A paho client set up from the rig's ``[mqtt]`` table: TLS, user name and password.

Shared by the publisher and by ``hiprot monitor`` so both connect the same way,
and so a refusal (wrong password, failed TLS) reads the same everywhere. The
password is handed to paho and nowhere else: it never appears in a message.
"""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt

from hiprot.config import PASSWORD_ENV, MqttConfig
from hiprot.errors import HiprotError

KEEPALIVE_S = 10
CONNECT_TIMEOUT_S = 5.0


class BrokerError(HiprotError):
    """The broker refused us (wrong password, failed TLS): the configuration needs fixing."""


def new_client(
    config: MqttConfig, client_id: str, password: str | None, will_topic: str | None = None
) -> mqtt.Client:
    """A paho client (callback API 2, MQTT 3.1.1, clean session) with TLS and credentials set."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect_timeout = CONNECT_TIMEOUT_S
    if config.username:
        client.username_pw_set(config.username, password)
    if config.tls:
        client.tls_set(
            ca_certs=str(config.ca_file) if config.ca_file else None, cert_reqs=ssl.CERT_REQUIRED
        )
    if will_topic is not None:
        client.will_set(will_topic, "offline", qos=1, retain=True)
    return client


def refusal_message(config: MqttConfig, host: str, port: int, reason: object) -> str:
    """One line saying why the broker refused the connection and what to check."""
    text = f"MQTT broker {host}:{port} refused the connection: {reason}"
    lowered = str(reason).lower()
    if "password" in lowered or "authori" in lowered:
        who = f"user {config.username!r}" if config.username else "no user name set"
        text += f" ({who}; check [mqtt] username and password_file or ${PASSWORD_ENV})"
    return text


def tls_failure_message(config: MqttConfig, host: str, port: int, exc: ssl.SSLError) -> str:
    """One line for a failed TLS handshake (bad certificate, plain-text port...)."""
    verify = getattr(exc, "verify_message", None)
    reason = f"certificate verify failed: {verify}" if verify else (exc.reason or str(exc))
    hint = f"check [mqtt] ca_file ({config.ca_file})" if config.ca_file else "check [mqtt] ca_file"
    return f"MQTT broker {host}:{port}: TLS failed: {reason} ({hint})"
