// The analyzer's conclusions with their evidence: bottleneck verdict, scores, recommendations,
// correlations and every process figure (docs/analysis.md). Nothing here is computed anew
// except formatting; a figure the analysis lacks shows as a dash.

import { DASH, el, fmtCount, fmtFigure, isNum, nf0, nf2, nf3 } from "./util.js";

const BOTTLENECK_TEXT = {
  GpuBound: "The GPU was busy most of the time (compute \u2265 70 %).",
  IoBound: "Threads mostly blocked while the process did storage IO and the system reported IO stalls.",
  ContentionBound: "Several threads kept giving up the CPU and spent most of their time blocked without storage IO: waiting on each other (locks, condition variables).",
  MemoryBound: "The program spends much of its CPU in the allocator, the kernel's page-fault path or waiting on memory (major faults, memory stalls, last-level cache misses at a low IPC).",
  CpuBound: "Threads were running most of the time they were not queued for a CPU.",
  Balanced: "No rule fired: no resource stood out.",
};

function evidenceTable(evidence) {
  if (!evidence || evidence.length === 0) return el("p", { class: "note" }, "No evidence recorded.");
  return el(
    "table",
    { class: "data compact" },
    el("thead", null, el("tr", null, el("th", null, "figure"), el("th", { class: "num" }, "value"), el("th", { class: "num" }, "threshold"), el("th", null, "met"))),
    el(
      "tbody",
      null,
      evidence.map((e) =>
        el(
          "tr",
          null,
          el("td", null, el("code", null, e.name)),
          el("td", { class: "num" }, fmtFigure(e.name, e.value)),
          el("td", { class: "num" }, fmtFigure(e.name, e.threshold)),
          el("td", null, el("span", { class: e.met ? "met yes" : "met no" }, e.met ? "\u2713 met" : "\u2717 not met"))
        )
      )
    )
  );
}

function scoreBar(label, value, help) {
  const known = isNum(value);
  const pct = known ? Math.max(0, Math.min(100, value)) : 0;
  const hue = Math.round((pct / 100) * 120); // red (0) to green (100)
  return el(
    "div",
    { class: "score", title: help },
    el("div", { class: "score-head" }, el("span", null, label), el("strong", null, known ? nf0.format(value) : DASH)),
    el("div", { class: "score-track" }, el("div", { class: "score-fill", style: "width:" + pct + "%;background:hsl(" + hue + ",60%,48%)" })),
    el("div", { class: "note" }, help)
  );
}

// The hardware counters line: IPC and LLC misses per 1000 instructions, or why there are none.
function hardwareNote(hw) {
  if (!hw) return null;
  if (!hw.available) return el("p", { class: "note" }, "Hardware counters: not available (perf_event_open: " + hw.reason + ").");
  const f = (v) => (v === null || v === undefined ? DASH : nf2.format(v));
  return el(
    "p",
    { class: "note" },
    "Hardware counters" + (hw.user_only ? " (user space only)" : "") + ": IPC " + f(hw.ipc) + ", LLC misses per 1000 instructions " + f(hw.llc_misses_per_kilo_instruction) + "."
  );
}

export function renderInsights(container, proc) {
  const pi = proc.performance_insights;
  if (!pi) {
    container.append(el("p", { class: "note" }, "The analysis has no performance insights for this process (no metric samples)."));
    return;
  }
  const verdict = pi.primary_bottleneck;
  container.append(
    el(
      "div",
      { class: "grid2" },
      el(
        "div",
        { class: "card" },
        el("h3", null, "Primary bottleneck"),
        el("div", { class: "verdict " + (verdict ? "v-" + verdict : "v-none") }, verdict || "not determined"),
        el("p", null, verdict ? BOTTLENECK_TEXT[verdict] || "" : "No figure could be measured (no samples or no per-thread data)."),
        el("h4", null, "Evidence"),
        evidenceTable(pi.evidence)
      ),
      el(
        "div",
        { class: "card" },
        el("h3", null, "Efficiency scores"),
        scoreBar("CPU", pi.cpu_efficiency_score, "Share of the threads' sampled life spent running."),
        scoreBar("Memory", pi.memory_efficiency_score, "Lower with more allocator calls per CPU second and memory stalls."),
        scoreBar("IO", pi.io_efficiency_score, "100 without storage IO; lowered by IO stalls."),
        hardwareNote(pi.hardware_counters)
      )
    )
  );

  const recs = pi.recommendations || [];
  container.append(el("h3", null, "Recommendations"));
  if (recs.length === 0) container.append(el("p", { class: "note" }, "No recommendation fired: no figure passed its threshold."));
  for (const r of recs) {
    container.append(
      el(
        "div",
        { class: "rec" },
        el("div", { class: "rec-head" }, el("span", { class: "tag" }, r.kind), el("span", null, r.message)),
        r.site && r.site.location ? el("div", { class: "loc" }, "at " + r.site.location) : null,
        evidenceTable(r.evidence)
      )
    );
  }

  const corr = proc.correlations || {};
  const names = Object.keys(corr);
  container.append(el("h3", null, "Correlations"));
  if (names.length === 0) container.append(el("p", { class: "note" }, "No correlations in the analysis."));
  else {
    const coef = (c) => (c ? nf2.format(c.r) + " [" + nf2.format(c.ci95[0]) + ", " + nf2.format(c.ci95[1]) + "]" : DASH);
    const pv = (c) => (c ? (c.p_value < 0.001 ? "< 0.001" : nf3.format(c.p_value)) : DASH);
    container.append(
      el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          { class: "data compact" },
          el("thead", null, el("tr", null, ["name", "x", "y", "samples", "Pearson r [95 % CI]", "p", "Spearman \u03c1 [95 % CI]", "p"].map((h, i) => el("th", { class: i >= 3 ? "num" : "" }, h)))),
          el(
            "tbody",
            null,
            names.map((n) => {
              const c = corr[n];
              return el(
                "tr",
                null,
                el("td", null, el("code", null, n)),
                el("td", null, c.x),
                el("td", null, c.y),
                el("td", { class: "num" }, fmtCount(c.samples)),
                c.pearson || c.spearman
                  ? [el("td", { class: "num" }, coef(c.pearson)), el("td", { class: "num" }, pv(c.pearson)), el("td", { class: "num" }, coef(c.spearman)), el("td", { class: "num" }, pv(c.spearman))]
                  : el("td", { colspan: 4, class: "note" }, c.null_reason || "not computed")
              );
            })
          )
        )
      ),
      el("p", { class: "note" }, "Correlation is not causation; consecutive samples are autocorrelated, so p-values are optimistic.")
    );
  }

  const figures = pi.figures || {};
  container.append(
    el("h3", null, "Process figures"),
    el(
      "dl",
      { class: "figures" },
      Object.keys(figures).map((k) => [el("dt", null, el("code", null, k)), el("dd", null, fmtFigure(k, figures[k]))])
    )
  );
}
