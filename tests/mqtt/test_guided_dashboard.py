"""The guided session on a phone: headless Chromium at 390×844 with touch events only, against
a real Mosquitto with the shipped ACL, a simulated wearer who follows the prompts on an
accelerated clock (tests/mqtt/wearer.py), and ``hiprot dashboard`` serving the page.

Calibration, the seated test trial by trial on each leg, the exercises, the re-test and the
verdict are done from the page alone; screenshots go to the test's tmp dir (and to
``$HIPROT_SCREENSHOTS`` when set). A second test logs in with a wrong password, sees a command
of another device pass by, re-sends a command id and loses the broker in mid-command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hiprot_testing import CONFIG, ConfiguredBroker, free_port
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from hiprot.config import parse_rig_text
from hiprot.recording.segments import read_timeline

from .test_dashboard import CHROMIUM, serving
from .wearer import Phone, Wearer

USERS = {"hiprot": "logger secret", "wearer": "wearer secret"}
DEVICE = "guided"
TRIALS, REPS = 3, 3
SPEED = 8.0  # the wearer's clock: at most 8× real time


@pytest.fixture
def acl_ws_broker(tmp_path):
    """TCP and WebSocket listeners, passwords and the shipped config/mosquitto.acl."""
    passwd = shutil.which("mosquitto_passwd") or pytest.fail("mosquitto_passwd is not installed")
    password_file = tmp_path / "passwd"
    for user, password in USERS.items():
        create = ["-c"] if not password_file.exists() else []
        subprocess.run([passwd, *create, "-b", str(password_file), user, password], check=True)
    ws_port = free_port()
    b = ConfiguredBroker(
        tmp_path,
        lambda port: [
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {password_file}",
            f"acl_file {CONFIG / 'mosquitto.acl'}",
            "persistence false",
            f"listener {port} 127.0.0.1",
            f"listener {ws_port} 127.0.0.1",
            "protocol websockets",
        ],
        ws_port,
    ).start()
    yield b
    b.stop()


def rig_text(broker) -> str:
    """Both legs (thigh and shank), the guided scenario with rigid segments (live trials on
    realistic people are a known defect, README), a short exercise set."""
    sensors = "".join(
        f'\n[[sensors]]\nname = "{side}_{segment}"\nsegment = "{segment}"\nside = "{side}"\n'
        f'chip = "icm42688"\nbus = {bus}\naddress = {address}\n'
        for bus, side in ((1, "right"), (2, "left"))
        for segment, address in (("thigh", 0x68), ("shank", 0x69))
    )
    return f"""device_id = "{DEVICE}"
sample_rate_hz = 100

[simulation]
scenario = "guided"
realism = "technical"
seed = 2
still_s = 3
trials = {TRIALS}
sets = 1
reps = {REPS}
rest_s = 2

