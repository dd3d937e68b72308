// hiprot dashboard: subscribes to <prefix>/<device>/# over MQTT-over-WebSockets and shows
// live hip IR (numbers and a 10 s scrolling chart), the last stride/rep/test, health and
// the connection state. Payload formats are described in docs/mqtt.md.
// The cards only ever show the current session's metrics (every metric names its session):
// a new session clears them, and a late metric of an earlier session is not shown.
"use strict";

const WINDOW_S = 10;
const SIDES = ["right", "left"];
const UNITS = [["_deg", "°"], ["_s", " s"], ["_hz", " Hz"], ["_per_min", "/min"], ["_percent", " %"], ["_mb", " MB"], ["_temp_c", " °C"]];
const HIDDEN = new Set(["timestamp", "stream", "session", "replay"]);
const $ = (id) => document.getElementById(id);

function label(name) {
  return name.replaceAll("_", " ").replace(/\bir\b/g, "IR").replace(/\ber\b/g, "ER").replace(/\brom\b/g, "ROM");
}

function formatEntry(key, value) {
  if (typeof value === "number") {
    for (const [suffix, unit] of UNITS) {
      if (key.endsWith(suffix)) return [label(key.slice(0, -suffix.length)), `${+value.toFixed(2)}${unit}`];
    }
  }
  return [label(key), String(value)];
}

// A rotation-test trial's flags, shown first: compensated (the pelvis tilted beyond the limit),
// compensation that cannot be excluded (no pelvis sensor), off the protocol's posture.
function testFlags(data) {
  const out = [];
  const flag = (text, cls) => {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = "flag";
    dd.textContent = text;
    dd.className = cls;
    out.push(dt, dd);
  };
  if (data.compensated === true) {
    flag(`COMPENSATED: pelvis tilted ${(+data.pelvic_compensation_deg).toFixed(1)}°`, "flag compensated");
  } else if (data.compensated === null || data.compensated === undefined) {
    flag("compensation cannot be excluded (no pelvis sensor)", "flag muted");
  }
  if (data.protocol_ok === false) flag("off the test protocol (hip or knee flexion)", "flag off-protocol");
  return out;
}

function setBadge(el, text, cls) {
  el.textContent = text;
  el.className = cls;
}

class Chart {
  constructor(target) {
    this.target = target;
    this.data = [[], [], []];
    this.plot = new uPlot(this.options(), this.data, target);
    this.pending = false;
    window.addEventListener("resize", () => this.plot.setSize(this.size()));
  }
  size() { return { width: Math.max(300, this.target.clientWidth), height: 260 }; }
  options() {
    return {
      ...this.size(),
      scales: { x: { time: false } },
      series: [
        { label: "time (s)" },
        { label: "right hip IR (°)", stroke: "#d9480f", width: 2, spanGaps: false },
        { label: "left hip IR (°)", stroke: "#1c7ed6", width: 2, spanGaps: false },
      ],
      axes: [{ label: "sample time (s)" }, { label: "hip IR (°)" }],
    };
  }
  add(t, right, left) {
    const [ts, rs, ls] = this.data;
    if (ts.length && t < ts[ts.length - 1]) { ts.length = rs.length = ls.length = 0; }
    ts.push(t); rs.push(right); ls.push(left);
    while (ts.length && ts[0] < t - WINDOW_S) { ts.shift(); rs.shift(); ls.shift(); }
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(() => { this.pending = false; this.plot.setData(this.data); });
    }
  }
}

class Dashboard {
  constructor(cfg) {
    this.cfg = cfg;
    this.chart = new Chart($("chart"));
    this.counts = { stride: 0, rep: 0, test: 0 };
    this.sessionId = null;
    this.cards = {};
    $("device").textContent = cfg.device_id;
    $("login").addEventListener("submit", (event) => {
      event.preventDefault();
      $("login").hidden = true;
      this.connect($("login-user").value, $("login-password").value);
    });
  }

