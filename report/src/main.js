// Entry point: reads the analysis JSON embedded in the page (memscope-analysis/1, see
// docs/json-schema.md), renders one process at a time (a selector when the trace set has
// several) and reports to the browser test how many charts it drew (body data attributes).

const state = { data: null, timeline: null, icicle: null, expected: 0, drawn: 0 };

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

/** The process's time origin: its first thread start or heap bucket, else its first sample. */
function timeOrigin(proc, series) {
  let t0 = Infinity;
  for (const t of proc.threads_detail || []) if (isNum(t.start_ns)) t0 = Math.min(t0, t.start_ns);
  const b = proc.heap_over_time && proc.heap_over_time.buckets;
  if (b && b.length) t0 = Math.min(t0, b[0].start_ns);
  if (t0 === Infinity) for (const s of series.values()) if (s.timestamps_ns.length) t0 = Math.min(t0, s.timestamps_ns[0]);
  return t0 === Infinity ? 0 : t0;
}

function timeEnd(proc, series, t0) {
  let end = t0;
  const hot = proc.heap_over_time;
  if (hot && hot.buckets.length) end = Math.max(end, hot.buckets[hot.buckets.length - 1].start_ns + hot.bucket_ns);
  for (const s of series.values()) if (s.timestamps_ns.length) end = Math.max(end, s.timestamps_ns[s.timestamps_ns.length - 1]);
  for (const t of proc.threads_detail || []) if (isNum(t.end_ns)) end = Math.max(end, t.end_ns);
  return (end - t0) / 1e9;
}

function section(id, title, intro) {
  const body = el("div", { class: "section-body" });
  const s = el("section", { id, class: "section" }, el("h2", null, title), intro ? el("p", { class: "intro" }, intro) : null, body);
  return { s, body };
}

function panel(title, subtitle) {
  const chart = el("div", { class: "chart" });
  const node = el("div", { class: "panel" }, el("div", { class: "panel-head" }, el("h3", null, title), subtitle ? el("span", { class: "sub" }, subtitle) : null), chart);
  return { node, chart };
}

function metricLine(tl, s, label, color, extra) {
  return Object.assign(
    { label, unit: s.unit, color, xs: s.timestamps_ns.map((t) => tl.sec(t)), ys: s.values.slice(), stepped: isRateUnit(s.unit) ? -1 : 0 },
    extra || {}
  );
}

function isRateUnit(unit) {
  return unit === "percent" || unit === "percent_of_core" || unit === "per_s" || unit === "bytes/s";
}

function nonZero(s) {
  return s.values.some((v) => v != null && v !== 0);
}