[mqtt]
host = "{broker.host}"
port = {broker.port}
websocket_port = {broker.ws_port}
username = "hiprot"
{sensors}"""


@pytest.fixture
def rig_file(tmp_path, acl_ws_broker, monkeypatch):
    monkeypatch.setenv("HIPROT_MQTT_PASSWORD", USERS["hiprot"])  # the logger's account
    path = tmp_path / "rig.toml"
    path.write_text(rig_text(acl_ws_broker))
    return path


@pytest.fixture
def phone(tmp_path):
    for path in CHROMIUM:
        if not Path(path).exists():
            pytest.fail(f"{path} missing: .ci/run installs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_experimental_option(
        "mobileEmulation",
        {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0, "touch": True}},
    )
    driver = webdriver.Chrome(options=options, service=Service(CHROMIUM[1]))
    shots = tmp_path / "screenshots"
    shots.mkdir()
    yield Phone(driver, shots)
    driver.quit()
    if os.environ.get("HIPROT_SCREENSHOTS"):
        target = Path(os.environ["HIPROT_SCREENSHOTS"]) / "guided"
        shutil.copytree(shots, target, dirs_exist_ok=True)


def step(driver) -> str:
    return driver.find_element(By.ID, "guide").get_attribute("data-step")


def log_in(phone: Phone, wait, password: str) -> None:
    driver = phone.driver
    wait.until(lambda d: d.find_element(By.ID, "login").is_displayed())
    driver.execute_script("document.getElementById('login-user').value = ''")
    driver.execute_script("document.getElementById('login-password').value = ''")
    phone.type("login-user", "wearer")
    phone.type("login-password", password)
    phone.tap("login-submit")


def trial_cells(driver, side: str) -> list[str]:
    rows = driver.find_elements(By.CSS_SELECTOR, f'#trials tr[data-side="{side}"][data-trial]')
    return [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows]


def reps_counted(driver) -> tuple[int, int]:
    """The repetitions the exercise prompt counts per leg (left, right)."""
    prompt = driver.find_element(By.ID, "guide-prompt").text
    found = dict(re.findall(r"(Left|Right): (\d+) of", prompt))
    return int(found.get("Left", 0)), int(found.get("Right", 0))


def run_test_step(phone: Phone, wearer: Wearer, wait, name: str) -> None:
    """Seated test: the page asks leg by leg, trial by trial; the table fills."""
    driver = phone.driver
    wait.until(
        lambda d: step(d) == "test" and "trial 1 of" in d.find_element(By.ID, "guide-prompt").text
    )
    assert driver.find_element(By.ID, "guide").get_attribute("data-leg") == "left"
    phone.shot(f"{name}-first-prompt")
    wearer.release()  # sits down and starts
    wait.until(lambda d: "Right leg, trial 1" in d.find_element(By.ID, "guide-prompt").text)
    phone.shot(f"{name}-right-leg")
    wait.until(lambda d: step(d) != "test")
    for side in ("left", "right"):
        cells = trial_cells(driver, side)
        assert len(cells) == TRIALS and all(c.endswith("°") for c in cells), (side, cells)
    phone.shot(f"{name}-table")


def test_a_guided_session_from_the_phone_alone(acl_ws_broker, rig_file, phone, tmp_path):
    driver = phone.driver
    wait = WebDriverWait(driver, 600, poll_frequency=0.2)
    rig = parse_rig_text(rig_file.read_text(), tmp_path)
    wearer = Wearer(rig, tmp_path / "sessions", acl_ws_broker.host, acl_ws_broker.port, SPEED)
    with serving(rig_file, "--trials", str(TRIALS), "--reps", str(REPS)) as url:
        wearer.start()
        try:
            driver.get(url)
            assert driver.execute_script("return window.innerWidth") == 390
            log_in(phone, wait, USERS["wearer"])
            wait.until(lambda d: d.find_element(By.ID, "broker-state").text == "connected")
            phone.shot("connected")
            phone.tap("go-calibrate")
            wait.until(lambda d: step(d) == "calibrate")
            assert "Stand still, feet forward" in driver.find_element(By.ID, "guide-prompt").text
            phone.shot("calibrate")
            wearer.release()  # stands still, then three knee bends
            wait.until(lambda d: step(d) == "calibrated")
            phone.shot("calibrated")
            phone.tap("go-test")
            run_test_step(phone, wearer, wait, "test")
            assert step(driver) == "tested"
            phone.tap("go-exercise")
            wait.until(lambda d: step(d) == "exercise")
            wearer.release()  # stands up and exercises
            # done when the wearer has done the sets (and waits for the next prompt): the live
            # rep counter need not have counted every rep, the person taps "done" anyway
            wait.until(lambda d: wearer.clock.waiting.is_set() and reps_counted(d) >= (1, 1))
            phone.shot("exercises")
            phone.tap("go-exercised")
            wait.until(lambda d: step(d) == "exercised")
            phone.tap("go-retest")
            run_test_step(phone, wearer, wait, "retest")
            wait.until(lambda d: step(d) == "verdict")
            verdict = driver.find_element(By.ID, "verdict-table").text
            phone.shot("verdict")
            wearer.release()  # stands up; the recording runs on
            phone.tap("report-open")
            wait.until(lambda d: d.find_element(By.ID, "report").is_displayed())
            report = driver.find_element(By.ID, "report-body").text
            phone.shot("report")
            assert driver.find_element(By.ID, "history-card").is_displayed()
            page = driver.find_element(By.TAG_NAME, "body").text
            cards = driver.find_element(By.CSS_SELECTOR, ".cards").text
        finally:
            wearer.close()
    assert wearer.error is None, wearer.error
    # the verdict in a physio's words: both rotations per leg, positive degrees, a word
    for side in ("Left", "Right"):
        for name in ("internal", "external"):
            assert f"{side} {name} rotation" in verdict
    assert any(w in verdict for w in ("improved", "no detectable change", "worse"))
    assert "Re-test after the exercises" in report and "History" in report
    assert "seq" not in page and "#" not in cards  # no sequence numbers
    for clock_field in ("start", "end", "peak"):  # no instants on the session's clock
        assert clock_field not in cards, cards
    # the recording was labelled from the page: test, exercises, re-test, in that order
    timeline = read_timeline(wearer.session)
    labels = [s.labels for s in timeline.segments]
    assert [x.get("activity") for x in labels] == ["seated-test", "exercise", "seated-test"]
    assert [x.get("phase") for x in labels] == ["before", None, "after"]
    assert timeline.open is None and not timeline.skipped
    assert wearer.summary.metrics.get("test", 0) >= 4 * TRIALS, wearer.summary.metrics
    assert len(list((tmp_path / "screenshots").glob("*.png"))) >= 10


def test_commands_from_the_page_wrong_password_foreign_device_repeat_and_restart(
    acl_ws_broker, rig_file, phone, tmp_path
):
    driver = phone.driver
    wait = WebDriverWait(driver, 60, poll_frequency=0.1)
    rig = parse_rig_text(rig_file.read_text(), tmp_path)
    wearer = Wearer(rig, tmp_path / "sessions", acl_ws_broker.host, acl_ws_broker.port, SPEED)
    with serving(rig_file) as url:
        wearer.start()
        try:
            driver.get(url)
            log_in(phone, wait, "not the password")
            wait.until(
                lambda d: "wrong user name or password" in d.find_element(By.ID, "login").text
            )
            phone.shot("wrong-password")
            log_in(phone, wait, USERS["wearer"])
            wait.until(lambda d: d.find_element(By.ID, "broker-state").text == "connected")
            # a marker from the manual controls
            phone.tap("controls")  # opens the <details>
            phone.tap("c-mark")
            wait.until(lambda d: "marker: done" in d.find_element(By.ID, "command-status").text)
            # another device's command on this device's topic is answered "ignored", and the
            # page, which did not send it, shows nothing of it
            foreign = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-foreign")
            foreign.username_pw_set("wearer", USERS["wearer"])
            foreign.connect(acl_ws_broker.host, acl_ws_broker.port)
            foreign.loop_start()
            body = json.dumps({"id": "other", "device": "dev2", "op": "start", "labels": {}})
            foreign.publish(f"hiprot/{DEVICE}/cmd", body, qos=1).wait_for_publish(5)
            # the same command id twice (a double tap re-sending its command) applies once
            command = {
                "id": "twice",
                "device": DEVICE,
                "op": "start",
                "labels": {"activity": "walk"},
            }
            for _ in range(2):
                foreign.publish(
                    f"hiprot/{DEVICE}/cmd", json.dumps(command), qos=1
                ).wait_for_publish(5)
            foreign.disconnect()
            foreign.loop_stop()
            wait.until(lambda d: "labelling: walk" in d.find_element(By.ID, "segment-state").text)
            assert "marker: done" in driver.find_element(By.ID, "command-status").text
            # the broker goes away in mid-command: the page re-sends the same id, once back
            acl_ws_broker.stop()
            phone.tap("c-stop")
            wait.until(lambda d: d.find_element(By.ID, "broker-state").text != "connected")
            phone.shot("broker-away")
            acl_ws_broker.start()  # the same ports and configuration
            wait.until(lambda d: d.find_element(By.ID, "broker-state").text == "connected")

            def stopped(d) -> bool:  # re-sent by the page, or offered to the person to re-send
                if d.find_element(By.ID, "command-again").is_displayed():
                    phone.tap("command-again")
                return "stop: done" in d.find_element(By.ID, "command-status").text

            wait.until(stopped)
            phone.shot("stopped-after-restart")
        finally:
            wearer.close()
    assert wearer.error is None, wearer.error
    timeline = read_timeline(wearer.session)
    assert [s.labels.get("activity") for s in timeline.segments] == ["walk"]  # not dev2's
    assert timeline.open is None and len(timeline.marks) == 1
    assert "twice" in timeline.outcomes and "other" not in timeline.outcomes