  url() {
    if (this.cfg.ws_url) return this.cfg.ws_url;
    const scheme = this.cfg.ws_tls || location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.hostname}:${this.cfg.ws_port}`;
  }

  connect(username, password) {
    if (this.client) this.client.end(true);
    const options = {
      clientId: "hiprot-dashboard-" + Math.random().toString(16).slice(2, 10),
      reconnectPeriod: 2000, connectTimeout: 5000, clean: true,
    };
    if (username) { options.username = username; options.password = password; }
    setBadge($("broker-state"), "connecting", "unknown");
    const client = mqtt.connect(this.url(), options);
    this.client = client;
    client.on("connect", () => {
      setBadge($("broker-state"), "connected", "ok");
      client.subscribe(this.cfg.base + "/#", { qos: 1 });
    });
    client.on("reconnect", () => setBadge($("broker-state"), "reconnecting", "bad"));
    client.on("offline", () => setBadge($("broker-state"), "disconnected", "bad"));
    client.on("error", (err) => {
      setBadge($("broker-state"), "error: " + err.message, "bad");
      if (err.code === 4 || err.code === 5) {
        client.end(true);
        $("login-reason").textContent = "the broker wants a user name and password:";
        $("login").hidden = false;
      }
    });
    client.on("message", (topic, payload) => this.message(topic.slice(this.cfg.base.length + 1), payload.toString()));
  }

  message(name, text) {
    if (name === "status") {
      setBadge($("device-status"), text, text === "online" ? "ok" : "bad");
      return;
    }
    let data;
    try { data = JSON.parse(text); } catch { return; }
    if (name === "angles") this.angles(data);
    else if (name === "session") this.session(data);
    else if (name === "health") this.health(data);
    else if (name in this.counts) this.metric(name, data);
  }

  angles(data) {
    const values = SIDES.map((side) => {
      const v = data[`${side}_hip_ir_deg`];
      if (typeof v === "number") $(`ir-${side}`).textContent = `${v.toFixed(1)}°`;
      return typeof v === "number" ? v : null;
    });
    this.chart.add(data.time_s, values[0], values[1]);
  }

  session(data) {
    if (data.session !== this.sessionId) {
      this.sessionId = data.session;
      for (const kind of Object.keys(this.counts)) {
        if (this.cards[kind] && this.cards[kind].session !== data.session) this.clearCard(kind);
      }
    }
    const kinds = [];
    if (data.replay) kinds.push(`REPLAY of ${data.replay_of ?? "?"}`);
    if (data.simulated) kinds.push("SIMULATED");
    $("session-kind").hidden = kinds.length === 0;
    $("session-kind").firstElementChild.textContent = kinds.join(", ");
    if (Array.isArray(data.sides)) {
      SIDES.forEach((side, i) => {
        $(`angle-${side}`).hidden = !data.sides.includes(side);
        this.chart.plot.setSeries(i + 1, { show: data.sides.includes(side) });
      });
    }
    const calibration = Object.entries(data.calibration || {}).map(([side, state]) => `${side} ${state}`).join(", ");
    $("session").textContent = `session ${data.session}` +
      (data.subject ? ` — subject ${data.subject}` : "") + ` — ${data.state}` +
      (calibration ? ` — calibration: ${calibration}` : "") + ` — angles at ${data.angles_rate_hz} Hz`;
    $("session").className = "";
    this.verdict(data.calibration_verdict || {});
  }

  verdict(verdicts) {
    const entries = Object.entries(verdicts);
    const box = $("verdict");
    box.hidden = entries.length === 0;
    const worst = entries.some(([, v]) => v.verdict === "unusable") ? "unusable"
      : entries.some(([, v]) => v.verdict === "doubtful") ? "doubtful" : "good";
    const advice = entries.map(([, v]) => v.advice).find(Boolean);
    box.textContent = "calibration: " + entries.map(([side, v]) =>
      `${side} ${v.verdict}` + (v.reasons.length ? ` (${v.reasons.join(", ")})` : "")).join(", ") +
      (advice ? ` — ${worst === "unusable" ? "angles withheld: " : ""}${advice}` : "");
    box.className = worst === "good" ? "ok" : "bad";
  }

  clearCard(kind) {
    delete this.cards[kind];
    this.counts[kind] = 0;
    const card = $(kind);
    card.querySelector(".count").textContent = "";
    const none = document.createElement("dd");
    none.className = "muted";
    none.textContent = "none yet";
    card.querySelector(".metrics").replaceChildren(none);
  }

  metric(kind, data) {
    if (this.sessionId !== null && data.session !== this.sessionId) return;  // an earlier session's, late
    this.cards[kind] = data;
    this.counts[kind] += 1;
    const card = $(kind);
    card.querySelector(".count").textContent =
      `#${data.seq ?? this.counts[kind]} at ${new Date(data.timestamp * 1000).toLocaleTimeString()}`;
    const list = card.querySelector(".metrics");
    list.replaceChildren();
    if (kind === "test") list.append(...testFlags(data));
    for (const [key, value] of Object.entries(data)) {
      if (HIDDEN.has(key) || key === "seq" || typeof value === "object") continue;
      const [label, shown] = formatEntry(key, value);
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = label;
      dd.textContent = shown;
      dd.dataset.key = key;
      list.append(dt, dd);
    }
  }

  health(data) {
    const rows = [];
    for (const [name, s] of Object.entries(data.sensors || {})) {
      rows.push([name, `${s.rate_hz} Hz, ${s.missed_samples} missed`]);
    }
    const m = data.mqtt || {};
    rows.push(["publisher", `queue ${m.queue_depth}, metrics dropped ${m.metrics_dropped}, angles dropped ${m.live_dropped}, reconnects ${m.reconnects}`]);
    if (m.outbox === "memory" || m.problem) rows.push(["outbox", `${m.outbox}: ${m.problem ?? "-"}`]);
    rows.push(["recording", `${data.recording_dropped_chunks} chunks dropped`]);
    for (const key of ["cpu_percent", "load_1min", "disk_free_mb", "battery_percent", "cpu_temp_c"]) {
      if (key in data) rows.push(formatEntry(key, data[key]));
    }
    const body = document.createElement("tbody");
    for (const [label, value] of rows) {
      const tr = body.insertRow();
      tr.insertCell().textContent = label;
      tr.insertCell().textContent = value;
    }
    $("health").replaceChildren(body);
  }
}

fetch("config.json")
  .then((response) => response.json())
  .then((cfg) => new Dashboard(cfg).connect());
