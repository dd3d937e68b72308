"""The dashboard: served by the real CLI, opened in headless Chromium while a session runs live."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

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


@pytest.fixture
def dashboard(rig):
    """``hiprot dashboard`` on a free port; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hiprot", "dashboard", "--rig", str(rig), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    url = next((w for w in line.split() if w.startswith("http://")), None)
    assert url, f"no URL in {line!r}: {process.stderr.read() if process.poll() is not None else ''}"
    yield url
    process.terminate()
    process.wait(10)


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
        wait.until(lambda d: d.find_element(By.ID, "ir-right").text.endswith("°"))
        wait.until(lambda d: d.find_element(By.ID, "device-status").text == "online")
        wait.until(
            lambda d: d.find_elements(By.CSS_SELECTOR, '#stride dd[data-key="hip_ir_max_deg"]')
        )
        sub.received.wait(lambda r: r.json("/angles")[-1]["time_s"] >= 12.0, 30)
        shot = tmp_path / "dashboard.png"
        browser.save_screenshot(str(shot))
        if os.environ.get("HIPROT_SCREENSHOTS"):
            Path(os.environ["HIPROT_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(os.environ["HIPROT_SCREENSHOTS"]) / "dashboard.png")
        stride = browser.find_element(By.ID, "stride").text
        last_stride = sub.received.json("/stride")[-1]
        assert f"hip IR max\n{_shown(last_stride['hip_ir_max_deg'])}°" in stride
        assert f"stride time\n{_shown(last_stride['stride_time_s'])} s" in stride
        assert _stroke_pixels(browser) > 100, "the right hip IR line is drawn on the chart"
        assert "right_thigh" in browser.find_element(By.ID, "health").text
        assert record.wait(60) == 0, record.stderr.read()
    finally:
        if record.poll() is None:
            record.kill()
    wait.until(lambda d: d.find_element(By.ID, "device-status").text == "offline")
    last = [a for a in sub.received.json("/angles") if "right_hip_ir_deg" in a][-1]
    assert browser.find_element(By.ID, "ir-right").text == f"{last['right_hip_ir_deg']:.1f}°"
    assert "ended" in browser.find_element(By.ID, "session").text
    verdict = sub.received.json("/session")[-1]["calibration_verdict"]["right"]["verdict"]
    assert f"calibration: right {verdict}" in browser.find_element(By.ID, "verdict").text
