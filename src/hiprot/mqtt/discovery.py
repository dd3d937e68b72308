"""Home Assistant MQTT discovery: retained configs that make one HA device with sensors.

Each entity reads one of our topics (``angles``, ``stride``, ``health``,
``status``) with a value template; all share the device block and take their
availability from the retained ``status`` topic, so they turn unavailable
when the logger goes offline. See https://www.home-assistant.io/integrations/mqtt/.

Entity ids are set with ``default_entity_id`` (the full id, ``sensor.<slug>``), which replaced
``object_id`` in Home Assistant 2025.10 (``object_id`` stops working in 2026.4). The slug is the
one HA made of the old ``object_id`` (:func:`entity_slug`), so existing users keep their ids.

Without a pelvis sensor the last stride's rotation entities are the thigh's rotation relative
to the walking direction, entities of their own (``stride_thigh_rotation_*``), never the hip IR
ones: each rig announces its pair and removes the other pair (an empty retained config, which
Home Assistant takes as a deletion), so no entity changes meaning under the same id.
"""

from __future__ import annotations

import json
import re

from hiprot import __version__
from hiprot.columns import (
    CADENCE,
    DEG,
    HIP_IR_MAX,
    HIP_IR_ROM,
    STRIDE_TIME,
    WALKING_RENAMES,
    hip_ir,
)

DISCOVERY_PREFIX = "homeassistant"


def _keep_last(key: str) -> str:
    """A template that reads ``key`` and keeps the last state when a message lacks it."""
    return f"{{{{ value_json.{key} if value_json.{key} is defined else this.state }}}}"


def entity_slug(text: str) -> str:
    """What Home Assistant's ``slugify`` makes of an ASCII name (lower case, every run of
    other characters one ``_``, none at the ends): the entity id it generated from the
    ``object_id`` hiprot published before 2025.10."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _stride_rotation(pelvis: bool) -> list[tuple]:
    """The last stride's rotation entities: hip IR with a pelvis sensor, else thigh rotation."""
    if pelvis:
        return [
            ("stride_hip_ir_max", "Last stride hip IR max", "stride", HIP_IR_MAX, "°", {}),
            ("stride_hip_ir_rom", "Last stride hip IR range", "stride", HIP_IR_ROM, "°", {}),
        ]
    return [
        (
            "stride_thigh_rotation_max",
            "Last stride thigh rotation max (to the walking direction)",
            "stride",
            WALKING_RENAMES[HIP_IR_MAX],
            "°",
            {},
        ),
        (
            "stride_thigh_rotation_rom",
            "Last stride thigh rotation range (to the walking direction)",
            "stride",
            WALKING_RENAMES[HIP_IR_ROM],
            "°",
            {},
        ),
    ]


def discovery_messages(
    device_id: str, base: str, sides: tuple[str, ...], pelvis: bool = True
) -> list[tuple[str, bytes]]:
    """(topic, retained payload) pairs announcing the device's entities (and removing the
    stride rotation entities of the other kind of rig: an empty payload)."""
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
        *_stride_rotation(pelvis),
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
            "default_entity_id": "sensor." + entity_slug(f"hiprot_{device_id}_{object_id}"),
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
                "default_entity_id": "binary_sensor." + entity_slug(f"hiprot_{device_id}_status"),
                "state_topic": f"{base}/status",
                "payload_on": "online",
                "payload_off": "offline",
                "device_class": "connectivity",
                "device": device,
            },
        )
    )
    retired = [
        (f"{DISCOVERY_PREFIX}/sensor/{device_id}/{entity[0]}/config", b"")
        for entity in _stride_rotation(not pelvis)
    ]
    return [(topic, json.dumps(config).encode()) for topic, config in out] + retired
