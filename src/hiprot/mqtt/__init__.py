"""Live publishing of angles and metrics over MQTT."""

from hiprot.mqtt.publisher import Publisher

__all__ = ["Publisher"]