/** Time panels. Returns the notes on panels left out for lack of series. */
function renderTimeline(body, proc, series, peak) {
  const tl = state.timeline;
  const notes = [];
  const add = (p) => body.appendChild(p.node);

  // Live heap, with the peak marked.
  const hot = proc.heap_over_time;
  const buckets = (hot && hot.buckets) || [];
  if (buckets.length) {
    const p = panel("Live heap", "requested bytes live at each 100 ms bucket's end, peak marked \u00b7 RSS on the right axis");
    add(p);
    const ends = buckets.map((b) => tl.sec(b.start_ns + hot.bucket_ns));
    const lines = [
      { label: "live heap", unit: "bytes", color: "#0072b2", xs: ends, ys: buckets.map((b) => b.live_bytes), fill: true, width: 2 },
      // The highest value holds somewhere within the bucket: drawn over the bucket's whole width.
      { label: "highest in bucket", unit: "bytes", color: "#56b4e9", xs: [tl.sec(buckets[0].start_ns), ...ends], ys: [...buckets.map((b) => b.live_bytes_peak), null], stepped: 1, dash: [4, 3], width: 1 },
    ];
    const rss = series.get("memory.process_rss_bytes");
    // RSS is usually far above the live heap (allocator overhead, code, stacks): its own axis.
    if (rss) lines.push(metricLine(tl, rss, "process RSS (right axis)", "#7f7f7f", { stepped: 0, width: 1, right: true }));
    const peakX = peak && isNum(peak.stamp_ns) ? tl.sec(peak.stamp_ns) : null;
    state.expected++;
    tl.addLineChart(p.chart, {
      series: lines,
      height: 220,
      draw: (u) => {
        if (peakX == null) return;
        const ctx = u.ctx;
        const x = u.valToPos(peakX, "x", true);
        const y = u.valToPos(peak.bytes, "y", true);
        const { left, top, width, height } = u.bbox;
        if (x < left || x > left + width) return;
        const dpr = window.devicePixelRatio || 1;
        ctx.save();
        ctx.strokeStyle = "#d55e00";
        ctx.lineWidth = 1.5 * dpr;
        ctx.setLineDash([5 * dpr, 4 * dpr]);
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = "#d55e00";
        ctx.beginPath();
        ctx.arc(x, y, 4.5 * dpr, 0, 2 * Math.PI);
        ctx.fill();
        ctx.font = "600 " + 12 * dpr + "px system-ui, sans-serif";
        const text = "peak " + fmtBytes(peak.bytes) + " at " + fmtSeconds(peakX);
        const tw = ctx.measureText(text).width;
        const tx = x + 8 * dpr + tw > left + width ? x - 8 * dpr - tw : x + 8 * dpr;
        ctx.textBaseline = "top";
        ctx.fillText(text, tx, top + 4 * dpr);
        ctx.restore();
      },
    });

    const q = panel("Allocation and free rates", "per 100 ms bucket");
    add(q);
    const starts = buckets.map((b) => tl.sec(b.start_ns));
    // One extra point at the last bucket's end so that the last step has its width.
    const xs = [...starts, tl.sec(buckets[buckets.length - 1].start_ns + hot.bucket_ns)];
    const last = (arr) => [...arr, arr[arr.length - 1]];
    state.expected++;
    tl.addLineChart(q.chart, {
      series: [
        { label: "allocations/s", unit: "per_s", color: "#009e73", xs, ys: last(buckets.map((b) => b.allocations_per_sec)), stepped: 1, fill: true },
        { label: "frees/s", unit: "per_s", color: "#cc79a7", xs, ys: last(buckets.map((b) => b.frees_per_sec)), stepped: 1 },
        { label: "allocated bytes/s", unit: "bytes/s", color: "#e69f00", xs, ys: last(buckets.map((b) => b.bytes_per_sec)), stepped: 1, right: true, dash: [4, 3] },
      ],
    });
  } else {
    notes.push("Live heap and allocation rates: the process recorded no heap activity.");
  }

  // CPU: machine-wide shares on the left axis, the process in % of one core on the right.
  const cpuNames = [
    ["cpu.overall_usage_percent", "machine CPU", "#0072b2", { fill: true, width: 2 }],
    ["cpu.user_percent", "user", "#56b4e9"],
    ["cpu.system_percent", "system", "#e69f00"],
    ["cpu.iowait_percent", "iowait", "#cc79a7"],
    ["cpu.steal_percent", "steal", "#7f7f7f"],
  ];
  const cpuLines = cpuNames.filter(([n]) => series.has(n)).map(([n, l, c, x]) => metricLine(tl, series.get(n), l, c, x));
  if (series.has("process.cpu_percent")) cpuLines.push(metricLine(tl, series.get("process.cpu_percent"), "this process", "#d55e00", { right: true, width: 2 }));
  if (cpuLines.length) {
    const p = panel("CPU", "machine (left, % of all cores) \u00b7 this process (right, % of one core)");
    add(p);
    state.expected++;
    tl.addLineChart(p.chart, { series: cpuLines, yMax: cpuLines.some((l) => !l.right) ? 100 : null });
  } else notes.push("CPU: no CPU series were recorded.");

  // Per-core heatmap.
  const cores = [...series.values()]
    .map((s) => ({ s, m: /^cpu\.core(\d+)\.usage_percent$/.exec(s.name) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]));
  if (cores.length) {
    const p = panel("CPU per core", "usage % of each core (machine-wide)");
    add(p);
    const readout = el("div", { class: "readout" });
    p.node.appendChild(readout);
    state.expected++;
    tl.addHeatmap(
      p.chart,
      { rows: cores.map(({ s, m }) => ({ label: "core " + m[1], xs: s.timestamps_ns.map((t) => tl.sec(t)), ys: s.values })), max: 100, unit: "percent", hint: "Hover a cell for its value." },
      readout
    );
  } else notes.push("CPU per core: no per-core series were recorded.");

  // GPU.
  const gpu = [...series.values()].filter((s) => /^gpu\d+\.(compute_usage_percent|memory_usage_percent)$/.test(s.name));
  if (gpu.length) {
    const p = panel("GPU", "compute and memory use");
    add(p);
    state.expected++;
    tl.addLineChart(p.chart, { series: gpu.map((s, i) => metricLine(tl, s, s.name.replace(/_usage_percent$/, ""), paletteColor(i))), yMax: 100 });
  } else notes.push("GPU: no GPU series (the collector found no GPU it could read).");

  // Disk, network: all-zero series are left out and named in a note.
  const ioPanel = (title, subtitle, regex, what) => {
    const all = [...series.values()].filter((s) => regex.test(s.name));
    const used = all.filter(nonZero);
    const idle = all.filter((s) => !nonZero(s)).map((s) => s.name);
    if (used.length) {
      const p = panel(title, subtitle);
      add(p);
      if (idle.length) p.node.appendChild(el("p", { class: "note" }, "Zero throughout, not drawn: " + idle.join(", ")));
      state.expected++;
      tl.addLineChart(p.chart, { series: used.map((s, i) => metricLine(tl, s, s.name, paletteColor(i))) });
    } else if (all.length) notes.push(title + ": " + what + " zero throughout (" + all.length + " series).");
    else notes.push(title + ": no series were recorded.");
  };
  ioPanel("Disk IO", "machine devices, this process's own threads, and memscope's trace writing (io.profiler_*)", /^(disk\..+\.(read|write)_bytes_per_sec|io\.(process|profiler)_(read|write)_bytes_per_sec)$/, "every device read and wrote");
  ioPanel("Network IO", "bytes per second per interface", /^net\..+\.(rx|tx)_bytes_per_sec$/, "every interface's traffic was");

  // Pressure stalls.
  const psi = [...series.values()].filter((s) => /^psi\./.test(s.name));
  if (psi.length) {
    const p = panel("Pressure stalls (PSI)", "share of time some / all tasks stalled on a resource");
    add(p);
    state.expected++;
    tl.addLineChart(p.chart, { series: psi.map((s, i) => metricLine(tl, s, s.name.replace(/^psi\./, "").replace(/_percent$/, ""), paletteColor(i), { dash: /full/.test(s.name) ? [4, 3] : undefined })), yMax: 100 });
  } else notes.push("Pressure stalls: the kernel reported no PSI (needs Linux 4.20+ with PSI enabled).");

  return notes;
}

