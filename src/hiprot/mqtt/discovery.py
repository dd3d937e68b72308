"""Home Assistant MQTT discovery: retained configs that make one HA device with sensors.

Each entity reads one of our topics (``angles``, ``stride``, ``health``,
``status``) with a value template; all share the device block and take their
availability from the retained ``status`` topic, so they turn unavailable
when the logger goes offline. See https://www.home-assistant.io/integrations/mqtt/.
"""

from __future__ import annotations

import json

from hiprot import __version__
from hiprot.columns import CADENCE, DEG, HIP_IR_MAX, HIP_IR_ROM, STRIDE_TIME, hip_ir

DISCOVERY_PREFIX = "homeassistant"


def _keep_last(key: str) -> str:
    """A template that reads ``key`` and keeps the last state when a message lacks it."""
    return f"{{{{ value_json.{key} if value_json.{key} is defined else this.state }}}}"


def discovery_messages(
    device_id: str, base: str, sides: tuple[str, ...]
) -> list[tuple[str, bytes]]:
    """(topic, retained payload) pairs announcing the device's entities."""
    device = {
        "identifiers": [f"hiprot_{device_id}"],
        "name": f"hiprot {device_id}",
        "manufacturer": "hiprot",
        "model": "hip rotation logger",
        "sw_version": __version__,
    }
    availability = {
        "availability_topic": f"{base}/status",
        "payload_available": "online",
        "payload_not_available": "offline",
    }
    sensors = [
        (
            hip_ir(side).removesuffix(DEG),
            f"{side.capitalize()} hip internal rotation",
            "angles",
            hip_ir(side),
            "°",
            {"icon": "mdi:rotate-right"},
        )
        for side in sides
    ]
    sensors += [
        (
            "cadence",
            "Cadence",
            "stride",
            CADENCE,
            "steps/min",
            {"icon": "mdi:walk"},
        ),
        (
            "stride_time",
            "Last stride time",
            "stride",
            STRIDE_TIME,
            "s",
            {"device_class": "duration"},
        ),
        ("stride_hip_ir_max", "Last stride hip IR max", "stride", HIP_IR_MAX, "°", {}),
        ("stride_hip_ir_rom", "Last stride hip IR range", "stride", HIP_IR_ROM, "°", {}),
        (
            "queue_depth",
            "MQTT queue depth",
            "health",
            "mqtt.queue_depth",
            None,
            {"entity_category": "diagnostic"},
        ),
    ]
    out = []
    for object_id, name, topic, key, unit, extra in sensors:
        config = {
            "name": name,
            "unique_id": f"hiprot_{device_id}_{object_id}",
            "object_id": f"hiprot_{device_id}_{object_id}",
            "state_topic": f"{base}/{topic}",
            "value_template": _keep_last(key),
            "device": device,
            **availability,
            **extra,
        }
        if unit is not None:
            config.update(unit_of_measurement=unit, state_class="measurement")
        out.append((f"{DISCOVERY_PREFIX}/sensor/{device_id}/{object_id}/config", config))
    out.append(
        (
            f"{DISCOVERY_PREFIX}/binary_sensor/{device_id}/status/config",
            {
                "name": "Logger",
                "unique_id": f"hiprot_{device_id}_status",
                "object_id": f"hiprot_{device_id}_status",
                "state_topic": f"{base}/status",
                "payload_on": "online",
                "payload_off": "offline",
                "device_class": "connectivity",
                "device": device,
            },
        )
    )
    return [(topic, json.dumps(config).encode()) for topic, config in out]
