// The Timeline section's panels: live heap and allocation rates (the heap_over_time columns,
// rates per second from the bucket width the analysis gives), CPU, per-core heat, GPU, disk and
// network IO, pressure stalls; a panel whose series were never recorded is named in a note.

import { el, fmtBytes, fmtSeconds, isNum, paletteColor } from "./util.js";

export function panel(title, subtitle) {
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

/** The heap_over_time columns, or null when the process recorded no bucket. */
function heapColumns(hot) {
  if (!hot || !(hot.bucket_ns > 0) || !hot.start_ns || hot.start_ns.length === 0) return null;
  return hot;
}

/** Time panels. Returns the notes on panels left out for lack of series. */
export function renderTimeline(body, tl, proc, series, peak) {
  const notes = [];
  const add = (p) => body.appendChild(p.node);

  // Live heap, with the peak marked.
  const heap = heapColumns(proc.heap_over_time);
  if (heap) {
    const bucket = fmtSeconds(heap.bucket_ns / 1e9);
    const p = panel("Live heap", "requested bytes live at each " + bucket + " bucket's end, peak marked \u00b7 RSS on the right axis");
    add(p);
    const ends = heap.start_ns.map((t) => tl.sec(t + heap.bucket_ns));
    const lines = [
      { label: "live heap", unit: "bytes", color: "#0072b2", xs: ends, ys: heap.live_bytes.slice(), fill: true, width: 2 },
      // The highest value holds somewhere within the bucket: drawn over the bucket's whole width.
      { label: "highest in bucket", unit: "bytes", color: "#56b4e9", xs: [tl.sec(heap.start_ns[0]), ...ends], ys: [...heap.live_bytes_peak, null], stepped: 1, dash: [4, 3], width: 1 },
    ];
    const rss = series.get("memory.process_rss_bytes");
    // RSS is usually far above the live heap (allocator overhead, code, stacks): its own axis.
    if (rss) lines.push(metricLine(tl, rss, "process RSS (right axis)", "#7f7f7f", { stepped: 0, width: 1, right: true }));
    const peakX = peak && isNum(peak.stamp_ns) ? tl.sec(peak.stamp_ns) : null;
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

    const q = panel("Allocation and free rates", "per " + bucket + " bucket");
    add(q);
    // One extra point at the last bucket's end so that the last step has its width.
    const xs = [...heap.start_ns.map((t) => tl.sec(t)), ends[ends.length - 1]];
    const perSecond = (counts) => {
      const rates = counts.map((c) => c / (heap.bucket_ns / 1e9));
      return [...rates, rates[rates.length - 1]];
    };
    tl.addLineChart(q.chart, {
      series: [
        { label: "allocations/s", unit: "per_s", color: "#009e73", xs, ys: perSecond(heap.allocations), stepped: 1, fill: true },
        { label: "frees/s", unit: "per_s", color: "#cc79a7", xs, ys: perSecond(heap.frees), stepped: 1 },
        { label: "allocated bytes/s", unit: "bytes/s", color: "#e69f00", xs, ys: perSecond(heap.allocated_bytes), stepped: 1, right: true, dash: [4, 3] },
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
    tl.addLineChart(p.chart, { series: psi.map((s, i) => metricLine(tl, s, s.name.replace(/^psi\./, "").replace(/_percent$/, ""), paletteColor(i), { dash: /full/.test(s.name) ? [4, 3] : undefined })), yMax: 100 });
  } else notes.push("Pressure stalls: the kernel reported no PSI (needs Linux 4.20+ with PSI enabled).");

  return notes;
}
