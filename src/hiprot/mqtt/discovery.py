"""Home Assistant MQTT discovery: retained configs that make one HA device with its entities.

What a wearer tracks, at a rate Home Assistant's recorder can keep: hip IR per leg from the
1 Hz ``state`` topic (not the 20 Hz ``angles``), the last rotation test's IR and ER per leg
(and, with a pelvis sensor, whether the pelvis compensated) from the retained ``test/<side>``,
the session state, battery and free disk, the last stride, and the logger's connectivity.
Every entity takes its availability from the retained ``status`` topic, so it turns
unavailable when the logger goes offline. See https://www.home-assistant.io/integrations/mqtt/.

Identity: an entity's ``unique_id`` (and the entity id made of it) is Home Assistant's key for
its history, dashboards and automations, so it is a fixed name here (:data:`SENSOR_IDS`), never
derived from a column or measure name (those may be renamed, :mod:`hiprot.columns`): a renamed
measure changes what a template reads, not which entity it is.

Entity ids are set with ``default_entity_id`` (the full id, ``sensor.<slug>``), which replaced
``object_id`` in Home Assistant 2025.10 (``object_id`` stops working in 2026.4). The slug is the
one HA made of the old ``object_id`` (:func:`entity_slug`), so existing users keep their ids.
"""

from __future__ import annotations

import json
import re

from hiprot import __version__
from hiprot.columns import (
    CADENCE,
    COMPENSATED,
    HIP_ER_MAX,
    HIP_IR_MAX,
    HIP_IR_ROM,
    MODE,
    PROTOCOL_OK,
    STRIDE_TIME,
    TEST_REFERENCE,
    WALKING_RENAMES,
    hip_ir,
)
from hiprot.mqtt.health import BATTERY, DISK_FREE

DISCOVERY_PREFIX = "homeassistant"
STATE_TOPIC = "state"  # about 1 Hz: hip IR per leg (1 s mean), battery, free disk
SESSION_STATES = ("recording", "ended")  # the ``state`` of the retained ``session`` message

# The object id of each entity ({side} filled in): HA identities, fixed once published.
SENSOR_IDS = {
    "hip_ir": "{side}_hip_ir",
    "test_ir": "{side}_test_hip_ir_max",
    "test_er": "{side}_test_hip_er_max",
    "cadence": "cadence",
    "stride_time": "stride_time",
    "stride_ir_max": "stride_hip_ir_max",
    "stride_ir_rom": "stride_hip_ir_rom",
    "stride_thigh_max": "stride_thigh_rotation_max",
    "stride_thigh_rom": "stride_thigh_rotation_rom",
    "session": "session_state",
    "battery": "battery",
    "disk": "disk_free",
    "queue_depth": "queue_depth",
}
BINARY_IDS = {"status": "status", "compensated": "{side}_test_compensated"}
# What the last-test entities show as attributes, from the trial's payload.
TRIAL_ATTRIBUTES = ("test", "trial", MODE, TEST_REFERENCE, PROTOCOL_OK, "timestamp")


def last_test_topic(side: str) -> str:
    """The retained topic (under the device's base) of leg ``side``'s last rotation-test trial."""
    return f"test/{side}"


def _keep_last(key: str) -> str:
    """A template that reads ``key`` and keeps the last state when a message lacks it
    (a ``null`` value renders ``None``: the state becomes unknown)."""
    return f"{{{{ value_json.{key} if value_json.{key} is defined else this.state }}}}"


