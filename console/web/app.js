// Twinline operator console: the dashboard served by twinline-console.
// Plain JavaScript and SVG, no framework and no CDN: the page is a few
// kilobytes, loads with the binary, and runs under the console's
// Content-Security-Policy (default-src 'self', no inline code). Every value
// from the API is put into the page as text (textContent), never as HTML.
"use strict";

const state = {
  key: sessionStorage.getItem("tl_key") || "",
  view: "live",
  queues: [],
  workers: [],
  alerts: [],
  waitingHistory: [], // [time ms, waiting] of the last minutes
  streamAbort: null,
};

// ---- small helpers --------------------------------------------------------

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function num(v) { return v === null || v === undefined ? "–" : String(v); }
function pm(v) { return v === null || v === undefined ? "–" : (v / 10).toFixed(1) + " %"; }
function dur(ms) {
  if (ms === null || ms === undefined) return "–";
  const s = Math.round(ms / 1000);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
  return Math.floor(s / 3600) + "h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + "m";
}
function money(minor) { return minor === null || minor === undefined ? "–" : (minor / 100).toFixed(2); }
function td(v, cls) { return el("td", cls ? { class: cls } : {}, v); }
function fill(tbody, rows) { tbody.replaceChildren(...rows); }

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(path, opts = {}) {
  const headers = { Authorization: "Bearer " + state.key };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method: opts.method || "GET", headers,
                                body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  if (opts.raw) {
    if (!r.ok) throw new ApiError(r.status, "http", "HTTP " + r.status);
    return r;
  }
  const j = await r.json();
  if (!j.ok) throw new ApiError(r.status, j.error.code, j.error.message);
  return j;
}

// ---- sign in and navigation ----------------------------------------------

async function signIn(key) {
  state.key = key.trim();
  try {
    const who = await api("/api/v1/whoami");
    if (who.kind !== "operator")
      throw new ApiError(403, "forbidden", "this is a bank's key; the console is for operators");
    sessionStorage.setItem("tl_key", state.key);
    $("who").textContent = "operator " + who.owner;
    $("login").hidden = true;
    $("nav").hidden = false;
    show("live");
    startStream();
    refreshWorkers();
    refreshAlerts();
    refreshCallups();
    setInterval(refreshWorkers, 10000);
    setInterval(refreshAlerts, 10000);
    setInterval(refreshCallups, 5000);
    loadPools();
  } catch (e) {
    sessionStorage.removeItem("tl_key");
    $("login-error").textContent = e.message;
  }
}

function show(view) {
  state.view = view;
  for (const s of document.querySelectorAll(".view")) s.hidden = s.id !== "view-" + view;
  for (const b of document.querySelectorAll("#nav button"))
    b.classList.toggle("on", b.dataset.view === view);
  if (view === "fairness") loadFairness();
  if (view === "billing") loadBilling();
  if (view === "forecast") fillQueueChoices();
  if (view === "intervals") loadIntervals();
}

// ---- live: Server-Sent Events over fetch (the key goes in a header) -------

async function startStream() {
  const badge = $("live-state");
  for (;;) {
    try {
      const r = await api("/api/v1/ops/stream", { raw: true });
      badge.textContent = "live";
      badge.className = "badge on";
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let ev = "message", data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) ev = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (data) onEvent(ev, JSON.parse(data));
        }
      }
    } catch (e) {
      if (e.status === 401) { sessionStorage.removeItem("tl_key"); location.reload(); return; }
    }
    badge.textContent = "reconnecting";
    badge.className = "badge off";
    await new Promise((res) => setTimeout(res, 3000));
  }
}

function onEvent(ev, msg) {
  $("updated").textContent = new Date(msg.at_ms || Date.now()).toLocaleTimeString();
  if (ev === "queues") {
    state.queues = msg.queues;
    const waiting = msg.queues.reduce((a, q) => a + q.waiting, 0);
    state.waitingHistory.push([msg.at_ms, waiting]);
    const cutoff = msg.at_ms - 15 * 60 * 1000;
    while (state.waitingHistory.length && state.waitingHistory[0][0] < cutoff) state.waitingHistory.shift();
    renderQueues();
  } else if (ev === "stats") {
    // The dispatcher's figures: fresher states and loads than the last
    // worker list.
    const byId = new Map(msg.workers.map((w) => [w.worker, w]));
    for (const w of state.workers) {
      const s = byId.get(w.id);
      if (s) { w.state = s.state; w.load = s.load; w.slots = s.slots;
               w.occupancy_permille = s.occupancy_permille; }
    }
    renderWorkers();
    // The current tasks change faster than the periodic list: fetch it
    // again with the figures, at most every two seconds.
    if (Date.now() - (state.workersAt || 0) > 2000) { refreshWorkers(); refreshCallups(); }
  } else if (ev === "alert") {
    refreshAlerts();
  }
}

