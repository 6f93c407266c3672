// Entry point: reads the analysis embedded in the page (memscope-analysis/3, see
// docs/json-schema.md), renders one process at a time (a selector lists every process by its
// key: an exec'd image keeps its pid, so two images of one pid are two entries), says what a
// bounded page left out, and reports to the browser test how many charts it drew (body data
// attributes).

import { Analysis } from "./analysis.js";
import { Icicle } from "./flame.js";
import { renderInsights } from "./insights.js";
import { quoteArg, renderOverview } from "./overview.js";
import { renderSites } from "./sites.js";
import { renderThreads } from "./threads.js";
import { renderTimeline } from "./time_panels.js";
import { Timeline } from "./timeline.js";
import { baseName, clear, el, fmtBytes, fmtCount, isNum } from "./util.js";

const state = { timeline: null, icicle: null, drawn: 0 };

function readAnalysis() {
  const node = document.getElementById("memscope-data");
  return JSON.parse(node.textContent);
}

function chartDrawn() {
  state.drawn++;
  document.body.dataset.chartsDrawn = String(state.drawn);
}

function seriesMap(proc) {
  const map = new Map();
  const list = (proc.metrics && proc.metrics.series) || [];
  for (const s of list) map.set(s.name, s);
  return map;
}

function heapStarts(proc) {
  const hot = proc.heap_over_time;
  return hot && hot.start_ns ? hot.start_ns : [];
}

/** The process's time origin: its first thread start or heap bucket, else its first sample. */
function timeOrigin(proc, threads, series) {
  let t0 = Infinity;
  for (const t of threads) if (isNum(t.start_ns)) t0 = Math.min(t0, t.start_ns);
  const starts = heapStarts(proc);
  if (starts.length) t0 = Math.min(t0, starts[0]);
  if (t0 === Infinity) for (const s of series.values()) if (s.timestamps_ns.length) t0 = Math.min(t0, s.timestamps_ns[0]);
  return t0 === Infinity ? 0 : t0;
}

function timeEnd(proc, threads, series, t0) {
  let end = t0;
  const starts = heapStarts(proc);
  if (starts.length) end = Math.max(end, starts[starts.length - 1] + proc.heap_over_time.bucket_ns);
  for (const s of series.values()) if (s.timestamps_ns.length) end = Math.max(end, s.timestamps_ns[s.timestamps_ns.length - 1]);
  for (const t of threads) if (isNum(t.end_ns)) end = Math.max(end, t.end_ns);
  return (end - t0) / 1e9;
}

function section(id, title, intro) {
  const body = el("div", { class: "section-body" });
  const s = el("section", { id, class: "section" }, el("h2", null, title), intro ? el("p", { class: "intro" }, intro) : null, body);
  return { s, body };
}

/** What a bounded page holds of the analysis (docs/report.md, "Bounded pages"): null when complete. */
function boundedText(bounded) {
  if (!bounded) return null;
  const total = bounded.sites_written + bounded.sites_omitted;
  const cap = isNum(bounded.sites) ? ", at most " + fmtCount(bounded.sites) + " in all (each process's best places first)" : "";
  return (
    fmtCount(bounded.sites_written) + " of " + fmtCount(total) + " sites shown: per process the top " + fmtCount(bounded.per_ranking) +
    " by each ranking (allocated bytes, allocations, temporary allocations, bytes at the peak, leaked bytes) and its largest " +
    fmtCount(bounded.leak_and_peak) + " leaking sites and sites live at the peak" + cap + "; " + fmtCount(bounded.sites_omitted) +
    " left out. Totals, timelines, threads and insights cover every site; the site tables, functions and flame graph only those shown. memscope-analyze --json writes them all."
  );
}

/** The process's line of the bounded note: how many of its sites the page holds. */
function processCoverage(analysis, key) {
  const { shown, total } = analysis.siteCoverage(key);
  if (shown >= total) return null;
  return el("p", { class: "note bounded" }, "This process: " + fmtCount(shown) + " of its " + fmtCount(total) + " sites shown (the site tables, functions and flame graph cover these).");
}

/** The picker's entry of a process: key, pid, name and how it began, so images of one pid differ. */
function processLabel(p) {
  return "#" + p.key + " \u00b7 pid " + p.pid + " \u00b7 " + (p.name || baseName(p.executable)) + " (" + p.how + ") \u00b7 peak " + fmtBytes(p.peak_heap_bytes);
}

