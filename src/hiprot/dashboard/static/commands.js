// Segment commands from the page: published on <base>/cmd over the page's own MQTT connection
// (the credentials the person typed into the page; the dashboard server never hands any out),
// answered on <base>/cmd/result. As `hiprot command` does (src/hiprot/mqtt/commands.py): QoS 1,
// the same command re-sent with the same id every RESEND_MS until a result with that id comes
// back, given up after GIVE_UP_MS — then the page says it is not known to have applied and
// offers to send the same id again (a command applies once however often it is sent).
"use strict";

const RESEND_MS = 2000;   // hiprot.mqtt.commands.RESEND_S
const GIVE_UP_MS = 10000; // `hiprot command --timeout` default

class Commander {
  constructor(cfg, onChange) {
    this.cfg = cfg;
    this.client = null;
    this.pending = new Map();  // id → {command, resolve, reject, timer, deadline}
    this.onChange = onChange;  // (text, cls) for the status line
  }

  attach(client) { this.client = client; }

  newId() {
    const bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Send {op, labels?, note?} (or a command with an id, to re-send it); resolves with the result.
  send(command) {
    const full = { id: command.id || this.newId(), ...command, device: this.cfg.device_id };
    return new Promise((resolve, reject) => {
      const entry = { command: full, resolve, reject, deadline: Date.now() + GIVE_UP_MS };
      this.pending.set(full.id, entry);
      this.onChange(`${describe(full)}: sending…`, "unknown");
      this.publish(full);
      entry.timer = setInterval(() => this.tick(full.id), RESEND_MS);
    });
  }

  publish(command) {
    if (this.client && this.client.connected) {
      this.client.publish(`${this.cfg.base}/cmd`, JSON.stringify(command), { qos: 1 });
    }
  }

  tick(id) {
    const entry = this.pending.get(id);
    if (!entry) return;
    if (Date.now() >= entry.deadline) {
      clearInterval(entry.timer);
      this.pending.delete(id);
      this.lost = entry.command;
      this.onChange(`${describe(entry.command)}: no answer from the device — not known to ` +
        "have applied; tap “send again” (it applies once however often it is sent)", "bad", true);
      entry.reject(new Error("not acknowledged"));
      return;
    }
    this.publish(entry.command);  // the same id: a repeat changes nothing on the device
  }

  // A message on <base>/cmd/result: settles the command with that id (others' results pass by).
  result(data) {
    const entry = this.pending.get(data.id);
    if (!entry) return;
    clearInterval(entry.timer);
    this.pending.delete(data.id);
    const ok = data.status === "ok" || data.status === "duplicate";
    this.onChange(`${describe(entry.command)}: ${ok ? "done" : data.status + " — " + (data.reason || "")}`,
      ok ? "ok" : "bad");
    if (ok) entry.resolve(data); else entry.reject(new Error(data.reason || data.status));
  }
}

// A command in words: "start seated test, before", "marker".
function describe(command) {
  if (command.op === "mark") return "marker";
  const labels = command.labels || {};
  const words = [labels.activity, labels.side, labels.phase, labels.mode].filter(Boolean);
  const name = { start: "start", stop: "stop", label: "label" }[command.op] || command.op;
  return [name, words.join(", ").replaceAll("-", " ")].filter(Boolean).join(" ");
}
