"""Home Assistant discovery: stable entity ids (those HA generated from the old ``object_id``
too), and value templates that give each entity a state Home Assistant accepts."""

from __future__ import annotations

import json

import pytest
from hiprot_testing import ha_state, render

from hiprot import columns
from hiprot.analysis.rotation_tests import Trial
from hiprot.columns import HIP_ER_MAX, HIP_IR_MAX, hip_ir
from hiprot.mqtt.discovery import discovery_messages, entity_slug, last_test_topic


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
        if p  # an empty config removes an entity
    ]
    for topic, config in messages:
        component = topic.split("/")[1]
        assert "object_id" not in config
        assert config["default_entity_id"] == f"{component}.{entity_slug(config['unique_id'])}"


def _configs(**options) -> dict[str, dict]:
    """Discovery configs of a two-legged device by unique_id."""
    messages = discovery_messages("dev", "hiprot/dev", ("right", "left"), **options)
    return {c["unique_id"]: c for c in (json.loads(p) for _, p in messages if p)}


# Home Assistant's identities of hiprot's entities: a change here changes a user's history,
# dashboards and automations, so an entity may be added, never renamed.
STABLE_IDS = {
    "hiprot_dev_right_hip_ir",
    "hiprot_dev_left_hip_ir",
    "hiprot_dev_cadence",
    "hiprot_dev_stride_time",
    "hiprot_dev_queue_depth",
    "hiprot_dev_status",
}  # published before the state topic: the same ids now read it
PELVIS_STRIDE_IDS = {"hiprot_dev_stride_hip_ir_max", "hiprot_dev_stride_hip_ir_rom"}  # as before
# without a pelvis sensor a stride's rotation is the thigh's, entities of their own (issue 17)
THIGH_STRIDE_IDS = {"hiprot_dev_stride_thigh_rotation_max", "hiprot_dev_stride_thigh_rotation_rom"}
NEW_IDS = {
    "hiprot_dev_right_test_hip_ir_max",
    "hiprot_dev_right_test_hip_er_max",
    "hiprot_dev_left_test_hip_ir_max",
    "hiprot_dev_left_test_hip_er_max",
    "hiprot_dev_session_state",
    "hiprot_dev_disk_free",
}


def test_entity_ids_are_stable_and_the_optional_ones_appear_only_where_measured():
    assert set(_configs()) == STABLE_IDS | NEW_IDS | THIGH_STRIDE_IDS
    full = _configs(pelvis=True, battery=True)
    extra = {"hiprot_dev_battery", "hiprot_dev_right_test_compensated"}
    extra |= {"hiprot_dev_left_test_compensated"}
    assert set(full) == STABLE_IDS | NEW_IDS | PELVIS_STRIDE_IDS | extra


def test_a_renamed_measure_changes_what_an_entity_reads_not_which_entity_it_is(monkeypatch):
    """The column module may rename a measure (the two-sensor walking measure is to be renamed):
    the unique ids stay, the templates follow the new key."""
    before = _configs()
    monkeypatch.setattr(columns, "HIP_IR", "thigh_rotation_deg")
    after = _configs()
    assert set(after) == set(before)
    template = after["hiprot_dev_right_hip_ir"]["value_template"]
    assert "right_thigh_rotation_deg" in template and ha_state(
        after["hiprot_dev_right_hip_ir"], {"right_thigh_rotation_deg": 12.5}
    ) == pytest.approx(12.5)


def test_every_entity_names_its_origin_device_link_and_display_precision():
    url = "http://hiprot.local:8080/"
    for config in _configs(pelvis=True, battery=True, dashboard_url=url).values():
        assert config["origin"]["name"] == "hiprot" and config["origin"]["sw_version"]
        assert config["device"]["configuration_url"] == url
        if config.get("unit_of_measurement"):
            assert isinstance(config["suggested_display_precision"], int), config["name"]
    assert "configuration_url" not in _configs()["hiprot_dev_cadence"]["device"]


def test_hip_ir_comes_from_the_state_topic_not_the_angles():
    configs = _configs()
    for side in ("right", "left"):
        config = configs[f"hiprot_dev_{side}_hip_ir"]
        assert config["state_topic"] == "hiprot/dev/state"
        assert ha_state(config, {hip_ir(side): -3.25}) == -3.25
        assert ha_state(config, {hip_ir(side): None}) is None, "not calibrated: unknown"


@pytest.mark.parametrize("compensated", [True, False, None])
def test_the_last_test_per_leg_with_its_compensation(compensated):
    configs = _configs(pelvis=True)
    trial = Trial(
        test="seated-ir",
        side="left",
        trial=2,
        start_s=10.0,
        end_s=18.0,
        hip_ir_max_deg=31.234,
        hip_er_max_deg=38.5,
        ir_peak_s=12.0,
        er_peak_s=16.0,
        compensated=compensated,
        mode="active",
    ).payload()
    payload = {"timestamp": 1.0, **trial}
    ir, er = configs["hiprot_dev_left_test_hip_ir_max"], configs["hiprot_dev_left_test_hip_er_max"]
    flag = configs["hiprot_dev_left_test_compensated"]
    for config in (ir, er, flag):
        assert config["state_topic"] == f"hiprot/dev/{last_test_topic('left')}"
    assert ha_state(ir, payload) == pytest.approx(trial[HIP_IR_MAX])
    assert ha_state(er, payload) == pytest.approx(trial[HIP_ER_MAX])
    assert ha_state(flag, payload) is compensated
    attributes = json.loads(render(ir["json_attributes_template"], payload))
    assert attributes == {"test": "seated-ir", "trial": 2, "mode": "active",
                          "reference": trial["reference"], "protocol_ok": None, "timestamp": 1.0}  # fmt: skip


def test_session_state_battery_and_disk():
    configs = _configs(battery=True)
    session = configs["hiprot_dev_session_state"]
    assert session["state_topic"] == "hiprot/dev/session"
    assert [ha_state(session, {"state": s}) for s in ("recording", "ended")] == [
        "recording",
        "ended",
    ]
    state = {"time_s": 3.0, "battery_percent": 81.0, "disk_free_mb": 12034}
    assert ha_state(configs["hiprot_dev_battery"], state) == 81.0
    assert ha_state(configs["hiprot_dev_disk_free"], state) == 12034.0
    assert ha_state(configs["hiprot_dev_battery"], {"time_s": 4.0}, "80.0") == 80.0, "kept"


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
