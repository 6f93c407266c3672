// Opens a memscope HTML report in headless Chromium and checks it the way a person would see
// it, through the Chrome DevTools Protocol over --remote-debugging-pipe (fd 3 to the browser,
// fd 4 back, messages separated by NUL): only node's built-ins, no WebSocket client needed, and
// no port that another process could take. Fails (exit 1) on: a console error or uncaught
// exception, any network request besides the report file, a dialog (alert), a chart that was
// not drawn or is blank, a hostile name missing as text or present as markup, the long template
// name missing. With --mode exec (a run whose process exec'd another image, same pid): every
// image of a shared pid must be selectable, each showing its own name, figures and sites. With
// --mode sampled (a trace of memscope-run --sample-bytes): the overview says the figures are
// estimates, and the top sites' byte columns show the analysis's 95 % intervals.
// Writes a full-page screenshot and one per section (PNG-SECTION.png).
// Reads memscope-analysis/3 (docs/json-schema.md), the page's embedded document included.
// usage: node browser_check.js --html FILE --json ANALYSIS --screenshot PNG --profile DIR [--mode hostile|exec|sampled]
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
const htmlPath = path.resolve(args.html);
const pageUrl = pathToFileURL(htmlPath).href;
// A column as its rows: an array, or a compact encoding (docs/json-schema.md, "Columns"),
// expanded here independently of the page's own reader.
function expandColumn(c) {
  if (Array.isArray(c)) return c;
  const out = [];
  if (c.runs) c.runs.forEach((v, i) => out.push(...Array(c.lengths[i]).fill(v)));
  else if (c.deltas) expandColumn(c.deltas).reduce((x, d) => (out.push(x + d), x + d), 0);
  else if (c.back) expandColumn(c.back).forEach((b, i) => out.push(b === 0 ? null : i - b));
  else {
    out.push(...Array(c.length).fill(c.default));
    let at = 0;
    c.gaps.forEach((g, i) => (out[(at += g)] = c.values[i]));
  }
  return out;
}
// The document with the columns this check reads expanded.
function expandDoc(doc) {
  const tables = [doc.sites, doc.leaks, doc.frames, doc.stacks, ...doc.processes.flatMap((p) => [p.heap_over_time, p.functions])];
  const sites = doc.sites;
  if (sites && sites.distinct) tables.push(sites.distinct);
  for (const t of tables.filter(Boolean))
    for (const [k, v] of Object.entries(t)) if (v && typeof v === "object" && k !== "distinct") t[k] = expandColumn(v);
  if (sites && sites.distinct) {
    // A site's columns but its process are its row of `distinct`.
    for (const [k, v] of Object.entries(sites.distinct)) sites[k] = sites.row.map((r) => v[r]);
    delete sites.distinct;
    delete sites.row;
  }
  return doc;
}
const analysis = expandDoc(JSON.parse(fs.readFileSync(args.json, "utf8")));
const mode = args.mode || "hostile";

// memscope-analysis/3: a site's function is its function frame's name, else module+offset; the
// frame is `function_depth` callers up the site's stack.
function siteFunction(doc, i) {
  const depth = doc.sites.function_depth[i];
  let at = doc.sites.stack[i];
  if (depth == null || at == null) return null;
  for (let k = 0; k < depth; k++) at = doc.stacks.parent[at];
  const f = doc.stacks.frame[at];
  const str = (col) => (doc.frames[col][f] == null ? null : doc.strings[doc.frames[col][f]]);
  if (str("function")) return str("function");
  const mod = str("module");
  return mod ? mod.slice(mod.lastIndexOf("/") + 1) + "+" + doc.frames.offset[f] : doc.frames.address[f];
}
const siteIndices = (doc, key) => doc.sites.process.map((p, i) => (p === key ? i : -1)).filter((i) => i >= 0);

const failures = [];
const fail = (m) => failures.push(m);

fs.rmSync(args.profile, { recursive: true, force: true });
fs.mkdirSync(args.profile, { recursive: true });
const browser = spawn(
  process.env.CHROMIUM || "chromium",
  [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--user-data-dir=" + args.profile,
    "--remote-debugging-pipe",
    "about:blank",
  ],
  { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] }
);
let browserLog = "";
browser.stderr.on("data", (d) => (browserLog += d));
browser.on("error", (e) => finish("cannot start chromium: " + e.message));

