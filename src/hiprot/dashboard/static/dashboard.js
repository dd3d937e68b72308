// hiprot dashboard: subscribes to <prefix>/<device>/# over MQTT-over-WebSockets and shows
// live hip rotation (internal or external, in degrees; a 10 s scrolling chart), the guided
// session (guide.js), the last stride/rep/trial, health and the connection state; sends
// segment commands (commands.js). Payloads: docs/mqtt.md and docs/commands.md; docs/dashboard.md.
// The cards only ever show the current session's metrics (every metric names its session):
// a new session clears them, and a late metric of an earlier session is not shown.
"use strict";

const WINDOW_S = 10;
const SIDES = ["right", "left"];
const UNITS = [["_deg", "°"], ["_s", " s"], ["_hz", " Hz"], ["_per_min", "/min"], ["_percent", " %"], ["_mb", " MB"], ["_temp_c", " °C"]];
// Not shown on the cards: bookkeeping, and instants on the session's clock (start_s, end_s,
// the peaks' times), which mean nothing to a person; durations (stride_time_s) stay.
const HIDDEN = new Set(["timestamp", "stream", "session", "replay", "index", "set", "rep_in_set",
  "trial", "start_s", "end_s", "ir_peak_s", "er_peak_s", "test", "exercise"]);
const LABELS = { cadence_steps_per_min: ["cadence", " steps/min"] };
const $ = (id) => document.getElementById(id);

function label(name) {
  return name.replaceAll("_", " ").replace(/\bir\b/g, "IR").replace(/\ber\b/g, "ER").replace(/\brom\b/g, "ROM");
}

function formatEntry(key, value) {
  if (typeof value === "number" && key in LABELS) return [LABELS[key][0], `${+value.toFixed(0)}${LABELS[key][1]}`];
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

// A signed hip IR angle as a physio says it: "12.3° internal", "4.0° external".
function rotation(v) {
  return v >= 0 ? `${v.toFixed(1)}° internal` : `${(-v).toFixed(1)}° external`;
}

function ordinal(n) {
  const s = ["th", "st", "nd", "rd"], v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}

// A tap on a button: the click that a touch screen also sends (no hover anywhere on the page).
function onTap(id, run) { $(id).addEventListener("click", run); }

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
      legend: { show: false },  // uPlot's legend follows the mouse; the page has a fixed one
      cursor: { show: false },
      series: [
        {},
        { stroke: "#d9480f", width: 2, spanGaps: false },
        { stroke: "#1c7ed6", width: 2, spanGaps: false },
      ],
      axes: [{ label: "seconds ago" }, { label: "° (up: internal)" }],
    };
  }
  add(t, right, left) {
    const [ts, rs, ls] = this.data;
    if (ts.length && t < ts[ts.length - 1]) { ts.length = rs.length = ls.length = 0; }
    ts.push(t); rs.push(right); ls.push(left);
    while (ts.length && ts[0] < t - WINDOW_S) { ts.shift(); rs.shift(); ls.shift(); }
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        const last = ts[ts.length - 1];
        this.plot.setData([ts.map((x) => x - last), rs, ls]);
      });
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
    this.commander = new Commander(cfg, (text, cls, again) => {
      setBadge($("command-status"), text, cls);
      $("command-again").hidden = !again;
    });
    this.guide = new Guide(cfg, this.commander);
    this.guide.welcome();
    onTap("command-again", () => {
      $("command-again").hidden = true;
      this.commander.send(this.commander.lost).catch(() => {});
    });
    for (const op of ["start", "stop", "label", "mark"]) onTap(`c-${op}`, () => this.manual(op));
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
    this.commander.attach(client);
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
        $("login-reason").textContent = username
          ? "wrong user name or password — try again:"
          : "log in (the wearer's broker account, to start and stop tests):";
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
    if (name === "cmd/result") this.commander.result(data);
    else if (name === "segment") this.segment(data);
    else if (name === "angles") this.angles(data);
    else if (name === "session") this.session(data);
    else if (name === "health") this.health(data);
    else if (name in this.counts) this.metric(name, data);
  }

  angles(data) {
    const values = SIDES.map((side) => {
      const v = data[`${side}_hip_ir_deg`];
      if (typeof v === "number") $(`ir-${side}`).textContent = rotation(v);
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
    $("session").textContent = `session ${data.session}` +
      (data.subject ? ` — subject ${data.subject}` : "") + ` — ${data.state}`;
    $("session").className = "";
    this.verdict(data.calibration_verdict || {});
    this.guide.session(data);
  }

  verdict(verdicts) {
    const entries = Object.entries(verdicts);
    const box = $("verdict");
    box.hidden = entries.length === 0;
    // live the verdict is good or doubtful and provisional: the batch analysis also judges
    // the knee axis' tilt, and only it refuses a leg
    const advice = entries.map(([, v]) => v.advice).find(Boolean);
    const provisional = entries.some(([, v]) => v.provisional);
    box.textContent = (provisional ? "calibration so far: " : "calibration: ") + entries.map(([side, v]) =>
      `${side} ${v.verdict}` + (v.reasons.length ? ` (${v.reasons.join(", ")})` : "")).join(", ") +
      (advice ? ` — ${advice}` : "");
    box.className = entries.every(([, v]) => v.verdict === "good") ? "ok" : "bad";
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
      `${ordinal(this.counts[kind])}, ${new Date(data.timestamp * 1000).toLocaleTimeString()}`;
    if (kind === "test") this.guide.trial(data);
    if (kind === "rep") this.guide.rep(data);
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

  // The recorder's segment state (retained): what is being labelled now.
  segment(data) {
    const open = data.open;
    $("segment-state").textContent = open
      ? `labelling: ${open.name.replace(/^\d+-/, "").replaceAll("-", " ")}` : "no segment open";
  }

  // A command from the manual controls: the labels chosen there.
  manual(op) {
    const labels = {};
    for (const key of ["activity", "side", "phase", "mode"]) {
      if ($(`c-${key}`).value) labels[key] = $(`c-${key}`).value;
    }
    const note = $("c-note").value.trim();
    const command = { op };
    if (op === "mark") { if (note) command.note = note; }
    else if (op !== "stop") { if (note) labels.note = note; command.labels = labels; }
    this.commander.send(command).catch(() => {});
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