function renderQueues() {
  const qs = state.queues;
  let waiting = 0, oldest = 0, offered = 0, handled = 0, inSl = 0, base = 0;
  const rows = qs.map((q) => {
    waiting += q.waiting;
    oldest = Math.max(oldest, q.oldest_wait_ms);
    offered += q.offered_today;
    handled += q.handled_today;
    if (q.sl_today_permille !== null) { inSl += q.sl_today_permille * (q.handled_today + q.expired_today); base += q.handled_today + q.expired_today; }
    const risk = q.breach_risk > 0 ? el("td", { class: "num risk" }, q.breach_risk) : td(0, "num");
    return el("tr", {}, td(q.pool), td(q.skill), td(q.channel), td(q.waiting, "num"),
              td(q.in_progress, "num"), td(dur(q.oldest_wait_ms), "num"),
              td(pm(q.sl_now_permille), "num"), td(pm(q.sl_today_permille), "num"),
              td(pm(q.target_permille) + " in " + q.threshold_s + " s", "num"), risk,
              td(q.online, "num"));
  });
  fill($("queues").tBodies[0], rows);
  $("kpi-waiting").textContent = waiting;
  $("kpi-oldest").textContent = dur(oldest);
  $("kpi-offered").textContent = offered;
  $("kpi-handled").textContent = handled;
  $("kpi-sl").textContent = base > 0 ? pm(Math.round(inSl / base)) : "–";
  drawChart($("chart-waiting"), [{ name: "waiting", color: "#2b6cb0",
    points: state.waitingHistory.map(([t, v]) => [t, v]) }], { time: true });
}

async function refreshWorkers() {
  try {
    state.workersAt = Date.now();
    state.workers = (await api("/api/v1/ops/workers")).workers;
    renderWorkers();
  } catch (e) { /* the next refresh tries again */ }
}

function renderWorkers() {
  let online = 0;
  const rows = state.workers.map((w) => {
    if (w.presence !== "offline") online++;
    const occ = el("span", { class: "bar" });
    occ.style.width = Math.min(60, Math.round((w.occupancy_permille || 0) * 60 / 1000)) + "px";
    const task = w.tasks.length ? w.tasks[0] : null;
    const prio = task ? el("button", { class: "raise", "data-task": String(task.task_id),
                                       onclick: () => raisePriority(task.task_id) }, "raise") : "";
    // A deactivated worker stays so whatever the live figures say of it.
    const st = w.active === false ? "deactivated" : w.state;
    const acts = el("td", { class: "actions" },
      w.active === false
        ? el("button", { class: "activate", onclick: () => workerAction(w.id, "activate") }, "activate")
        : el("button", { class: "deactivate", onclick: () => workerAction(w.id, "deactivate") }, "deactivate"),
      w.presence !== "offline"
        ? el("button", { class: "logout", onclick: () => workerAction(w.id, "logout") }, "log out") : null);
    return el("tr", { "data-worker": w.id }, td(w.id + " " + w.name), td(w.pool), td(w.kind),
              el("td", { class: "state state-" + st }, st), td(dur(w.in_state_s === null ? null : w.in_state_s * 1000), "num"),
              el("td", {}, el("span", { class: "barbox" }, occ), pm(w.occupancy_permille)),
              td(task ? "#" + task.task_id + " " + task.step + " (case " + task.case_id + ")" : "–"),
              td(w.tasks_today, "num"), td(pm(w.ai_share_permille), "num"), el("td", {}, prio), acts);
  });
  fill($("workers").tBodies[0], rows);
  $("kpi-online").textContent = online;
}

async function raisePriority(taskId) {
  const reason = window.prompt("Reason for raising task " + taskId + " to priority 9:");
  if (!reason) return;
  try {
    await api("/api/v1/ops/tasks/" + taskId + "/priority", { method: "POST", body: { priority: 9, reason } });
  } catch (e) { window.alert(e.message); }
}

// Deactivate, activate or log out a worker, with the reason the audit
// trail keeps; the list is read again so the page shows what the
// dispatcher did.
async function workerAction(workerId, verb) {
  const reason = window.prompt("Reason to " + (verb === "logout" ? "log out" : verb) + " worker " + workerId + ":");
  if (!reason) return;
  try {
    await api("/api/v1/ops/workers/" + encodeURIComponent(workerId) + "/" + verb, { method: "POST", body: { reason } });
  } catch (e) { window.alert(e.message); }
  await refreshWorkers();
}

