"""The dashboard: served by the real CLI, opened in headless Chromium while a session runs live."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from hiprot.columns import HIP_IR_MAX, WALKING_RENAMES
from hiprot.config import MqttConfig
from hiprot.mqtt import Publisher

THIGH_MAX = WALKING_RENAMES[HIP_IR_MAX]

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromedriver")


@pytest.fixture
def rig(tmp_path, ws_broker, sim_rig_text) -> Path:
    path = tmp_path / "rig.toml"
    path.write_text(
        sim_rig_text.replace(
            "port = 1883", f"port = {ws_broker.port}\nwebsocket_port = {ws_broker.ws_port}"
        )
    )
    return path


@contextlib.contextmanager
def serving(rig: Path, *options: str):
    """``hiprot dashboard --rig RIG OPTIONS`` on a free port; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hiprot", "dashboard", "--rig", str(rig), "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        url = next((w for w in line.split() if w.startswith("http://")), None)
        assert url, f"no URL in {line!r}: {process.stderr.read() if process.poll() else ''}"
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def dashboard(rig):
    """``hiprot dashboard`` on a free port; yields its URL."""
    with serving(rig) as url:
        yield url


@pytest.fixture
def browser():
    for path in CHROMIUM:
        if not Path(path).exists():
            pytest.fail(f"{path} missing: .ci/run installs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM[0]
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1000,1100",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(CHROMIUM[1]))
    yield driver
    driver.quit()


def test_dashboard_serves_page_libraries_and_settings(dashboard):
    page = urllib.request.urlopen(dashboard).read().decode()
    assert "vendor/mqtt.min.js" in page and "://" not in page, "nothing is loaded from the internet"
    for name in ("vendor/mqtt.min.js", "vendor/uPlot.iife.min.js", "dashboard.js"):
        assert len(urllib.request.urlopen(dashboard + name).read()) > 1000
    settings = json.loads(urllib.request.urlopen(dashboard + "config.json").read())
    assert settings["base"] == "hiprot/hiprot-sim" and settings["ws_url"] is None
    assert "password" not in json.dumps(settings)


def _get(url: str, path: str, host: str | None = None) -> http.client.HTTPResponse:
    """GET ``path`` from the server at ``url``, with another ``Host`` header if given."""
    address = url.removeprefix("http://").rstrip("/")
    connection = http.client.HTTPConnection(address, timeout=10)
    connection.putrequest("GET", path, skip_host=host is not None)
    if host is not None:
        connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    return response


def test_config_json_hands_out_no_user_name_and_no_broker_host(tmp_path, sim_rig_text):
    rig = tmp_path / "rig.toml"
    rig.write_text(
        sim_rig_text.replace(
            'host = "localhost"', 'host = "mqtt.internal.example"\nusername = "physio-7"'
        )
    )
    with serving(rig) as url:
        text = urllib.request.urlopen(url + "config.json").read().decode()
    assert "physio-7" not in text and "mqtt.internal.example" not in text
    assert json.loads(text)["ws_url"] is None  # the page connects to its own host
    with serving(rig, "--ws-url", "ws://pi.local:9001") as url:
        assert json.loads(urllib.request.urlopen(url + "config.json").read())["ws_url"] == (
            "ws://pi.local:9001"
        )


def test_no_listing_no_version_banner_and_security_headers(dashboard):
    for path in ("/", "/config.json", "/dashboard.js", "/nothing-here"):
        response = _get(dashboard, path)
        assert response.getheader("Server") == "hiprot", path
        csp = response.getheader("Content-Security-Policy")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        assert response.getheader("Referrer-Policy") == "no-referrer"
        assert response.getheader("X-Frame-Options") == "DENY"
    for path in ("/vendor/", "/vendor"):
        response = _get(dashboard, path)
        assert response.status in (301, 404), path
        if response.status == 301:
            assert _get(dashboard, response.getheader("Location")).status == 404


def test_only_the_devices_own_names_are_answered(tmp_path, rig):
    port_of = lambda url: url.rstrip("/").rsplit(":", 1)[1]  # noqa: E731
    with serving(rig, "--host", "0.0.0.0", "--allow-host", "hiprot.example.lan") as url:
        port = port_of(url)
        local = f"http://127.0.0.1:{port}/"
        for host in (
            f"localhost:{port}",
            f"127.0.0.1:{port}",
            f"0.0.0.0:{port}",
            f"{socket.gethostname()}:{port}",
            f"{socket.gethostname()}.local:{port}",
            "HIPROT.example.lan",
        ):
            assert _get(local, "/config.json", host).status == 200, host
        for host in ("attacker.example", f"attacker.example:{port}", "10.1.2.3", ""):
            response = _get(local, "/config.json", host)
            assert response.status == 421, host  # DNS rebinding: another site's name
            assert response.getheader("Content-Security-Policy")


def drive_session(rig: Path, broker, tmp_path: Path) -> subprocess.Popen:
    """A live session: `hiprot record` on the simulated rig, whose strides the live analysis
    publishes as they complete."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hiprot",
            "record",
            "--rig",
            str(rig),
            "--duration",
            "16",
            "--activity",
            "walk",
            "--out",
            str(tmp_path / "sessions"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _shown(value: float) -> str:
    """A number as the page shows it: two decimals at most, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _rotation(value: float) -> str:
    """A signed hip IR as the page says it: never external rotation as negative internal."""
    return f"{value:.1f}° internal" if value >= 0 else f"{-value:.1f}° external"


def _stroke_pixels(driver) -> int:
    """Pixels of the right-leg line colour on the chart canvas."""
    return driver.execute_script("""
        const c = document.querySelector('#chart canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4)
            if (Math.abs(d[i] - 217) < 30 && Math.abs(d[i + 1] - 72) < 30 && d[i + 2] < 60 && d[i + 3] > 200) n++;
        return n;""")


def test_browser_shows_live_angle_and_completed_stride(
    dashboard, browser, rig, ws_broker, subscribe, tmp_path
):
    sub = subscribe(ws_broker, "hiprot/hiprot-sim/#")
    wait = WebDriverWait(browser, 60, poll_frequency=0.2)
    browser.get(dashboard)
    wait.until(lambda d: d.find_element(By.ID, "broker-state").text == "connected")
    record = drive_session(rig, ws_broker, tmp_path)
    try:
        wait.until(lambda d: "°" in d.find_element(By.ID, "ir-right").text)
        wait.until(lambda d: d.find_element(By.ID, "device-status").text == "online")
        wait.until(  # thigh + shank: the thigh's rotation to the walking direction, not hip IR
            lambda d: d.find_elements(By.CSS_SELECTOR, f'#stride dd[data-key="{THIGH_MAX}"]')
        )
        sub.received.wait(lambda r: r.json("/angles")[-1]["time_s"] >= 12.0, 30)
        shot = tmp_path / "dashboard.png"
        browser.save_screenshot(str(shot))
        if os.environ.get("HIPROT_SCREENSHOTS"):
            Path(os.environ["HIPROT_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(os.environ["HIPROT_SCREENSHOTS"]) / "dashboard.png")
        stride = browser.find_element(By.ID, "stride").text
        last_stride = sub.received.json("/stride")[-1]
        assert f"thigh rotation max\n{_shown(last_stride[THIGH_MAX])}°" in stride
        assert f"stride time\n{_shown(last_stride['stride_time_s'])} s" in stride
        assert _stroke_pixels(browser) > 100, "the right hip IR line is drawn on the chart"
        assert "right_thigh" in browser.find_element(By.ID, "health").text
        assert record.wait(60) == 0, record.stderr.read()
    finally:
        if record.poll() is None:
            record.kill()
    wait.until(lambda d: d.find_element(By.ID, "device-status").text == "offline")
    last = [a for a in sub.received.json("/angles") if "right_hip_ir_deg" in a][-1]
    assert browser.find_element(By.ID, "ir-right").text == _rotation(last["right_hip_ir_deg"])
    assert "ended" in browser.find_element(By.ID, "session").text
    verdict = sub.received.json("/session")[-1]["calibration_verdict"]["right"]["verdict"]
    assert f"calibration so far: right {verdict}" in browser.find_element(By.ID, "verdict").text


def _publisher(broker, outbox_dir: Path, session: str, client_id: str | None = None) -> Publisher:
    publisher = Publisher(
        MqttConfig(port=broker.port),
        "hiprot-sim",
        broker.host,
        client_id=client_id,
        outbox_dir=outbox_dir,
    )
    assert publisher.start()
    publisher.begin_session(session, replay=session != "s1")
    return publisher


def test_browser_clears_the_cards_of_the_previous_session(dashboard, browser, ws_broker, tmp_path):
    """A new session (here a replay of a simulated rig, which the page says) empties the stride,
    rep and test cards; a late metric of the earlier session is not shown under it."""
    earlier = _publisher(ws_broker, tmp_path / "a", "s1")
    earlier.publish("session", {"session": "s1", "state": "ended"}, qos=1, retain=True)
    earlier.publish_metric("stride", {"side": "right", "index": 4, "hip_ir_max_deg": 11.5})
    assert earlier.flush(10)
    earlier.stop()
    wait = WebDriverWait(browser, 60, poll_frequency=0.2)
    browser.get(dashboard)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#stride dd[data-key="hip_ir_max_deg"]'))
    assert not browser.find_element(By.ID, "session-kind").is_displayed()

    replay = _publisher(ws_broker, tmp_path / "b", "s2")
    session = {
        "session": "s2",
        "subject": "P07",
        "state": "recording",
        "simulated": True,
        "replay": True,
    }
    replay.publish("session", {**session, "replay_of": "WALK"}, qos=1, retain=True)
    wait.until(lambda d: "none yet" in d.find_element(By.ID, "stride").text)
    assert browser.find_element(By.ID, "session-kind").text == "REPLAY of WALK, SIMULATED"
    assert "session s2 — subject P07 — recording" in browser.find_element(By.ID, "session").text
    late = _publisher(ws_broker, tmp_path / "c", "s1", client_id="late")
    late.publish_metric("rep", {"side": "right", "index": 2, "hip_ir_max_deg": 9.0})
    assert late.flush(10)
    late.stop()
    trial = {"side": "right", "trial": 1, "hip_ir_max_deg": 14.0}
    replay.publish_metric("test", {**trial, "compensated": True, "pelvic_compensation_deg": 6.1})
    assert replay.flush(10)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#test dd[data-key="hip_ir_max_deg"]'))
    flag = browser.find_element(By.CSS_SELECTOR, "#test dd.flag.compensated")
    assert flag.text == "COMPENSATED: pelvis tilted 6.1°"  # issue 17: flagged live
    replay.publish_metric("test", {**trial, "trial": 2, "compensated": None})
    assert replay.flush(10)
    wait.until(lambda d: "cannot be excluded" in d.find_element(By.ID, "test").text)
    replay.stop()
    assert "none yet" in browser.find_element(By.ID, "rep").text, "s1's late rep is not shown"
    assert "none yet" in browser.find_element(By.ID, "stride").text
