// The guided session on the dashboard: calibration → seated test (trial by trial, per leg) →
// exercises → re-test → the before/after verdict, a dated history and a printable report.
// Every step that records something labels a segment of the running recording through the
// command topic (commands.js); the steps advance on what the device publishes (the session's
// calibration state, the `test` and `rep` metrics), not on clocks. docs/dashboard.md.
"use strict";

const LEGS = ["left", "right"];  // the order the legs are tested in (the simulator's too)
const LEG_NAME = { left: "Left", right: "Right" };
const STILL_S = 3;  // the standing calibration asked for (config: [simulation] still_s minimum)
const BENDS_S = 15;  // six knee bends at 1.2 s down and 1.2 s up, and a breath between
// Student t, 97.5 % quantile, by degrees of freedom (any statistics table): the trial-to-trial
// bound of hiprot.analysis.rotation_tests.detectable_change, for up to 30 degrees of freedom.
const T975 = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201,
  2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06,
  2.056, 2.052, 2.048, 2.045, 2.042];

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};
const deg = (v) => (typeof v === "number" && isFinite(v) ? `${v.toFixed(1)}°` : "–");
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

// A trial's flags in words (the `test` card's); "not measured" compensation is said once under
// the table, not on every row.
function trialFlags(t) {
  const out = [];
  if (t.compensated === true) out.push(`pelvis tilted ${(+t.pelvic_compensation_deg).toFixed(1)}°`);
  if (t.protocol_ok === false) out.push("off posture");
  return out;
}
const unmeasured = (t) => t.compensated === null || t.compensated === undefined;

// Per leg: IR and ER over one test's trials; null values (a hip that did not get there) are
// left out. A compensated trial counts, as in compare: its figure is pelvis → femur, which the
// pelvis' tilt does not enter (the trial table flags it).
function legSummary(trials) {
  const values = (key) => trials.map((t) => t[key]).filter((v) => typeof v === "number");
  const out = {};
  for (const [name, key] of [["ir", "hip_ir_max_deg"], ["er", "hip_er_max_deg"]]) {
    const xs = values(key);
    out[name] = { n: xs.length, best: xs.length ? Math.max(...xs) : null,
      mean: xs.length ? mean(xs) : null, sd: xs.length > 1 ? sd(xs) : null };
  }
  return out;
}

// The change of a leg's mean peak between two tests, and whether it is detectable: larger than
// both the published between-session MDC95 (config: mdc_deg, Krause et al. 2015) and the
// trial-to-trial spread at 95 % (pooled t), never under min_detectable_deg (docs/change.md).
function change(before, after, cfg) {
  if (before.mean === null || after.mean === null) return null;
  const diff = after.mean - before.mean;
  let within = null;
  if (before.n > 1 && after.n > 1) {
    const dof = before.n + after.n - 2;
    const pooled = Math.sqrt(((before.n - 1) * before.sd ** 2 + (after.n - 1) * after.sd ** 2) / dof);
    within = T975[Math.min(dof, 30)] * pooled * Math.sqrt(1 / before.n + 1 / after.n);
  }
  const bound = Math.max(cfg.mdc_deg, within ?? 0, cfg.min_detectable_deg);
  const word = diff > bound ? "improved" : diff < -bound ? "worse" : "no detectable change";
  return { diff, bound, word };
}

class Guide {
  constructor(cfg, commander) {
    this.cfg = cfg;
    this.commander = commander;
    this.calibration = {};
    this.sides = LEGS.slice();
    this.tests = {};  // test name (before, repeat, after) → side → trials
    this.reps = {};
    this.current = null;  // the test being run
    this.historyKey = `hiprot-history-${cfg.device_id}`;
    this.history = JSON.parse(localStorage.getItem(this.historyKey) || "[]");
    this.historyChart = null;
    $("report-open").addEventListener("click", () => this.report());
    $("report-print").addEventListener("click", () => window.print());
    $("report-close").addEventListener("click", () => { $("report").hidden = true; });
    this.show("welcome");
    this.drawHistory();
  }

  // --- what the device says -------------------------------------------------------------
  session(data) {
    if (Array.isArray(data.sides)) this.sides = LEGS.filter((s) => data.sides.includes(s));
    this.calibration = data.calibration || {};
    if (this.step === "calibrate") this.calibrating();
  }