// The elastic call-ups: who was invited and why, the answer, the release.
async function refreshCallups() {
  let list;
  try {
    list = (await api("/api/v1/ops/callups?limit=20")).callups;
  } catch (e) { return; }
  const t = (v) => v ? new Date(v).toLocaleTimeString() : "";
  fill($("callups"), list.map((c) =>
    el("li", { class: "callup callup-" + c.state, "data-callup": String(c.id) },
       c.worker + " " + c.state + " (pool " + c.pool + ", " + c.skill + "): invited " + t(c.invited_at) +
       (c.answered_at ? ", answered " + t(c.answered_at) : "") +
       (c.released_at ? ", released " + t(c.released_at) + ": " + c.release_reason : "") +
       " — " + c.reason)));
}

async function refreshAlerts() {
  try {
    state.alerts = (await api("/api/v1/ops/alerts")).alerts;
  } catch (e) { return; }
  const open = state.alerts.filter((a) => a.open);
  $("kpi-alerts").textContent = open.length;
  fill($("alerts"), state.alerts.map((a) =>
    el("li", { class: a.open ? "" : "closed" },
       a.kind.replaceAll("_", " ") + ": " + a.subject + " " + JSON.stringify(a.details) +
       " since " + new Date(a.opened_at).toLocaleTimeString())));
}

