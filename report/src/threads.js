// The Threads section: each thread's life and CPU heat on the shared time axis, and a table of
// the figures the analysis has per thread (its one thread list, filtered by process key).

import { DASH, el, fmtBytes, fmtCount, fmtPct, fmtSeconds, isNum } from "./util.js";
import { sortableTable } from "./tables.js";
import { panel } from "./time_panels.js";

export function renderThreads(body, tl, proc, series, threads) {
  const detail = new Map(threads.map((t) => [t.tid, t]));
  const rows = [];
  for (const t of threads) {
    const cpu = series.get("thread." + t.tid + ".cpu_percent");
    rows.push({
      label: (t.name || "?") + " (" + t.tid + ")",
      xs: cpu ? cpu.timestamps_ns.map((x) => tl.sec(x)) : [],
      ys: cpu ? cpu.values : [],
      start: tl.sec(t.start_ns),
      end: isNum(t.end_ns) ? tl.sec(t.end_ns) : null,
      detail: fmtCount(t.allocations) + " allocations, " + fmtBytes(t.allocated_bytes) + " allocated, " + fmtBytes(t.live_bytes) + " live at the end",
    });
  }
  // Every thread the samples listed is in the thread list but memscope's own sidecar, which the
  // trace names by tid (older traces do not: a sampled thread missing from the table is then
  // only said to be unlisted, never guessed to be ours). Shown last.
  for (const s of series.values()) {
    const m = /^thread\.(\d+)\.cpu_percent$/.exec(s.name);
    if (!m || detail.has(Number(m[1]))) continue;
    const ours = proc.sidecar_tid != null && Number(m[1]) === proc.sidecar_tid;
    rows.push({
      label: (ours ? "memscope sidecar" : s.thread_name || "?") + " (" + m[1] + ")",
      xs: s.timestamps_ns.map((x) => tl.sec(x)),
      ys: s.values,
      start: null,
      end: null,
      detail: ours ? "memscope's sidecar thread, not part of the program" : "sampled, not in the analysis's thread table",
    });
  }
  if (rows.length) {
    const p = panel("Threads", "lifetime (grey) and CPU % of one core per sample (heat) \u00b7 hover for allocations");
    body.appendChild(p.node);
    const readout = el("div", { class: "readout" });
    p.node.appendChild(readout);
    tl.addHeatmap(p.chart, { rows, max: 100, unit: "percent_of_core", laneHeight: 22, hint: "Hover a lane: thread, CPU at that moment, its allocations." }, readout);
    p.node.appendChild(
      el("p", { class: "note" }, "The analysis has per-thread heap totals (table below), not per-thread heap over time; threads shorter than the sampling interval may have no CPU sample.")
    );
  }

  const ranking = new Map(((proc.performance_insights && proc.performance_insights.thread_performance_ranking) || []).map((r) => [r.thread_id, r]));
  const cols = [
    { label: "thread", value: (t) => t.name || "", render: (t) => el("div", null, el("code", { class: "fn-name" }, t.name || "?"), el("div", { class: "loc" }, "tid " + t.tid + threadOrigin(proc, t))) },
    { label: "start", num: true, value: (t) => t.start_ns, render: (t) => fmtSeconds(tl.sec(t.start_ns)) + (t.known_from === "samples" ? " (first sample)" : "") },
    { label: "end", num: true, value: (t) => t.end_ns, render: (t) => (isNum(t.end_ns) ? fmtSeconds(tl.sec(t.end_ns)) + (t.end_at_process_end ? " (process end)" : "") : "not recorded") },
    { label: "CPU time", num: true, value: (t) => t.cpu_time_ns, render: (t) => (isNum(t.cpu_time_ns) ? fmtSeconds(t.cpu_time_ns / 1e9) : DASH) },
    { label: "CPU %", num: true, title: "on-CPU share of its life (exact from its own readings, else sampled; insights ranking)", value: (t) => (ranking.get(t.tid) || {}).cpu_percent, render: (t) => fmtPct((ranking.get(t.tid) || {}).cpu_percent) },
    { label: "run-queue wait", num: true, value: (t) => (ranking.get(t.tid) || {}).run_queue_wait_percent, render: (t) => fmtPct((ranking.get(t.tid) || {}).run_queue_wait_percent) },
    { label: "memscope wait", num: true, title: "time it waited on memscope (ring full, fork gate, flushes), left out of its blocked time", value: (t) => (ranking.get(t.tid) || {}).profiler_wait_share, render: (t) => fmtPct(isNum((ranking.get(t.tid) || {}).profiler_wait_share) ? 100 * ranking.get(t.tid).profiler_wait_share : null) },
    { label: "allocations", num: true, value: (t) => t.allocations, render: (t) => fmtCount(t.allocations) },
    { label: "allocated", num: true, value: (t) => t.allocated_bytes, render: (t) => fmtBytes(t.allocated_bytes) },
    { label: "frees", num: true, value: (t) => t.frees, render: (t) => fmtCount(t.frees) },
    { label: "temporary", num: true, value: (t) => t.temporary_allocations, render: (t) => fmtCount(t.temporary_allocations) },
    { label: "live at end", num: true, value: (t) => t.live_bytes, render: (t) => fmtBytes(t.live_bytes) },
  ];
  body.appendChild(sortableTable(cols, threads, { sort: 6, desc: true, limit: 30, empty: "No thread recorded its start." }));
}

// Where a thread came from, as far as the trace knows (docs/json-schema.md, known_from).
function threadOrigin(proc, t) {
  if (t.tid === proc.pid) return " \u00b7 main";
  if (t.parent_tid != null) return " \u00b7 from " + t.parent_tid;
  return t.known_from === "samples" ? " \u00b7 start not seen (sampled)" : "";
}