function renderThreads(body, proc, series, threads) {
  const tl = state.timeline;
  const detail = new Map((proc.threads_detail || []).map((t) => [t.tid, t]));
  const top = new Map(threads.map((t) => [t.tid, t]));
  const rows = [];
  for (const t of proc.threads_detail || []) {
    const cpu = series.get("thread." + t.tid + ".cpu_percent");
    const th = top.get(t.tid) || t;
    rows.push({
      label: (t.name || "?") + " (" + t.tid + ")",
      xs: cpu ? cpu.timestamps_ns.map((x) => tl.sec(x)) : [],
      ys: cpu ? cpu.values : [],
      start: tl.sec(t.start_ns),
      end: isNum(t.end_ns) ? tl.sec(t.end_ns) : null,
      detail: fmtCount(th.allocations) + " allocations, " + fmtBytes(th.allocated_bytes) + " allocated, " + fmtBytes(th.live_bytes) + " live at the end",
    });
  }
  // Every thread the samples listed is in threads_detail but memscope's own sidecar, which the
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
    state.expected++;
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

function siteColumns(extra) {
  return [
    { label: "function", value: (s) => siteName(s), render: (s) => fnCell(siteName(s), s) },
    ...extra,
  ];
}

function renderSites(body, proc, sites, leaks) {
  const tabs = el("div", { class: "seg tabs", role: "tablist" });
  const pane = el("div");
  body.append(tabs, pane);
  const detail = (s) => stackList(s.stack);
  const views = [
    {
      label: "Top sites (" + sites.length + ")",
      make: () =>
        sortableTable(
          siteColumns([
            { label: "allocations", num: true, value: (s) => s.allocations, render: (s) => fmtCount(s.allocations) },
            { label: "allocated", num: true, value: (s) => s.allocated_bytes, render: (s) => fmtBytes(s.allocated_bytes) },
            { label: "frees", num: true, value: (s) => s.frees, render: (s) => fmtCount(s.frees) },
            { label: "temporary", num: true, value: (s) => s.temporary_allocations, render: (s) => fmtCount(s.temporary_allocations) },
            { label: "held at peak", num: true, value: (s) => s.peak_bytes, render: (s) => fmtBytes(s.peak_bytes) },
            { label: "leaked", num: true, value: (s) => s.leaked_bytes, render: (s) => fmtBytes(s.leaked_bytes) },
          ]),
          sites,
          { sort: 2, detail, empty: "No allocation sites." }
        ),
    },
    ...leakViews(proc, leaks, siteColumns, detail),
    {
      label: "Temporary allocations",
      make: () => {
        const temp = sites.filter((s) => s.temporary_allocations > 0);
        return el(
          "div",
          null,
          el("p", { class: "note" }, "Blocks freed before the allocating thread allocated anything else: often avoidable (a buffer on the stack, reuse)."),
          sortableTable(
            siteColumns([
              { label: "temporary", num: true, value: (s) => s.temporary_allocations, render: (s) => fmtCount(s.temporary_allocations) },
              { label: "of its allocations", num: true, value: (s) => s.temporary_allocations / (s.allocations || 1), render: (s) => fmtPct((100 * s.temporary_allocations) / (s.allocations || 1)) },
              { label: "allocations", num: true, value: (s) => s.allocations, render: (s) => fmtCount(s.allocations) },
              { label: "allocated", num: true, value: (s) => s.allocated_bytes, render: (s) => fmtBytes(s.allocated_bytes) },
            ]),
            temp,
            { sort: 1, detail, empty: "No temporary allocations." }
          )
        );
      },
    },
    {
      label: "Functions (" + (proc.functions || []).length + ")",
      make: () =>
        sortableTable(
          [
            { label: "function", value: (f) => f.function || "", render: (f) => fnCell(f.function || "?", f) },
            { label: "sites", num: true, value: (f) => f.sites, render: (f) => fmtCount(f.sites) },
            { label: "allocations", num: true, value: (f) => f.allocations, render: (f) => fmtCount(f.allocations) },
            { label: "allocated", num: true, value: (f) => f.allocated_bytes, render: (f) => fmtBytes(f.allocated_bytes) },
            { label: "temporary", num: true, value: (f) => f.temporary_allocations, render: (f) => fmtCount(f.temporary_allocations) },
            { label: "held at peak", num: true, value: (f) => f.peak_bytes, render: (f) => fmtBytes(f.peak_bytes) },
            { label: "leaked", num: true, value: (f) => f.leaked_bytes, render: (f) => fmtBytes(f.leaked_bytes) },
          ],
          proc.functions || [],
          { sort: 3, empty: "No functions." }
        ),
    },
  ];
  const show = (i) => {
    [...tabs.children].forEach((b, k) => {
      b.className = k === i ? "on" : "";
      b.setAttribute("aria-selected", String(k === i));
    });
    pane.replaceChildren(views[i].make());
  };
  views.forEach((v, i) => tabs.appendChild(el("button", { type: "button", role: "tab", onclick: () => show(i) }, v.label)));
  show(0);
}

function card(label, value, sub, cls) {
  return el("div", { class: "stat " + (cls || "") }, el("div", { class: "stat-label" }, label), el("div", { class: "stat-value" }, value), sub ? el("div", { class: "stat-sub" }, sub) : null);
}

// "ContentionBound" may break as "Contention|Bound" in a narrow card, never inside a word.
function camelBreaks(name) {
  return name.split(/(?=[A-Z])/).flatMap((part, i) => (i ? [el("wbr"), part] : [part]));
}

function quoteArg(a) {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : "'" + a.replace(/'/g, "'\\''") + "'";
}

// "spawned by 28385 (tar)": how it began and, apart from its own name, its traced parent.
function startedAs(proc) {
  if (proc.parent_pid == null) return proc.how;
  const parent = (state.data.processes || []).find((p) => p.pid === proc.parent_pid && p !== proc);
  const verb = proc.how === "spawn" ? "spawned by" : proc.how + " of";
  return verb + " traced pid " + proc.parent_pid + (parent ? " (" + parent.name + ")" : "");
}

function renderOverview(body, proc, tEnd, t0) {
  const pi = proc.performance_insights || {};
  const peakAt = proc.peak && isNum(proc.peak.stamp_ns) ? "at " + fmtSeconds((proc.peak.stamp_ns - t0) / 1e9) : null;
  body.append(
    el(
      "div",
      { class: "stats" },
      card("Duration", fmtSeconds(tEnd), "traced"),
      card("Allocations", fmtCount(proc.total_allocations), fmtCount(proc.total_frees) + " frees"),
      card("Allocated", fmtBytes(proc.total_allocated_bytes), "requested bytes"),
      card("Peak heap", fmtBytes(proc.peak_heap_bytes), peakAt, "accent"),
      card("Leaked", fmtBytes(proc.leaked_bytes), fmtCount(proc.leaked_allocations) + " blocks", proc.leaked_bytes > 0 ? "warn" : "good"),
      ...leakKindCards(proc),
      card("Temporary", fmtCount(proc.temporary_allocations), fmtPct(proc.total_allocations ? (100 * proc.temporary_allocations) / proc.total_allocations : null) + " of allocations"),
      card("Threads", fmtCount(proc.threads), proc.metrics ? fmtCount(proc.metrics.samples) + " metric samples" : null),
      card("Bottleneck", pi.primary_bottleneck ? camelBreaks(pi.primary_bottleneck) : "not determined", pi.primary_bottleneck ? "see Insights" : null, "verdict-card")
    )
  );
  const facts = [
    ["pid", String(proc.pid) + (proc.ppid != null ? " (parent pid " + proc.ppid + ")" : "")],
    ["started as", startedAs(proc)],
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

function renderProcess(data, pid, root) {
  if (state.timeline) state.timeline.destroy();
  state.expected = 0;
  state.drawn = 0;
  delete document.body.dataset.reportReady;
  document.body.dataset.chartsDrawn = "0";
  clear(root);

  const proc = data.processes.find((p) => p.pid === pid);
  const series = seriesMap(proc);
  const t0 = timeOrigin(proc, series);
  const tEnd = timeEnd(proc, series, t0);
  state.timeline = new Timeline(t0, tEnd, chartDrawn);
  const sites = (data.sites || []).filter((s) => s.pid === pid);
  const leaks = (data.leaks || []).filter((s) => s.pid === pid);
  const threads = (data.threads || []).filter((t) => t.pid === pid);

  document.getElementById("cmdline").textContent = (proc.argv && proc.argv.length ? proc.argv : [proc.exe]).map(quoteArg).join(" ");
  document.getElementById("title").textContent = proc.name || baseName(proc.exe) || "process " + pid;

  const ov = section("overview", "Overview");
  root.appendChild(ov.s);
  renderOverview(ov.body, proc, tEnd, t0);

  const tl = section("timeline", "Timeline", "All panels share one time axis (seconds since the process started). Drag across any chart to zoom all of them; double-click to see the whole run.");
  root.appendChild(tl.s);
  const th = section("threads", "Threads");
  root.appendChild(th.s);
  const notes = renderTimeline(tl.body, proc, series, proc.peak);
  if (notes.length) tl.body.appendChild(el("div", { class: "notes" }, el("h4", null, "Not shown"), el("ul", null, notes.map((n) => el("li", null, n)))));
  renderThreads(th.body, proc, series, threads);

  const fl = section("flame", "Allocation flame graph", "Icicle of the call stacks that allocated: callers on top, the allocating frames below, width by the chosen weight. Click a frame to zoom, click a wider row above to zoom out.");
  root.appendChild(fl.s);
  state.expected++;
  state.icicle = new Icicle(fl.body, sites, chartDrawn);

  const st = section("sites", "Allocation sites", "Click a column to sort, a row for its call stack.");
  root.appendChild(st.s);
  renderSites(st.body, proc, sites, leaks);

  const ins = section("insights", "Insights", "The analyzer's verdict and the figures behind it (docs/analysis.md).");
  root.appendChild(ins.s);
  renderInsights(ins.body, proc);

  document.body.dataset.chartsExpected = String(state.expected);
  document.body.dataset.reportReady = "1";
}

function main() {
  const data = readAnalysis();
  state.data = data;
  const root = document.getElementById("report");
  const procs = data.processes || [];
  document.getElementById("schema").textContent = data.schema || "";
  if (data.errors && data.errors.length) {
    document.getElementById("errors").append(el("div", { class: "warning" }, el("strong", null, "Inputs that were not readable traces: "), data.errors.join("; ")));
  }
  if (procs.length === 0) {
    root.append(el("p", { class: "note" }, "The analysis holds no process."));
    document.body.dataset.chartsExpected = "0";
    document.body.dataset.chartsDrawn = "0";
    document.body.dataset.reportReady = "1";
    return;
  }
  const picker = document.getElementById("process");
  if (procs.length > 1) {
    for (const p of procs) picker.appendChild(el("option", { value: String(p.pid) }, p.pid + " \u00b7 " + (p.name || baseName(p.exe)) + " (" + p.how + ")" + " \u00b7 peak " + fmtBytes(p.peak_heap_bytes)));
    picker.hidden = false;
    picker.addEventListener("change", () => renderProcess(data, Number(picker.value), root));
    const s = data.summary || {};
    document.getElementById("all-procs").textContent =
      procs.length + " processes \u00b7 " + fmtCount(s.total_allocations) + " allocations \u00b7 largest peak " + fmtBytes(s.peak_heap_bytes) + " \u00b7 leaked " + fmtBytes(s.leaked_bytes);
  }
  renderProcess(data, procs[0].pid, root);

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