function renderProcess(analysis, key, root) {
  if (state.timeline) state.timeline.destroy();
  state.drawn = 0;
  delete document.body.dataset.reportReady;
  document.body.dataset.chartsDrawn = "0";
  clear(root);

  const proc = analysis.processes[key];
  const series = seriesMap(proc);
  const threads = analysis.threads(key);
  const t0 = timeOrigin(proc, threads, series);
  const tEnd = timeEnd(proc, threads, series, t0);
  const tl = new Timeline(t0, tEnd, chartDrawn);
  state.timeline = tl;
  const sites = analysis.sites(key);
  const leaks = analysis.leaks(key);

  document.getElementById("cmdline").textContent = (proc.argv && proc.argv.length ? proc.argv : [proc.executable]).map(quoteArg).join(" ");
  document.getElementById("title").textContent = proc.name || baseName(proc.executable) || "process " + key;

  const ov = section("overview", "Overview");
  root.appendChild(ov.s);
  renderOverview(ov.body, proc, analysis.processes, tEnd, t0);

  const time = section("timeline", "Timeline", "All panels share one time axis (seconds since the process started). Drag across any chart to zoom all of them; double-click to see the whole run.");
  root.appendChild(time.s);
  const th = section("threads", "Threads");
  root.appendChild(th.s);
  const notes = renderTimeline(time.body, tl, proc, series, proc.peak);
  if (notes.length) time.body.appendChild(el("div", { class: "notes" }, el("h4", null, "Not shown"), el("ul", null, notes.map((n) => el("li", null, n)))));
  renderThreads(th.body, tl, proc, series, threads);

  const fl = section("flame", "Allocation flame graph", "Icicle of the call stacks that allocated: callers on top, the allocating frames below, width by the chosen weight. Click a frame to zoom, click a wider row above to zoom out.");
  root.appendChild(fl.s);
  const flameCoverage = processCoverage(analysis, key);
  if (flameCoverage) fl.body.appendChild(flameCoverage);
  state.icicle = new Icicle(fl.body, analysis, sites, chartDrawn);

  const st = section("sites", "Allocation sites", "Click a column to sort, a row for its call stack.");
  root.appendChild(st.s);
  const siteCoverage = processCoverage(analysis, key);
  if (siteCoverage) st.body.appendChild(siteCoverage);
  renderSites(st.body, analysis, proc, sites, leaks);

  const ins = section("insights", "Insights", "The analyzer's verdict and the figures behind it (docs/analysis.md).");
  root.appendChild(ins.s);
  renderInsights(ins.body, proc);

  // The timeline's charts and the flame graph.
  document.body.dataset.chartsExpected = String(tl.expected + 1);
  document.body.dataset.reportReady = "1";
}

function showError(root, message) {
  root.append(el("p", { class: "warning" }, "This page cannot show the analysis: " + message));
  document.body.dataset.chartsExpected = "0";
  document.body.dataset.chartsDrawn = "0";
  document.body.dataset.reportReady = "1";
}

function main() {
  const root = document.getElementById("report");
  const doc = readAnalysis();
  document.getElementById("schema").textContent = doc.schema || "";
  let analysis;
  try {
    analysis = new Analysis(doc);
  } catch (e) {
    showError(root, e.message);
    return;
  }
  const procs = analysis.processes;
  if (doc.errors && doc.errors.length) {
    document.getElementById("errors").append(el("div", { class: "warning" }, el("strong", null, "Inputs that were not readable traces: "), doc.errors.join("; ")));
  }
  const bounded = boundedText(doc.bounded);
  if (bounded) document.getElementById("errors").append(el("div", { class: "note bounded", id: "bounded" }, bounded));
  if (procs.length === 0) {
    showError(root, "it holds no process.");
    return;
  }
  const picker = document.getElementById("process");
  if (procs.length > 1) {
    for (const p of procs) picker.appendChild(el("option", { value: String(p.key) }, processLabel(p)));
    picker.hidden = false;
    picker.addEventListener("change", () => renderProcess(analysis, Number(picker.value), root));
    const s = doc.summary || {};
    document.getElementById("all-procs").textContent =
      procs.length + " processes \u00b7 " + fmtCount(s.total_allocations) + " allocations \u00b7 largest peak " + fmtBytes(s.peak_heap_bytes) + " \u00b7 leaked " + fmtBytes(s.leaked_bytes);
  }
  renderProcess(analysis, 0, root);

  let pending = 0;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      if (state.timeline) state.timeline.resize();
      if (state.icicle) state.icicle.resize();
    }, 120);
  });
}

main();