// ---- charts (SVG) ---------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// series: [{name, color, points: [[x, y]], bars?: true}]
function drawChart(box, series, opts = {}) {
  const W = 900, H = 220, L = 48, R = 10, T = 10, B = 28;
  const pts = series.flatMap((s) => s.points).filter((p) => p[1] !== null && isFinite(p[1]));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img" });
  if (pts.length === 0) {
    const t = svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#6b7586" });
    t.textContent = "no data yet";
    root.append(t);
    box.replaceChildren(root);
    return;
  }
  let x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  if (x1 === x0) x1 = x0 + 1;
  const y1 = Math.max(1, ...pts.map((p) => p[1])) * 1.1;
  const X = (x) => L + (x - x0) / (x1 - x0) * (W - L - R);
  const Y = (y) => T + (1 - y / y1) * (H - T - B);
  root.append(svg("line", { x1: L, y1: Y(0), x2: W - R, y2: Y(0), stroke: "#dde2ea" }));
  for (let i = 0; i <= 4; i++) {
    const v = y1 * i / 4;
    const t = svg("text", { x: L - 4, y: Y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#6b7586" });
    t.textContent = v >= 10 ? Math.round(v) : v.toFixed(1);
    root.append(t, svg("line", { x1: L, y1: Y(v), x2: W - R, y2: Y(v), stroke: "#eef1f5" }));
  }
  for (let i = 0; i <= 4; i++) {
    const x = x0 + (x1 - x0) * i / 4;
    const t = svg("text", { x: X(x), y: H - 8, "text-anchor": "middle", "font-size": 11, fill: "#6b7586" });
    t.textContent = opts.time ? new Date(x).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
                              : (opts.labels ? opts.labels(x) : Math.round(x));
    root.append(t);
  }
  for (const s of series) {
    const p = s.points.filter((q) => q[1] !== null && isFinite(q[1]));
    if (s.bars) {
      const w = Math.max(1, (W - L - R) / Math.max(1, s.points.length) * 0.8);
      for (const [x, y] of p)
        root.append(svg("rect", { x: X(x) - w / 2, y: Y(y), width: w, height: Math.max(0, Y(0) - Y(y)), fill: s.color, opacity: 0.7 }));
    } else if (p.length) {
      root.append(svg("polyline", { points: p.map(([x, y]) => X(x) + "," + Y(y)).join(" "),
                                     fill: "none", stroke: s.color, "stroke-width": 2,
                                     "stroke-dasharray": s.dashed ? "5,4" : "none" }));
    }
  }
  const legend = el("div", { class: "legend" },
    ...series.map((s) => { const sw = el("span", {}, "■ "); sw.style.color = s.color; return el("span", {}, sw, s.name + "   "); }));
  box.replaceChildren(root, legend);
}

// ---- case timeline --------------------------------------------------------

async function showCase(id) {
  $("case-error").textContent = "";
  const out = $("case-out");
  try {
    const c = (await api("/api/v1/ops/cases/" + encodeURIComponent(id))).case;
    const parts = [el("h2", {}, "Case " + c.id + " · " + c.tenant + " " + c.external_id + " · " + c.case_type +
                             " · " + c.state + (c.cancel_reason ? " (" + c.cancel_reason + ")" : ""))];
    for (const t of c.tasks) {
      const box = el("div", { class: "task" },
        el("h3", {}, "Task " + t.id + " · step " + t.step + " · " + t.state + (t.worker ? " · " + t.worker : "")),
        el("div", { class: "muted" }, "ready " + (t.ready_at || "–") + " · accepted " + (t.assigned_at || "–") +
                                     " · finished " + (t.completed_at || "–") + " · SLA due " + (t.sla_due_at || "–")));
      for (const r of t.reservations) {
        const d = r.decision;
        box.append(el("div", {}, "Offer " + r.id + " to " + r.worker + " (epoch " + r.epoch + "): " + r.state +
                                  (r.reason ? " – " + r.reason : "") +
                                  (d ? " · rule " + d.rule + ", ring " + d.ring + ", waited " + dur(d.waited_ms) +
                                       ", " + d.examined + " examined" : "")));
        if (d && d.candidates.length) {
          const keys = Object.keys(d.candidates[0]);
          box.append(el("table", { class: "cands" },
            el("thead", {}, el("tr", {}, ...keys.map((k) => el("th", {}, k)))),
            el("tbody", {}, ...d.candidates.map((cd) => el("tr", {}, ...keys.map((k) => td(typeof cd[k] === "object" ? JSON.stringify(cd[k]) : cd[k])))))));
        }
      }
      if (t.outcome)
        box.append(el("div", {}, "Outcome " + t.outcome.code + " " + JSON.stringify(t.outcome.fields) +
                                  (t.outcome.review ? " · review " + t.outcome.review : "") +
                                  (t.outcome.billable ? " · billable" : "")));
      parts.push(box);
    }
    for (const d of c.disputes) parts.push(el("div", { class: "task" }, d.kind + ": " + d.reason + " (" + d.created_at + ")"));
    out.replaceChildren(...parts);
  } catch (e) {
    out.replaceChildren();
    $("case-error").textContent = e.message;
  }
}

// ---- intervals ------------------------------------------------------------

async function loadPools() {
  try {
    const pools = (await api("/api/v1/ops/pools")).pools;
    const sel = $("iv-pool");
    for (const p of pools) sel.append(el("option", { value: p.id }, p.id + " – " + p.name));
  } catch (e) { /* shown on use */ }
}

function intervalQuery(format) {
  const q = new URLSearchParams();
  if ($("iv-pool").value) q.set("pool", $("iv-pool").value);
  if ($("iv-from").value) q.set("from", $("iv-from").value);
  if ($("iv-to").value) q.set("to", $("iv-to").value);
  if (format) q.set("format", format);
  return "/api/v1/ops/intervals?" + q.toString();
}

async function loadIntervals() {
  $("iv-error").textContent = "";
  try {
    const rows = (await api(intervalQuery())).intervals;
    fill($("intervals").tBodies[0], rows.map((r) => el("tr", {},
      td(r.interval_start), td(r.pool), td(r.skill), td(r.channel), td(r.offered, "num"), td(r.accepted, "num"),
      td(r.handled, "num"), td(r.expired, "num"), td(dur(r.wait_avg_ms), "num"), td(dur(r.wait_p90_ms), "num"),
      td(pm(r.sl_permille), "num"), td(dur(r.aht_ms), "num"), td(pm(r.occupancy_permille), "num"), td(num(r.online_avg), "num"))));
    const by = new Map();
    for (const r of rows) {
      const t = Date.parse(r.interval_start);
      const a = by.get(t) || { offered: 0, handled: 0 };
      a.offered += r.offered; a.handled += r.handled;
      by.set(t, a);
    }
    const ts = [...by.keys()].sort((a, b) => a - b);
    drawChart($("chart-intervals"), [
      { name: "offered", color: "#2b6cb0", bars: true, points: ts.map((t) => [t, by.get(t).offered]) },
      { name: "handled", color: "#1f8a4c", points: ts.map((t) => [t, by.get(t).handled]) },
    ], { time: true });
  } catch (e) { $("iv-error").textContent = e.message; }
}

async function exportCsv() {
  try {
    const r = await api(intervalQuery("csv"), { raw: true });
    const url = URL.createObjectURL(await r.blob());
    const a = el("a", { href: url, download: "intervals.csv" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) { $("iv-error").textContent = e.message; }
}

// ---- forecast and staffing ------------------------------------------------

function fillQueueChoices() {
  const sel = $("fc-queue");
  const have = new Set([...sel.options].map((o) => o.value));
  for (const q of state.queues) {
    const v = q.pool + "/" + q.skill + "/" + q.channel;
    if (!have.has(v)) sel.append(el("option", { value: v }, v));
  }
}

async function loadForecast() {
  $("fc-error").textContent = "";
  const [pool, skill, channel] = ($("fc-queue").value || "//").split("/");
  try {
    const p = (await api("/api/v1/ops/forecast?" + new URLSearchParams({ pool, skill, channel }))).plan;
    const m = p.arrivals_model;
    $("fc-info").textContent = "Model " + p.settings.model + ", target " + (p.settings.target_service_level * 100).toFixed(0) +
      " % in " + p.settings.threshold_s + " s; arrivals by " + m.method + " (" + m.note + "); past error one step WAPE " +
      num(m.one_step.wape) + " %, day ahead WAPE " + num(m.day_ahead.wape) + " %. Online now: " + p.settings.online_now + ".";
    const h = p.history.map((x) => [x.t * 1000, x.arrivals]);
    const f = p.forecast.map((x) => [x.t * 1000, x.arrivals]);
    drawChart($("chart-arrivals"), [
      { name: "arrivals (history)", color: "#2b6cb0", points: h },
      { name: "forecast", color: "#b7791f", dashed: true, points: f },
    ], { time: true });
    drawChart($("chart-staff"), [
      { name: "required (history)", color: "#c53030", points: p.history.map((x) => [x.t * 1000, x.required]) },
      { name: "online", color: "#1f8a4c", points: p.history.map((x) => [x.t * 1000, x.online]) },
      { name: "required (forecast)", color: "#c53030", dashed: true, points: p.forecast.map((x) => [x.t * 1000, x.required]) },
    ], { time: true });
  } catch (e) { $("fc-error").textContent = e.message; }
}

// ---- fairness, AI review, billing -----------------------------------------

async function loadFairness() {
  try {
    const f = (await api("/api/v1/ops/fairness")).fairness;
    $("kpi-gini").textContent = f.gini_permille === null ? "–" : (f.gini_permille / 1000).toFixed(3);
    $("kpi-cph").textContent = num(f.cph_mean);
    $("kpi-cv").textContent = pm(f.cph_cv_permille);
    const ws = f.workers.slice().sort((a, b) => a.earned_per_hour_minor - b.earned_per_hour_minor);
    drawChart($("chart-earnings"), [{ name: "earned per online hour (minor units)", color: "#2b6cb0", bars: true,
      points: ws.map((w, i) => [i, w.earned_per_hour_minor]) }], { labels: (x) => (ws[Math.round(x)] || {}).worker || "" });
    const a = (await api("/api/v1/ops/ai-review")).ai_review;
    $("kpi-ai-n").textContent = a.outcomes;
    $("kpi-ai-alone").textContent = a.alone + " (" + pm(a.alone_permille) + ")";
    $("kpi-ai-rev").textContent = a.reviewed;
    $("kpi-ai-over").textContent = a.overturned + " (" + pm(a.overturned_permille) + ")";
  } catch (e) { /* shown empty */ }
}

async function loadBilling() {
  try {
    const b = (await api("/api/v1/ops/billing")).billing;
    fill($("billing").tBodies[0], b.map((r) => el("tr", {}, td(r.tenant), td(r.currency), td(r.outcomes, "num"),
      td(money(r.amount_minor), "num"), td(money(r.pending_minor), "num"), td(money(r.verified_minor), "num"),
      td(money(r.reversed_minor), "num"), td(money(r.operator_share_minor), "num"))));
    const s = (await api("/api/v1/ops/statement")).statement;
    fill($("statement").tBodies[0], s.map((r) => el("tr", {}, td(r.currency), td(money(r.opening_minor), "num"),
      td(money(r.shares_minor), "num"), td(money(r.deductions_minor), "num"), td(money(r.closing_minor), "num"),
      td(r.entries, "num"))));
    const inv = (await api("/api/v1/ops/invoices")).invoices;
    fill($("invoices").tBodies[0], inv.map((r) => el("tr", {}, td(r.number), td(r.kind), td(r.tenant), td(r.period),
      td(r.currency), td(money(r.total_minor), "num"), td(r.operator_lines, "num"), td(money(r.operator_amount_minor), "num"))));
  } catch (e) { /* shown empty */ }
}

// ---- wiring ---------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (ev) => { ev.preventDefault(); signIn($("key").value); });
  for (const b of document.querySelectorAll("#nav button")) b.addEventListener("click", () => show(b.dataset.view));
  $("case-form").addEventListener("submit", (ev) => { ev.preventDefault(); showCase($("case-id").value); });
  $("iv-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadIntervals(); });
  $("iv-csv").addEventListener("click", exportCsv);
  $("fc-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadForecast(); });
  if (state.key) signIn(state.key);
});
