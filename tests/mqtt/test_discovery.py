"""Home Assistant discovery keeps the entity ids HA generated from the old ``object_id``."""

from __future__ import annotations

import json

import pytest

from hiprot.mqtt.discovery import discovery_messages, entity_slug


@pytest.mark.parametrize(
    ("name", "slug"),
    [  # what HA's slugify (python-slugify, separator "_") makes of these names
        ("hiprot_hiprot-sim_cadence", "hiprot_hiprot_sim_cadence"),
        ("hiprot_Pi-Lab__2_status", "hiprot_pi_lab_2_status"),
        ("hiprot_-x-_queue_depth", "hiprot_x_queue_depth"),
    ],
)
def test_entity_slug_is_home_assistants(name, slug):
    assert entity_slug(name) == slug


def test_every_entity_has_a_default_entity_id_and_no_object_id():
    messages = [
        (t, json.loads(p))
        for t, p in discovery_messages("Pi-Lab", "hiprot/Pi-Lab", ("left", "right"))
        if p  # an empty payload removes an entity
    ]
    for topic, config in messages:
        component = topic.split("/")[1]
        assert "object_id" not in config
        assert config["default_entity_id"] == f"{component}.{entity_slug(config['unique_id'])}"


@pytest.mark.parametrize("pelvis", [True, False])
def test_a_rig_announces_its_stride_rotation_entities_and_removes_the_other_kind(pelvis):
    """Thigh + shank announce thigh rotation entities of their own, never hip IR under the
    same id; the other kind of rig's pair is removed (empty retained config), not left stale."""
    messages = dict(discovery_messages("lab", "hiprot/lab", ("right",), pelvis=pelvis))
    mine, other = ("hip_ir", "thigh_rotation") if pelvis else ("thigh_rotation", "hip_ir")
    for stat in ("max", "rom"):
        announced = json.loads(messages[f"homeassistant/sensor/lab/stride_{mine}_{stat}/config"])
        assert announced["unique_id"] == f"hiprot_lab_stride_{mine}_{stat}"
        assert f"value_json.{mine}_{stat}_deg" in announced["value_template"]
        assert messages[f"homeassistant/sensor/lab/stride_{other}_{stat}/config"] == b""