  trial(data) {
    if (!this.current || data.test === undefined) return;
    const legs = this.tests[this.current];
    if (!legs[data.side]) return;
    if (legs[data.side].some((t) => t.trial === data.trial)) return;  // re-delivered (QoS 1)
    legs[data.side].push(data);
    this.drawTrials(this.current);
    this.testing();
  }

  rep(data) {
    if (this.step !== "exercise" || !this.reps[data.side]) return;
    if (this.reps[data.side].some((r) => r.index === data.index)) return;
    this.reps[data.side].push(data);
    this.exercising();
  }

  // --- the steps ------------------------------------------------------------------------
  show(step, prompt = "", actions = [], progress = null) {
    this.step = step;
    $("guide").dataset.step = step;
    if (step !== "test") delete $("guide").dataset.leg;
    $("guide-prompt").textContent = prompt;
    $("guide-progress").hidden = progress === null;
    if (progress !== null) $("guide-progress").value = progress;
    $("guide-actions").replaceChildren(...actions.map(([id, text, run]) => {
      const button = el("button", { type: "button", id, textContent: text });
      button.addEventListener("click", run);
      return button;
    }));
    $("guide-steps").querySelectorAll("li").forEach((li) => {
      li.className = li.dataset.steps.split(" ").includes(step) ? "now" : "";
    });
  }

  welcome() {
    this.show("welcome", "Put the sensors on (thigh and shank of each leg), then tap start.",
      [["go-calibrate", "Start", () => this.calibrate()]]);
  }

  calibrate() {
    this.calibrateSince = performance.now();
    this.show("calibrate", `Stand still, feet forward — ${STILL_S} s`, [], 0);
    clearInterval(this.calTimer);
    this.calTimer = setInterval(() => this.calibrating(), 100);
    this.calibrating();
  }

  calibrating() {
    if (this.step !== "calibrate") return;
    const done = this.sides.length && this.sides.every((s) => this.calibration[s] === "calibrated");
    if (done) {
      clearInterval(this.calTimer);
      this.show("calibrated", "Calibrated ✓ Now sit on the edge of a table, thighs supported, " +
        "knees at 90°, feet hanging free.", [["go-test", "Start the test", () => this.test("before")]]);
      return;
    }
    // The bar: the standing half in STILL_S, then the knee bends (the live calibration wants
    // LIVE_MIN_MOVING_S = 5 s of movement, about six bends) — never full before it succeeded.
    const elapsed = (performance.now() - this.calibrateSince) / 1000;
    if (elapsed < STILL_S) {
      const left = Math.ceil(STILL_S - elapsed);
      this.show("calibrate", `Stand still, feet forward — ${left} s`, [], 0.5 * elapsed / STILL_S);
    } else {
      const bends = Math.min(0.45, 0.45 * (elapsed - STILL_S) / BENDS_S);
      this.show("calibrate", "Now bend both knees, feet planted, down and up, until this bar " +
        "is full (about six times); then stand still.", [], 0.5 + bends);
    }
  }

  async test(name) {
    this.current = name;
    this.tests[name] = Object.fromEntries(this.sides.map((s) => [s, []]));
    this.drawTrials(name);
    const phase = name === "after" ? "after" : "before";
    const labels = { activity: "seated-test", phase, mode: "active" };
    if (name === "repeat") labels.note = "same-day repeat";
    this.show("test", "Starting the test…");
    try {
      await this.commander.send({ op: "start", labels });
    } catch {
      this.show("test", "The test could not be started.", [["go-retry", "Try again", () => this.test(name)]]);
      return;
    }
    this.testing();
  }

  testing() {
    if (this.step !== "test") return;
    const legs = this.tests[this.current];
    const n = this.cfg.trials;
    const side = this.sides.find((s) => legs[s].length < n);
    if (side === undefined) { this.testDone(); return; }
    const k = legs[side].length + 1;
    const last = Object.values(legs).flat().sort((a, b) => a.end_s - b.end_s).at(-1);
    const advice = [];
    if (last && last.protocol_ok === false) advice.push("Last trial was off the posture: sit upright, hip and knee at 90°.");
    if (last && last.compensated === true) advice.push("The pelvis tilted: keep both sit bones on the table.");
    const done = this.sides.reduce((a, s) => a + Math.min(legs[s].length, n), 0);
    this.show("test", `${LEG_NAME[side]} leg, trial ${k} of ${n}: let the foot swing out … hold … ` +
      `back; now in … hold … back.${advice.length ? " " + advice.join(" ") : ""}`,
      [], done / (n * this.sides.length));
    $("guide").dataset.leg = side;
  }

