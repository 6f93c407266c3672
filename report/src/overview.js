// The Overview section: the process's totals as cards, then the facts of how it ran.

import { card, DASH, el, fmtBytes, fmtCount, fmtEstimate, fmtPct, fmtSeconds, isNum } from "./util.js";
import { leakKindCards } from "./leaks.js";
import { sampledNote } from "./sites.js";

// "ContentionBound" may break as "Contention|Bound" in a narrow card, never inside a word.
function camelBreaks(name) {
  return name.split(/(?=[A-Z])/).flatMap((part, i) => (i ? [el("wbr"), part] : [part]));
}

export function quoteArg(a) {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : "'" + a.replace(/'/g, "'\\''") + "'";
}

// "spawned by traced pid 28385 (tar)": how it began and its traced parent (by key: an exec'd
// image's parent is the image it replaced, of the same pid).
function startedAs(proc, processes) {
  if (proc.parent_pid == null) return proc.how;
  const parent = proc.parent != null ? processes[proc.parent] : null;
  const verb = proc.how === "spawn" ? "spawned by" : proc.how + " of";
  return verb + " traced pid " + proc.parent_pid + (parent ? " (" + parent.name + ")" : "");
}

export function renderOverview(body, proc, processes, tEnd, t0) {
  const pi = proc.performance_insights || {};
  const peakAt = proc.peak && isNum(proc.peak.stamp_ns) ? "at " + fmtSeconds((proc.peak.stamp_ns - t0) / 1e9) : null;
  const est = proc.sampling;
  if (est) body.append(el("p", { class: "note sampled-note" }, sampledNote(est)));
  body.append(
    el(
      "div",
      { class: "stats" },
      card("Duration", fmtSeconds(tEnd), "traced"),
      card("Allocations", fmtCount(proc.total_allocations), fmtCount(proc.total_frees) + " frees"),
      card("Allocated", fmtBytes(proc.total_allocated_bytes), "requested bytes"),
      card("Peak heap", fmtEstimate(proc.peak_heap_bytes, est && est.peak_heap_bytes), peakAt, "accent"),
      proc.discarded_by_exec_allocations > 0
        ? card("Discarded by exec", fmtBytes(proc.discarded_by_exec_bytes), fmtCount(proc.discarded_by_exec_allocations) + " blocks live at the exec, not leaked")
        : card("Leaked", fmtEstimate(proc.leaked_bytes, est && est.leaked_bytes), fmtCount(proc.leaked_allocations) + " blocks", proc.leaked_bytes > 0 ? "warn" : "good"),
      ...leakKindCards(proc),
      card("Temporary", fmtCount(proc.temporary_allocations), fmtPct(proc.total_allocations ? (100 * proc.temporary_allocations) / proc.total_allocations : null) + " of allocations"),
      card("Threads", fmtCount(proc.threads), proc.metrics ? fmtCount(proc.metrics.samples) + " metric samples" : null),
      card("Bottleneck", pi.primary_bottleneck ? camelBreaks(pi.primary_bottleneck) : "not determined", pi.primary_bottleneck ? "see Insights" : null, "verdict-card")
    )
  );
  const facts = [
    ["pid", String(proc.pid) + (proc.ppid != null ? " (parent pid " + proc.ppid + ")" : "")],
    ["process key", String(proc.key)],
    ["started as", startedAs(proc, processes)],
    ["ended", proc.ended],
    ["name", proc.name],
    ["executable", proc.executable],
    ["malloc", proc.malloc_provider],
    ["trace", proc.trace + (proc.complete ? "" : " (incomplete)")],
    ["dropped events", fmtCount(proc.dropped_events)],
    ["unmatched frees", fmtCount(proc.unmatched_frees)],
  ];
  body.append(el("dl", { class: "facts" }, facts.map(([k, v]) => [el("dt", null, k), el("dd", null, v == null ? DASH : v)])));
  if (!proc.complete && proc.warning) body.append(el("p", { class: "warning" }, "Incomplete trace: " + proc.warning));
}