def entity_slug(text: str) -> str:
    """What Home Assistant's ``slugify`` makes of an ASCII name (lower case, every run of
    other characters one ``_``, none at the ends): the entity id it generated from the
    ``object_id`` hiprot published before 2025.10."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _stride_rotation(pelvis: bool) -> list[tuple[str, str, str, str, dict]]:
    """The last stride's rotation entities: hip IR with a pelvis sensor; without one the
    thigh's rotation relative to the walking direction, entities of their own (never the hip
    IR ones, so no entity changes meaning under the same id)."""
    angle = {"unit_of_measurement": "°", "state_class": "measurement"}
    angle["suggested_display_precision"] = 1
    if pelvis:
        return [
            (SENSOR_IDS["stride_ir_max"], "Last stride hip IR max", "stride", HIP_IR_MAX, angle),
            (SENSOR_IDS["stride_ir_rom"], "Last stride hip IR range", "stride", HIP_IR_ROM, angle),
        ]
    walking = " (to the walking direction)"
    return [
        (
            SENSOR_IDS["stride_thigh_max"],
            "Last stride thigh rotation max" + walking,
            "stride",
            WALKING_RENAMES[HIP_IR_MAX],
            angle,
        ),
        (
            SENSOR_IDS["stride_thigh_rom"],
            "Last stride thigh rotation range" + walking,
            "stride",
            WALKING_RENAMES[HIP_IR_ROM],
            angle,
        ),
    ]


def _sensors(
    base: str, sides: tuple[str, ...], battery: bool, pelvis: bool
) -> list[tuple[str, str, str, str, dict]]:
    """(object id, name, topic, key, extra config) of every sensor entity."""
    angle = {"unit_of_measurement": "°", "state_class": "measurement"}
    out = []
    for side in sides:
        leg = side.capitalize()
        last = last_test_topic(side)
        attributes = {
            "json_attributes_topic": f"{base}/{last}",
            "json_attributes_template": "{{ {"
            + ", ".join(f"'{k}': value_json.{k}" for k in TRIAL_ATTRIBUTES)
            + "} | tojson }}",
        }
        out += [
            (
                SENSOR_IDS["hip_ir"].format(side=side),
                f"{leg} hip internal rotation",
                STATE_TOPIC,
                hip_ir(side),
                {**angle, "suggested_display_precision": 1, "icon": "mdi:rotate-right"},
            ),
            (
                SENSOR_IDS["test_ir"].format(side=side),
                f"{leg} hip IR, last test",
                last,
                HIP_IR_MAX,
                {**angle, "suggested_display_precision": 1, **attributes},
            ),
            (
                SENSOR_IDS["test_er"].format(side=side),
                f"{leg} hip ER, last test",
                last,
                HIP_ER_MAX,
                {**angle, "suggested_display_precision": 1, **attributes},
            ),
        ]
    out += [
        (
            SENSOR_IDS["cadence"],
            "Cadence",
            "stride",
            CADENCE,
            {
                "unit_of_measurement": "steps/min",
                "state_class": "measurement",
                "suggested_display_precision": 0,
                "icon": "mdi:walk",
            },
        ),
        (
            SENSOR_IDS["stride_time"],
            "Last stride time",
            "stride",
            STRIDE_TIME,
            {
                "unit_of_measurement": "s",
                "state_class": "measurement",
                "device_class": "duration",
                "suggested_display_precision": 2,
            },
        ),
        *_stride_rotation(pelvis),
        (
            SENSOR_IDS["session"],
            "Session",
            "session",
            "state",
            {"device_class": "enum", "options": list(SESSION_STATES), "icon": "mdi:record-rec"},
        ),
        (
            SENSOR_IDS["disk"],
            "Free disk",
            STATE_TOPIC,
            DISK_FREE,
            {
                "unit_of_measurement": "MB",
                "device_class": "data_size",
                "state_class": "measurement",
                "suggested_display_precision": 0,
                "entity_category": "diagnostic",
            },
        ),
        (
            SENSOR_IDS["queue_depth"],
            "MQTT queue depth",
            "health",
            "mqtt.queue_depth",
            {"state_class": "measurement", "entity_category": "diagnostic"},
        ),
    ]
    if battery:
        out.append(
            (
                SENSOR_IDS["battery"],
                "Battery",
                STATE_TOPIC,
                BATTERY,
                {
                    "unit_of_measurement": "%",
                    "device_class": "battery",
                    "state_class": "measurement",
                    "suggested_display_precision": 0,
                },
            )
        )
    return out


def discovery_messages(
    device_id: str,
    base: str,
    sides: tuple[str, ...],
    *,
    pelvis: bool = False,
    battery: bool = False,
    dashboard_url: str | None = None,
) -> list[tuple[str, bytes]]:
    """(topic, retained payload) pairs announcing the device's entities.

    ``pelvis``: a pelvis sensor is worn, so a test's compensation is measured (an entity per
    leg) and a stride's rotation is hip IR (without one: the thigh's rotation relative to the
    walking direction, other entities; the other kind's are removed); ``battery``: the machine reports a battery; ``dashboard_url``: the device's
    ``configuration_url`` (the web dashboard).
    """
    device = {
        "identifiers": [f"hiprot_{device_id}"],
        "name": f"hiprot {device_id}",
        "manufacturer": "hiprot",
        "model": "hip rotation logger",
        "sw_version": __version__,
    }
    if dashboard_url:
        device["configuration_url"] = dashboard_url
    common = {
        "device": device,
        "origin": {"name": "hiprot", "sw_version": __version__},
        "availability_topic": f"{base}/status",
        "payload_available": "online",
        "payload_not_available": "offline",
    }

    def ids(component: str, object_id: str) -> dict:
        unique_id = f"hiprot_{device_id}_{object_id}"
        return {
            "unique_id": unique_id,
            "default_entity_id": f"{component}.{entity_slug(unique_id)}",
        }

    out = []
    for object_id, name, topic, key, extra in _sensors(base, sides, battery, pelvis):
        config = {
            "name": name,
            **ids("sensor", object_id),
            "state_topic": f"{base}/{topic}",
            "value_template": _keep_last(key),
            **common,
            **extra,
        }
        out.append((f"{DISCOVERY_PREFIX}/sensor/{device_id}/{object_id}/config", config))
    binaries = [
        (
            BINARY_IDS["status"],
            {
                "name": "Logger",
                "state_topic": f"{base}/status",
                "payload_on": "online",
                "payload_off": "offline",
                "device_class": "connectivity",
                "device": device,
                "origin": common["origin"],
            },
        )
    ]
    if pelvis:
        flag = f"value_json.{COMPENSATED}"
        binaries += [
            (
                BINARY_IDS["compensated"].format(side=side),
                {
                    "name": f"{side.capitalize()} hip last test compensated",
                    "state_topic": f"{base}/{last_test_topic(side)}",
                    # "None" (not measured) makes the state unknown
                    "value_template": f"{{{{ 'None' if {flag} is none "
                    f"else ('ON' if {flag} else 'OFF') }}}}",
                    "icon": "mdi:human-handsdown",
                    **common,
                },
            )
            for side in sides
        ]
    for object_id, config in binaries:
        config = {**ids("binary_sensor", object_id), **config}
        out.append((f"{DISCOVERY_PREFIX}/binary_sensor/{device_id}/{object_id}/config", config))
    retired = [  # the other kind of rig's stride rotation: an empty config deletes an entity
        (f"{DISCOVERY_PREFIX}/sensor/{device_id}/{entity[0]}/config", b"")
        for entity in _stride_rotation(not pelvis)
    ]
    return [(topic, json.dumps(config).encode()) for topic, config in out] + retired