  async testDone() {
    this.show("test", "Test done — saving…", [], 1);
    await this.commander.send({ op: "stop" }).catch(() => {});
    if (this.current === "after") { this.verdict(); return; }
    this.show("tested", "Test done. Next: the exercises. (Or repeat the test now, to see how " +
      "much the same test varies for you.)", [
      ["go-exercise", "Start the exercises", () => this.exercise()],
      ["go-repeat", "Repeat the test", () => this.test("repeat")],
    ]);
  }

  async exercise() {
    this.reps = Object.fromEntries(this.sides.map((s) => [s, []]));
    this.show("exercise", "Starting the exercises…");
    await this.commander.send({ op: "start", labels: { activity: "exercise" } }).catch(() => {});
    this.exercising();
  }

  exercising() {
    if (this.step !== "exercise") return;
    const n = this.cfg.reps;
    // the target: 80 % of the leg's best internal rotation in the test (the simulator's default
    // exercise range; a physio sets their own)
    const counts = this.sides.map((s) => {
      const last = this.reps[s].at(-1);
      const best = this.tests.before ? legSummary(this.tests.before[s]).ir.best : null;
      const target = best !== null ? `, target ${Math.round(0.8 * best)}°` : "";
      return `${LEG_NAME[s]}: ${this.reps[s].length} of ${n}${target}` +
        (last ? ` (last ${deg(last.hip_ir_max_deg)})` : "");
    });
    const done = this.sides.reduce((a, s) => a + Math.min(this.reps[s].length, n), 0);
    this.show("exercise", "Stand on one leg, the other hip and knee at 90°: turn the foot outward " +
      `and back, ${n} times per leg. ${counts.join(" · ")}`,
      [["go-exercised", "Exercises done", () => this.exercised()]], done / (n * this.sides.length));
  }

  async exercised() {
    await this.commander.send({ op: "stop" }).catch(() => {});
    this.show("exercised", "Now the re-test: sit on the edge of the table again, thighs " +
      "supported, knees at 90°.", [["go-retest", "Start the re-test", () => this.test("after")]]);
  }

  verdict() {
    const before = this.tests.before, after = this.tests.after;
    const rows = [];
    const entry = { date: new Date().toISOString(), legs: {} };
    for (const side of this.sides) {
      const b = legSummary(before[side]), a = legSummary(after[side]);
      const ir = change(b.ir, a.ir, this.cfg), er = change(b.er, a.er, this.cfg);
      entry.legs[side] = { ir_before: b.ir.mean, ir_after: a.ir.mean, er_before: b.er.mean,
        er_after: a.er.mean, ir: ir?.word ?? null, er: er?.word ?? null };
      for (const [name, c, x, y] of [["internal rotation", ir, b.ir, a.ir], ["external rotation", er, b.er, a.er]]) {
        rows.push(el("tr", { class: `leg-${side}`, "data-side": side },
          el("th", { textContent: `${LEG_NAME[side]} ${name}` }),
          el("td", { textContent: `${deg(x.mean)} → ${deg(y.mean)}` }),
          el("td", { class: c ? c.word.replaceAll(" ", "-") : "muted",
            textContent: c ? `${c.diff >= 0 ? "+" : "−"}${Math.abs(c.diff).toFixed(1)}°: ${c.word} (±${c.bound.toFixed(1)}°)` : "not enough trials" })));
      }
    }
    $("verdict-table").replaceChildren(el("tbody", {}, ...rows));
    $("verdict-box").hidden = false;
    this.history.push(entry);
    localStorage.setItem(this.historyKey, JSON.stringify(this.history.slice(-200)));
    this.drawHistory();
    this.show("verdict", "Before and after, mean of the trials (a change counts when it is larger " +
      "than the test's own error).", [
      ["go-report", "Report", () => this.report()],
      ["go-again", "New session", () => this.calibrate()],
    ]);
  }

