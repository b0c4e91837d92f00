// The dashboard in real headless Chromium (Debian's /usr/bin/chromium),
// driven by playwright-core, as an operator uses it: sign in with a key,
// see the live stream connect, see a live figure change while cases flow,
// read a case's timeline with its routing decisions, export the interval
// history as CSV, raise a task's priority from the workers table, and
// deactivate a worker and see its state change.
//
//   node dashboard.mjs URL OPERATOR_KEY CASE_ID [SCREENSHOT.png]
//
// Exit status 0 when every step worked; otherwise 1 with the step that
// failed. itest_console_browser.c runs it while cases flow.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [url, key, caseId, shot] = process.argv.slice(2);
if (!url || !key || !caseId) {
  console.error("usage: node dashboard.mjs URL OPERATOR_KEY CASE_ID [SCREENSHOT.png]");
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), "tl-chromium-"));
let context;
let step = "launch Chromium";

function say(msg) { console.log("dashboard: " + msg); }

async function number(page, sel) {
  const t = (await page.textContent(sel)) || "";
  return /^\d+$/.test(t.trim()) ? Number(t.trim()) : null;
}

try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.TL_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    acceptDownloads: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
    timeout: 60000,
  });
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });

  step = "load the page";
  await page.goto(url, { waitUntil: "load" });
  if (!(await page.isVisible("#login"))) throw new Error("no sign-in form");

  step = "refuse a wrong key";
  await page.fill("#key", "tlk_0000000000000000_" + "A".repeat(43));
  await page.click("#login-btn");
  await page.waitForFunction(() => document.getElementById("login-error").textContent.length > 0);
  say("a wrong key is refused: " + (await page.textContent("#login-error")));

  step = "sign in";
  problems.length = 0; // the refused key's 401 was meant
  await page.fill("#key", key);
  await page.click("#login-btn");
  await page.waitForSelector("#nav", { state: "visible", timeout: 10000 });

  step = "connect the live stream";
  await page.waitForFunction(() => document.getElementById("live-state").textContent === "live",
                             null, { timeout: 20000 });
  await page.waitForFunction(() => /^\d+$/.test(document.getElementById("kpi-offered").textContent),
                             null, { timeout: 20000 });
  const first = await number(page, "#kpi-offered");
  say("live; offered today " + first);

  step = "see a live figure change";
  await page.waitForFunction((n) => Number(document.getElementById("kpi-offered").textContent) > n,
                             first, { timeout: 60000 });
  const second = await number(page, "#kpi-offered");
  say("offered today went from " + first + " to " + second + " without a reload");
  await page.waitForFunction(() => document.querySelectorAll("#queues tbody tr").length > 0,
                             null, { timeout: 20000 });
  await page.waitForFunction(() => document.querySelectorAll("#workers tbody tr").length > 0,
                             null, { timeout: 20000 });
  say("queues: " + (await page.$$("#queues tbody tr")).length + " rows, workers: " +
      (await page.$$("#workers tbody tr")).length + " rows");

  step = "raise a task's priority from the workers table";
  // A task may finish between the list and the click (the dispatcher then
  // refuses it, as it should): an operator would try another one, so each
  // attempt waits for a button of a task not refused yet.
  let reason = "";
  page.on("dialog", (d) => d.type() === "prompt" ? d.accept(reason) : d.accept());
  let reply = null;
  const refused = [];
  for (let attempt = 1; attempt <= 10 && !(reply && reply.ok); attempt++) {
    reason = "browser test: the bank asked (" + attempt + ")";
    const handle = await page.waitForFunction((seen) => {
      for (const b of document.querySelectorAll("#workers tbody button.raise"))
        if (!seen.includes(b.dataset.task)) return b.dataset.task;
      return null;
    }, refused, { timeout: 30000 });
    const task = await handle.jsonValue();
    await page.click(`#workers tbody button.raise[data-task="${task}"]`, { timeout: 10000 });
    reply = null;
    for (let t = 0; t < 60 && reply === null; t++) {
      reply = await page.evaluate(async ([k, r]) => {
        const res = await fetch("/api/v1/ops/audit", { headers: { Authorization: "Bearer " + k } });
        const a = (await res.json()).audit.find((x) => x.reason === r);
        return a ? a.reply : null;
      }, [key, reason]);
      if (reply === null) await new Promise((res) => setTimeout(res, 250));
    }
    if (reply === null) throw new Error("no audited action with reason " + JSON.stringify(reason));
    if (!reply.ok) {
      refused.push(task);
      say("refused, as it should be: " + reply.error.message);
    }
  }
  if (!reply.ok) throw new Error("the dispatcher refused every priority change");
  say("priority of task " + reply.task_id + " raised to " + reply.priority + " from the page (audited)");

  step = "deactivate a worker from the page";
  // The last worker of the list that is online, so that its state must
  // change from what the page showed.
  const target = await page.evaluate(() => {
    const rows = [...document.querySelectorAll("#workers tbody tr")]
      .filter((r) => r.querySelector("button.logout") && r.querySelector("button.deactivate"));
    return rows.length ? rows[rows.length - 1].dataset.worker : null;
  });
  if (!target) throw new Error("no online worker to deactivate");
  reason = "browser test: left the shift";
  await page.click(`#workers tbody tr[data-worker="${target}"] button.deactivate`);
  await page.waitForFunction((w) => {
    const r = document.querySelector(`#workers tbody tr[data-worker="${w}"]`);
    return r && r.querySelector("td.state").textContent === "deactivated" &&
           r.querySelector("button.activate") !== null;
  }, target, { timeout: 20000 });
  say("worker " + target + " shows deactivated on the page");
  reason = "browser test: back on shift";
  await page.click(`#workers tbody tr[data-worker="${target}"] button.activate`);
  await page.waitForFunction((w) => {
    const r = document.querySelector(`#workers tbody tr[data-worker="${w}"]`);
    return r && r.querySelector("td.state").textContent !== "deactivated";
  }, target, { timeout: 20000 });
  say("worker " + target + " activated again from the page");

  step = "read a case timeline";
  await page.click("#nav button[data-view=case]");
  await page.fill("#case-id", caseId);
  await page.click("#case-form button");
  await page.waitForSelector("#case-out .task", { timeout: 10000 });
  const timeline = await page.textContent("#case-out");
  if (!/Offer \d+ to /.test(timeline) || !/rule /.test(timeline))
    throw new Error("the timeline shows no offer with its routing decision: " + timeline.slice(0, 300));
  say("case " + caseId + " timeline shows its offers and routing decisions");

  step = "export the interval history";
  await page.click("#nav button[data-view=intervals]");
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: 10000 }),
                                        page.click("#iv-csv")]);
  const csvPath = join(profile, "intervals.csv");
  await download.saveAs(csvPath);
  const { readFileSync } = await import("node:fs");
  const csv = readFileSync(csvPath, "utf8");
  if (!csv.startsWith("interval_start,pool,skill,channel,offered"))
    throw new Error("the CSV export has no header: " + csv.slice(0, 80));
  say("CSV export: " + csv.split("\n").length + " lines");

  step = "open the other views";
  for (const v of ["forecast", "fairness", "billing", "live"]) await page.click(`#nav button[data-view=${v}]`);
  if (shot) await page.screenshot({ path: shot, fullPage: true });
  if (problems.length) throw new Error(problems.join("; "));
  say("ok");
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  process.exit(0);
} catch (e) {
  console.error("dashboard: failed to " + step + ": " + (e && e.message ? e.message : e));
  try { if (context) await context.close(); } catch (_) { /* closing anyway */ }
  rmSync(profile, { recursive: true, force: true });
  process.exit(1);
}
