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
    ]
    for topic, config in messages:
        component = topic.split("/")[1]
        assert "object_id" not in config
        assert config["default_entity_id"] == f"{component}.{entity_slug(config['unique_id'])}"