  // --- tables, history, report ----------------------------------------------------------
  trialTable(name) {
    const legs = this.tests[name];
    const body = el("tbody");
    for (const side of this.sides) {
      const trials = legs[side];
      for (let k = 1; k <= this.cfg.trials; k++) {
        const t = trials.find((x) => x.trial === k) || trials[k - 1];
        const flags = t ? trialFlags(t) : [];
        body.append(el("tr", { class: `leg-${side}${t ? "" : " waiting"}`, "data-side": side, "data-trial": k },
          el("th", { textContent: k === 1 ? LEG_NAME[side] : "" }),
          el("td", { textContent: `${k}` }),
          el("td", { class: "num", textContent: t ? deg(t.hip_ir_max_deg) : "…" }),
          el("td", { class: "num", textContent: t ? deg(t.hip_er_max_deg) : "…" }),
          el("td", { class: "flag", textContent: flags.join(", ") })));
      }
      const s = legSummary(trials);
      for (const [what, key] of [["best", "best"], ["mean", "mean"]]) {
        body.append(el("tr", { class: `leg-${side} summary`, "data-side": side, "data-row": what },
          el("th", {}), el("td", { textContent: what }),
          el("td", { class: "num", textContent: deg(s.ir[key]) }),
          el("td", { class: "num", textContent: deg(s.er[key]) }), el("td")));
      }
    }
    const head = el("thead", {}, el("tr", {}, ...["leg", "trial", "internal", "external", "flags"]
      .map((h) => el("th", { textContent: h }))));
    const table = el("table", { class: "trials" }, head, body);
    const trials = Object.values(legs).flat();
    if (!trials.length || !trials.every(unmeasured)) return table;
    return el("div", {}, table, el("p", { class: "muted note",
      textContent: "No pelvis sensor: a pelvis that tilts with the leg (compensation) cannot be excluded." }));
  }

  drawTrials(name) {
    const title = { before: "Test", repeat: "Repeated test", after: "Re-test" }[name];
    $("trials-title").textContent = `${title} — peak rotation per trial`;
    $("trials").replaceChildren(this.trialTable(name));
    $("trials-card").hidden = false;
  }

  historyPoints() {
    const xs = [], series = Object.fromEntries(LEGS.map((s) => [s, []]));
    for (const entry of this.history) {
      xs.push(Date.parse(entry.date) / 1000);
      for (const side of LEGS) series[side].push(entry.legs[side]?.ir_after ?? null);
    }
    return [xs, series.right, series.left];
  }

  drawHistory() {
    const list = $("history-list");
    list.replaceChildren(...this.history.slice(-10).reverse().map((h) => el("li", {},
      `${new Date(h.date).toLocaleDateString()} ${new Date(h.date).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}: ` +
      Object.entries(h.legs).map(([s, l]) => `${s} IR ${deg(l.ir_before)} → ${deg(l.ir_after)} (${l.ir ?? "–"})`).join("; "))));
    $("history-card").hidden = this.history.length === 0;
    if (!this.history.length) return;
    const data = this.historyPoints();
    const opts = {
      width: Math.max(280, $("history-chart").clientWidth), height: 180,
      legend: { show: false },  // the colours are named in the static legend under the chart
      cursor: { show: false },
      series: [{}, { stroke: "#d9480f", width: 2, points: { size: 7 } },
        { stroke: "#1c7ed6", width: 2, points: { size: 7 } }],
      axes: [{}, { label: "internal rotation after (°)" }],
    };
    if (this.historyChart) this.historyChart.destroy();
    this.historyChart = new uPlot(opts, data, $("history-chart"));
  }

  report() {
    const when = new Date();
    const parts = [el("h1", { textContent: `Hip rotation — ${this.cfg.device_id}` }),
      el("p", { textContent: `${when.toLocaleDateString()} ${when.toLocaleTimeString()} · seated test, ` +
        "active · peak rotation in degrees from the trial's start (shank vertical)" })];
    for (const name of ["before", "repeat", "after"]) {
      if (!this.tests[name]) continue;
      parts.push(el("h2", { textContent: { before: "Test", repeat: "Repeated test", after: "Re-test after the exercises" }[name] }),
        this.trialTable(name));
    }
    if (!$("verdict-box").hidden) {
      parts.push(el("h2", { textContent: "Before and after" }), $("verdict-table").cloneNode(true));
    }
    if (this.history.length) {
      parts.push(el("h2", { textContent: "History" }), el("ul", {}, ...this.history.slice(-12).map((h) =>
        el("li", { textContent: `${new Date(h.date).toLocaleDateString()}: ` + Object.entries(h.legs)
          .map(([s, l]) => `${s} internal ${deg(l.ir_before)} → ${deg(l.ir_after)}, external ` +
            `${deg(l.er_before)} → ${deg(l.er_after)}`).join("; ") }))));
    }
    $("report-body").replaceChildren(...parts);
    $("report").hidden = false;
    $("report").scrollIntoView();
  }
}