const toBrowser = browser.stdio[3];
const fromBrowser = browser.stdio[4];
let nextId = 1;
const pending = new Map();
const listeners = [];
let buffer = "";
fromBrowser.on("data", (chunk) => {
  buffer += chunk.toString("utf8");
  let end;
  while ((end = buffer.indexOf("\0")) >= 0) {
    const msg = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject, method } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(method + ": " + msg.error.message));
      else resolve(msg.result);
    } else if (msg.method) {
      for (const l of listeners) l(msg);
    }
  }
});

function send(method, params, sessionId) {
  const id = nextId++;
  const msg = { id, method, params: params || {} };
  if (sessionId) msg.sessionId = sessionId;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, method });
    toBrowser.write(JSON.stringify(msg) + "\0");
  });
}

function waitFor(predicate, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out waiting for " + what)), ms);
    listeners.push((msg) => {
      if (predicate(msg)) {
        clearTimeout(timer);
        resolve(msg);
      }
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A common laptop width: the page must fit it without scrolling sideways.
const WIDTH = 1400;

let finished = false;
function finish(error) {
  if (finished) return;
  finished = true;
  if (error) fail(error);
  try {
    browser.kill("SIGKILL");
  } catch (e) {
    /* already gone */
  }
  if (failures.length) {
    console.error("report_browser: FAILED");
    for (const f of failures) console.error("  - " + f);
    if (browserLog && failures.some((f) => /chromium|timed out/.test(f))) console.error("chromium said:\n" + browserLog.slice(-3000));
    process.exit(1);
  }
  console.log("report_browser: all checks passed; screenshot " + args.screenshot);
  process.exit(0);
}
// Hang detection only: a fresh or loaded machine can be slow to start Chromium.
setTimeout(() => finish("timed out after 400 s"), 400000);

// Page-side helper for evaluate(): picks the process `value` in the selector and waits until the
// page has redrawn; an error message when its charts were not all drawn in 5 s, else "".
const SELECT_PROCESS = `async function selectProcess(sel, value) {
    sel.value = value;
    sel.dispatchEvent(new Event("change"));
    const drawn = () => document.body.dataset.reportReady === "1" &&
      document.body.dataset.chartsDrawn === document.body.dataset.chartsExpected;
    for (let k = 0; k < 100 && !drawn(); k++) await new Promise((r) => setTimeout(r, 50));
    const d = document.body.dataset;
    return drawn() ? "" : "process " + value + ": charts drawn " + d.chartsDrawn + " of " + d.chartsExpected;
  }`;

async function main() {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const s = (method, params) => send(method, params, sessionId);

  listeners.push((msg) => {
    if (msg.sessionId !== sessionId) return;
    const p = msg.params;
    switch (msg.method) {
      case "Runtime.consoleAPICalled":
        if (p.type === "error" || p.type === "assert")
          fail("console." + p.type + ": " + p.args.map((a) => (a.value !== undefined ? a.value : a.description)).join(" "));
        break;
      case "Runtime.exceptionThrown":
        fail("uncaught exception: " + (p.exceptionDetails.exception ? p.exceptionDetails.exception.description : p.exceptionDetails.text));
        break;
      case "Log.entryAdded":
        if (p.entry.level === "error") fail("browser log error (" + p.entry.source + "): " + p.entry.text);
        break;
      case "Network.requestWillBeSent":
        if (p.request.url.split("#")[0] !== pageUrl) fail("network request: " + p.request.url);
        break;
      case "Page.javascriptDialogOpening":
        fail("a dialog opened (injected script ran): " + p.message);
        s("Page.handleJavaScriptDialog", { accept: true }).catch(() => {});
        break;
    }
  });

  await s("Runtime.enable");
  await s("Log.enable");
  await s("Network.enable");
  await s("Page.enable");
  await s("Emulation.setDeviceMetricsOverride", { width: WIDTH, height: 900, deviceScaleFactor: 1, mobile: false });
  const loaded = waitFor((m) => m.method === "Page.loadEventFired" && m.sessionId === sessionId, 300000, "the page's load event");
  await s("Page.navigate", { url: pageUrl });
  await loaded;

  const evaluate = async (expression) => {
    const r = await s("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error("evaluate failed: " + (r.exceptionDetails.exception || {}).description);
    return r.result.value;
  };

  // Charts draw asynchronously (uPlot commits in a microtask); wait until all have reported.
  let ready = false;
  for (let i = 0; i < 100 && !ready; i++) {
    ready = await evaluate("document.body.dataset.reportReady === '1' && document.body.dataset.chartsDrawn === document.body.dataset.chartsExpected");
    if (!ready) await sleep(100);
  }
  const counts = await evaluate("({expected: document.body.dataset.chartsExpected, drawn: document.body.dataset.chartsDrawn})");
  if (!ready) fail("charts drawn " + counts.drawn + " of " + counts.expected);

  // Each canvas: enough painted pixels that it is a chart, not an empty frame.
  const canvases = await evaluate(`[...document.querySelectorAll("canvas")].map((c) => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let painted = 0, colours = new Set();
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 0 && !(d[i] > 250 && d[i + 1] > 250 && d[i + 2] > 250)) {
          painted++;
          if (colours.size < 64) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        }
      }
      const panel = c.closest(".panel");
      const title = panel ? panel.querySelector("h3").textContent : c.dataset.chart || "?";
      return {title, w: c.width, h: c.height, painted, colours: colours.size};
    })`);
  const expected = Number(counts.expected);
  if (canvases.length < expected) fail("only " + canvases.length + " canvases for " + expected + " charts");
  for (const c of canvases) if (c.painted < 400 || c.colours < 3) fail("canvas of '" + c.title + "' looks blank: " + JSON.stringify(c));

  const checks = { hostile: hostileChecks, exec: execChecks, sampled: sampledChecks };
  const summary = await checks[mode](evaluate);

  // The second process (the fork child): its panels replace the first's, drawn, without errors.
  const switched = await evaluate(`(async () => {
      ${SELECT_PROCESS}
      const sel = document.getElementById("process");
      if (sel.hidden || sel.options.length < 2) return {error: "no process selector (" + sel.options.length + " options)"};
      for (const i of [1, 0]) {
        const error = await selectProcess(sel, sel.options[i].value);
        if (error) return {error};
      }
      return {options: sel.options.length};
    })()`);
  if (switched.error) fail(switched.error);

  // Drag across the first chart: every chart zooms to that range; a double click shows it all.
  // DOM mouse events rather than CDP Input: CDP's synthetic moves carry movementX = 0, which uPlot
  // ignores while dragging (its guard against a stray Chrome event), so they would select nothing.
  const full = await evaluate("document.body.dataset.timeRange || ''");
  const zoomed = await evaluate(`(async () => {
      const over = document.querySelector(".u-over");
      const r = over.getBoundingClientRect();
      const y = r.top + r.height / 2;
      const ev = (target, type, f, dx) => target.dispatchEvent(new MouseEvent(type, {bubbles: true, cancelable: true, view: window,
        clientX: r.left + r.width * f, clientY: y, button: 0, buttons: type === "mouseup" ? 0 : 1, movementX: dx}));
      const frame = () => new Promise((res) => requestAnimationFrame(() => res()));
      ev(over, "mousemove", 0.2, 1); await frame();
      ev(over, "mousedown", 0.2, 0); await frame();
      ev(over, "mousemove", 0.4, 40); await frame();
      ev(over, "mousemove", 0.5, 20); await frame();
      ev(document, "mouseup", 0.5, 0); await frame();
      const range = document.body.dataset.timeRange;
      ev(over, "dblclick", 0.5, 0); await frame();
      return {range, reset: document.body.dataset.timeRange};
    })()`);
  if (!zoomed.range || zoomed.range === full) fail("dragging across a chart did not zoom the time axis (" + zoomed.range + ")");
  const reset = zoomed.reset;
  if (!/^0\.000\.\./.test(reset)) fail("a double click did not show the whole run again (" + reset + ")");
  await evaluate("window.scrollTo(0, 0)");

  const height = await evaluate("Math.ceil(document.documentElement.scrollHeight)");
  const shot = await s("Page.captureScreenshot", { format: "png", captureBeyondViewport: true, clip: { x: 0, y: 0, width: WIDTH, height, scale: 1 } });
  fs.writeFileSync(args.screenshot, Buffer.from(shot.data, "base64"));
  // One picture per section as well: the full page is too tall to read when scaled down.
  const sections = await evaluate(`[...document.querySelectorAll("main > section")].map((e) => {
      const r = e.getBoundingClientRect();
      return {id: e.id, y: Math.floor(r.top + window.scrollY) - 8, h: Math.ceil(r.height) + 16};
    })`);
  for (const sec of sections) {
    const part = await s("Page.captureScreenshot", { format: "png", captureBeyondViewport: true, clip: { x: 0, y: Math.max(0, sec.y), width: WIDTH, height: Math.min(sec.h, 4000), scale: 1 } });
    fs.writeFileSync(args.screenshot.replace(/\.png$/, "-" + sec.id + ".png"), Buffer.from(part.data, "base64"));
  }
  await sleep(100); // let late console messages arrive
  console.log("report_browser: " + canvases.length + " canvases, charts " + counts.drawn + "/" + counts.expected + ", zoom " + zoomed.range + " then " + reset + ", " + summary);
  finish();
}

// A sampled trace: the note that the figures are estimates is shown, and every top site whose
// analysis has an interval shows it beside its allocated bytes.
async function sampledChecks(evaluate) {
  const p = analysis.processes[0];
  if (!p.sampling) fail("the analysis of the sampled run has no sampling object");
  const seen = await evaluate(`(() => {
      const note = document.querySelector("#overview .sampled-note");
      const heads = [...document.querySelectorAll("#sites table.data th")].map((th) => th.textContent);
      const col = heads.findIndex((h) => h.startsWith("allocated"));
      const cells = [...document.querySelectorAll("#sites table.data tbody tr:not(.detail)")].map((tr) => tr.children[col].textContent);
      const peak = [...document.querySelectorAll("#overview .stat")].find((c) => c.querySelector(".stat-label").textContent === "Peak heap");
      return {note: note && note.offsetParent !== null ? note.textContent : null, cells, peak: peak ? peak.querySelector(".stat-value").textContent : null};
    })()`);
  if (!seen.note || !seen.note.includes("sampled: estimates")) fail("no visible note that the figures are estimates: " + JSON.stringify(seen.note));
  if (!seen.cells.length) fail("the sampled run's sites table lists no site");
  const bad = seen.cells.filter((c) => !/^~.+ \[.+ – .+\]$/.test(c));
  if (bad.length) fail("allocated cells without an interval: " + JSON.stringify(bad.slice(0, 3)));
  if (!seen.peak || !seen.peak.includes("[")) fail("the Peak heap card shows no interval: " + JSON.stringify(seen.peak));
  return "sampled: note shown, " + seen.cells.length + " site rows with intervals";
}

async function hostileChecks(evaluate) {
  // Hostile strings: present as text, absent as markup.
  const names = analysis.threads.map((t) => t.name).filter((n) => n && n.startsWith("<"));
  if (names.length < 2) fail("the analysis lacks the hostile thread names: " + JSON.stringify(analysis.threads.map((t) => t.name)));
  const longName = analysis.sites.process.map((_, i) => siteFunction(analysis, i) || "").filter((f) => f.includes("allocate_rows")).sort((a, b) => b.length - a.length)[0];
  if (!longName || longName.length < 150) fail("the analysis lacks the long template name: " + longName);
  const argv = analysis.processes[0].argv.slice(1);
  const dom = await evaluate(`({
      text: document.body.textContent,
      cmdline: document.getElementById("cmdline").textContent,
      imgs: document.querySelectorAll("img").length,
      handlers: document.querySelectorAll("[onerror],[onload]").length,
      scripts: document.scripts.length,
      title: document.getElementById("title").textContent
    })`);
  for (const n of names) if (!dom.text.includes(n)) fail("thread name " + JSON.stringify(n) + " is not shown as text");
  if (longName && !dom.text.includes(longName)) fail("the long template name is not shown as text");
  for (const a of argv) if (!dom.cmdline.includes(a)) fail("argument " + JSON.stringify(a) + " is not shown as text in the command line");
  if (dom.imgs !== 0) fail(dom.imgs + " <img> element(s) in the page: a name was parsed as markup");
  if (dom.handlers !== 0) fail(dom.handlers + " element(s) with an onerror/onload attribute");
  if (dom.scripts !== 3) fail("expected the page's 3 script elements, found " + dom.scripts);

  // Nothing wider than the window, and no overview card clipping its text: with the verdict
  // the analysis gave and with the longest one there is (ContentionBound).
  const fit = await evaluate(`(() => {
      const doc = document.documentElement;
      const clipped = () => [...document.querySelectorAll(".stat > *")]
        .filter((e) => e.scrollWidth > e.clientWidth + 1)
        .map((e) => e.closest(".stat").querySelector(".stat-label").textContent + ": " + e.textContent);
      const out = {page: doc.scrollWidth, window: doc.clientWidth, clipped: clipped()};
      const verdict = document.querySelector(".verdict-card .stat-value");
      if (!verdict) return out;
      const given = verdict.textContent;
      verdict.textContent = "ContentionBound";
      out.clippedLongest = clipped();
      out.pageLongest = doc.scrollWidth;
      verdict.textContent = given;
      return out;
    })()`);
  if (fit.page > fit.window) fail("the page scrolls sideways at " + WIDTH + " px: " + fit.page + " px wide in a " + fit.window + " px window");
  if (fit.clipped.length) fail("overview cards clip their text: " + fit.clipped.join("; "));
  if (!fit.clippedLongest) fail("no Bottleneck card in the overview");
  else if (fit.clippedLongest.length) fail("the Bottleneck card clips the longest verdict: " + fit.clippedLongest.join("; "));
  else if (fit.pageLongest > fit.window) fail("with the longest verdict the page scrolls sideways: " + fit.pageLongest + " px wide in a " + fit.window + " px window");

  // Use it as a person would: flame graph weights and search, sorting, tabs, zoom and reset.
  const interaction = await evaluate(`(async () => {
      const out = {};
      const buttons = [...document.querySelectorAll(".flame-bar .seg button")];
      for (const b of buttons) { b.click(); await new Promise((r) => setTimeout(r, 20)); }
      buttons[0].click();
      const search = document.querySelector(".flame-bar input");
      search.value = "allocate_rows";
      search.dispatchEvent(new Event("input"));
      out.search = document.querySelector(".flame-status").textContent;
      search.value = "";
      search.dispatchEvent(new Event("input"));
      const th = document.querySelector("#sites th.sortable");
      th.click(); th.click();
      for (const tab of document.querySelectorAll("#sites .tabs button")) tab.click();
      document.querySelector("#sites .tabs button").click();
      const row = document.querySelector("#sites tr.clickable");
      if (row) row.click();
      out.stackShown = !!document.querySelector("#sites tr.detail .stack li");
      const leakTab = [...document.querySelectorAll("#sites .tabs button")].find((b) => b.textContent.startsWith("Leaks"));
      if (leakTab) leakTab.click();
      const heads = [...document.querySelectorAll("#sites table.data th")].map((th) => th.textContent);
      const kindCol = heads.indexOf("kind");
      out.leakKinds = kindCol < 0 ? null : [...document.querySelectorAll("#sites table.data tbody tr:not(.detail)")].map((tr) => tr.children[kindCol].textContent);
      out.kindCards = [...document.querySelectorAll("#overview .stat.leak-kind")].map((c) => c.querySelector(".stat-label").textContent + "=" + c.querySelector(".stat-value").textContent);
      document.querySelector("#sites .tabs button").click();
      return out;
    })()`);
  // Leak kinds: a kind column whose cells are the analysis's kinds, and one card per kind.
  const LABELS = { definitely_lost: "definitely lost", indirectly_lost: "indirectly lost", possibly_lost: "possibly lost", reachable_at_exit: "still reachable" };
  const expectKinds = analysis.leaks.site
    .map((site, i) => (analysis.sites.process[site] === 0 && analysis.leaks.suppression[i] === null ? LABELS[analysis.leaks.kind[i]] || "unknown" : null))
    .filter((k) => k !== null);
  const shownKinds = interaction.leakKinds;
  const sameKinds = (a, b) => a.slice().sort().join() === b.slice().sort().join();
  if (shownKinds === null) fail("the leaks table has no kind column");
  else if (shownKinds.length === 0 && expectKinds.length > 0) fail("the leaks table lists no leak");
  else if (shownKinds.length === expectKinds.length ? !sameKinds(shownKinds, expectKinds) : shownKinds.some((k) => !expectKinds.includes(k)))
    fail("the leaks table's kinds " + JSON.stringify(shownKinds) + " differ from the analysis's " + JSON.stringify(expectKinds));
  const p0 = analysis.processes[0];
  const dl = p0.definitely_lost_bytes;
  const dlCard = (interaction.kindCards || []).find((c) => c.startsWith("Definitely lost="));
  if (!dlCard) fail("no Definitely lost card: " + JSON.stringify(interaction.kindCards));
  else if (dl === null ? dlCard !== "Definitely lost=unknown" : dlCard === "Definitely lost=unknown") fail("the Definitely lost card says " + dlCard + " for " + dl);
  if ((interaction.kindCards || []).length !== 5) fail("expected 4 kind cards and Suppressed: " + JSON.stringify(interaction.kindCards));
  if (!/^matched /.test(interaction.search) || /matched 0 B/.test(interaction.search)) fail("flame graph search found nothing: " + interaction.search);
  if (!interaction.stackShown) fail("clicking a site did not show its stack");
  return "flame search: " + interaction.search;
}

// An exec'd image keeps its pid: every image of a shared pid must be its own entry in the
// picker, and selecting it must show that image's name, totals and sites, not the other's.
// Judged against the document the page embeds (bounded or not).
async function execChecks(evaluate) {
  const doc = expandDoc(JSON.parse(await evaluate(`document.getElementById("memscope-data").textContent`)));
  const byPid = new Map();
  for (const p of doc.processes) byPid.set(p.pid, [...(byPid.get(p.pid) || []), p]);
  const images = [...byPid.values()].filter((list) => list.length > 1).flat();
  if (images.length < 2) {
    fail("no pid with two images in the analysis: " + JSON.stringify(doc.processes.map((p) => [p.pid, p.name, p.how])));
    return "no exec'd image";
  }
  const bounded = await evaluate(`(document.getElementById("bounded") || {}).textContent || null`);
  if (doc.bounded && !(bounded && bounded.includes(doc.bounded.sites_written.toLocaleString("en-US") + " of ")))
    fail("the page is bounded but does not say so: " + bounded);
  if (!doc.bounded && bounded) fail("a complete page says it is bounded: " + bounded);
  const count = (v) => v.toLocaleString("en-US");
  const shownNames = [];
  for (const p of images) {
    const own = new Set(siteIndices(doc, p.key).map((i) => (i === p.inherited_site ? "[inherited from the parent at the fork]" : siteFunction(doc, i) || "[no stack recorded]")));
    const seen = await evaluate(`(async () => {
        ${SELECT_PROCESS}
        const sel = document.getElementById("process");
        const option = [...sel.options].find((o) => o.value === "${p.key}");
        if (!option) return {error: "no picker entry for process key ${p.key}"};
        const error = await selectProcess(sel, option.value);
        if (error) return {error};
        const cards = Object.fromEntries([...document.querySelectorAll("#overview .stat")].map((c) => [c.querySelector(".stat-label").textContent, c.querySelector(".stat-value").textContent]));
        const facts = Object.fromEntries([...document.querySelectorAll("#overview dt")].map((dt) => [dt.textContent, dt.nextSibling.textContent]));
        const tab = document.querySelector("#sites .tabs button").textContent;
        const names = [...document.querySelectorAll("#sites table.data tbody tr:not(.detail)")].map((tr) => {
          const cell = tr.children[0];
          return (cell.querySelector(".fn-full") || cell.querySelector(".fn-name")).textContent;
        });
        return {title: document.getElementById("title").textContent, option: option.textContent, cards, facts, tab, names};
      })()`);
    const what = "process key " + p.key + " (pid " + p.pid + ", " + p.name + ")";
    if (seen.error) {
      fail(what + ": " + seen.error);
      continue;
    }
    if (seen.title !== p.name) fail(what + ": the title says " + JSON.stringify(seen.title));
    if (!seen.option.includes("pid " + p.pid) || !seen.option.includes(p.name)) fail(what + ": its picker entry reads " + JSON.stringify(seen.option));
    if (seen.facts["process key"] !== String(p.key)) fail(what + ": the overview shows process key " + seen.facts["process key"]);
    if (seen.cards.Allocations !== count(p.total_allocations)) fail(what + ": the Allocations card says " + seen.cards.Allocations + ", the analysis " + p.total_allocations);
    const sites = siteIndices(doc, p.key).length;
    if (seen.tab !== "Top sites (" + sites + ")") fail(what + ": the sites tab reads " + JSON.stringify(seen.tab) + " for its " + sites + " sites");
    if (sites > 0 && seen.names.length === 0) fail(what + ": the sites table lists no site");
    const foreign = seen.names.filter((n) => !own.has(n));
    if (foreign.length) fail(what + ": the sites table shows sites of another process: " + JSON.stringify(foreign.slice(0, 3)));
    shownNames.push(seen.names.join("\n"));
  }
  if (new Set(shownNames).size < 2) fail("every image of a shared pid shows the same sites");
  return images.length + " images of " + [...byPid.values()].filter((list) => list.length > 1).length + " shared pid(s) checked";
}

main().catch((e) => finish(e.message));
