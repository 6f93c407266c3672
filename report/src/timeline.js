// The time panels: uPlot charts on one shared x axis (seconds since the process started).
// Dragging across any chart zooms all of them, a double click shows the whole run again.
// Line charts draw series as recorded; heatmaps (per core, per thread) paint one cell per metric
// sample over the interval it covers, (t[i-1], t[i]] (docs/analysis.md, "Alignment").

import uPlot from "uplot";
import { clip, el, fmtBytes, fmtSI, fmtSeconds, fmtUnit, heatColor, nf0, withAlpha } from "./util.js";

const LEFT_AXIS_PX = 150; // the same on every chart so that their plot areas line up
const RIGHT_AXIS_PX = 78;

export class Timeline {
  constructor(t0Ns, endS, onDrawn) {
    this.t0Ns = t0Ns;
    this.endS = endS > 0 ? endS : 1;
    this.charts = [];
    this.expected = 0; // charts added: each reports itself once drawn (onDrawn)
    this.syncing = false;
    this.onDrawn = onDrawn;
  }

  sec(ns) {
    return (ns - this.t0Ns) / 1e9;
  }

  width(container) {
    return Math.max(480, container.clientWidth - 2);
  }

  destroy() {
    for (const c of this.charts) c.destroy();
    this.charts = [];
  }

  resize() {
    for (const c of this.charts) c.setSize({ width: this.width(c.root.parentNode), height: c.height });
  }

  setRange(min, max, except) {
    // Read by the browser test (tests/report) to see that a zoom reached every chart.
    document.body.dataset.timeRange = min.toFixed(3) + ".." + max.toFixed(3);
    this.syncing = true;
    for (const c of this.charts) if (c !== except) c.setScale("x", { min, max });
    this.syncing = false;
  }

  common(container, height, extraHooks) {
    const self = this;
    let drawnOnce = false;
    return {
      width: this.width(container),
      height,
      cursor: {
        sync: { key: "memscope-time" },
        drag: { x: true, y: false, setScale: true },
        points: { size: 6 },
      },
      scales: { x: { time: false } },
      hooks: {
        ready: [
          (u) => {
            // After uPlot's own double-click handler (it autoscales to this chart's data):
            // the whole run, on every chart.
            u.over.addEventListener("dblclick", () => self.setRange(0, self.endS));
            // Every chart starts on the whole run, not on its own data's extent. (A range
            // function on the x scale would do that too, but uPlot applies it to zooms as well.)
            u.setScale("x", { min: 0, max: self.endS });
          },
        ],
        setScale: [
          (u, key) => {
            if (key === "x" && !self.syncing) self.setRange(u.scales.x.min, u.scales.x.max, u);
          },
        ],
        draw: [
          ...(extraHooks && extraHooks.draw ? extraHooks.draw : []),
          (u) => {
            if (!drawnOnce) {
              drawnOnce = true;
              self.onDrawn(u);
            }
          },
        ],
        setCursor: extraHooks && extraHooks.setCursor ? extraHooks.setCursor : [],
      },
    };
  }

  xAxis() {
    return {
      stroke: "#4b5563",
      grid: { stroke: "#eef0f3" },
      ticks: { stroke: "#d1d5db" },
      values: (u, splits) => splits.map((v) => fmtSeconds(v)),
      size: 34,
    };
  }

  yAxis(unit, scale, side) {
    return {
      scale,
      side,
      stroke: "#4b5563",
      grid: { show: side === 3, stroke: "#eef0f3" },
      ticks: { stroke: "#d1d5db" },
      size: side === 3 ? LEFT_AXIS_PX : RIGHT_AXIS_PX,
      values: (u, splits) => splits.map((v) => axisValue(v, unit)),
    };
  }

  emptyRightAxis() {
    return { scale: "y", side: 1, size: RIGHT_AXIS_PX, grid: { show: false }, ticks: { show: false }, values: () => [] };
  }

  /**
   * spec: {series: [{label, unit, color, xs (seconds), ys, right?, stepped?, fill?}], markers}
   * Series of one chart may have different x points: uPlot.join aligns them (null where absent).
   */
  addLineChart(container, spec) {
    this.expected++;
    // Only right-axis series (e.g. a process's CPU without the machine's): they take the left.
    if (spec.series.every((s) => s.right)) spec.series.forEach((s) => (s.right = false));
    const tables = spec.series.map((s) => [s.xs, s.ys]);
    const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    const leftUnit = spec.series.find((s) => !s.right).unit;
    const right = spec.series.find((s) => s.right);
    const scales = { x: { time: false }, y: { range: yRange(spec.yMax) } };
    if (right) scales.y2 = { range: yRange(spec.y2Max) };
    const opts = this.common(container, spec.height || 190, { draw: spec.draw ? [spec.draw] : [] });
    opts.scales = scales;
    opts.axes = [this.xAxis(), this.yAxis(leftUnit, "y", 3), right ? this.yAxis(right.unit, "y2", 1) : this.emptyRightAxis()];
    opts.series = [
      { label: "time", value: (u, v) => (v == null ? "--" : fmtSeconds(v)) },
      ...spec.series.map((s) => ({
        label: s.label,
        scale: s.right ? "y2" : "y",
        stroke: s.color,
        width: s.width || 1.5,
        fill: s.fill ? withAlpha(s.color, 0.12) : undefined,
        dash: s.dash,
        spanGaps: true,
        points: { show: false },
        paths: s.stepped ? uPlot.paths.stepped({ align: s.stepped }) : undefined,
        value: (u, v) => (v == null ? "--" : fmtUnit(v, s.unit)),
      })),
    ];
    const chart = new uPlot(opts, data, container);
    this.charts.push(chart);
    return chart;
  }

  /**
   * spec: {rows: [{label, xs, ys, start?, end?, detail?}], max, unit}. Each row is a lane; a
   * lane's [start, end] (a thread's life) is shaded, its samples are painted as heat cells.
   */
  addHeatmap(container, spec, readout) {
    this.expected++;
    const rows = spec.rows;
    const n = rows.length;
    const xsAll = new Set([0, this.endS]);
    for (const r of rows) for (const x of r.xs) xsAll.add(x);
    const xs = [...xsAll].sort((a, b) => a - b);
    const laneH = spec.laneHeight || 20;
    const height = Math.max(90, n * laneH + 44);
    const self = this;
    const draw = (u) => {
      const ctx = u.ctx;
      const { left, top, width, height: h } = u.bbox;
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, top, width, h);
      ctx.clip();
      for (let r = 0; r < n; r++) {
        const row = rows[r];
        const y0 = u.valToPos(n - r, "y", true);
        const y1 = u.valToPos(n - r - 1, "y", true);
        const gap = Math.max(1, (y1 - y0) * 0.12);
        if (row.start != null) {
          const a = u.valToPos(row.start, "x", true);
          const b = u.valToPos(row.end != null ? row.end : self.endS, "x", true);
          ctx.fillStyle = "#e5e7eb";
          ctx.fillRect(a, y0 + gap, Math.max(1, b - a), y1 - y0 - 2 * gap);
        }
        for (let i = 0; i < row.xs.length; i++) {
          const v = row.ys[i];
          if (v == null) continue;
          const t1 = row.xs[i];
          const t0 = i > 0 ? row.xs[i - 1] : row.xs.length > 1 ? t1 - (row.xs[1] - row.xs[0]) : t1 - 0.1;
          const a = u.valToPos(Math.max(t0, row.start != null ? row.start : t0), "x", true);
          const b = u.valToPos(t1, "x", true);
          // sqrt: a thread at 5 % of a core is still visible next to one at 100 %.
          ctx.fillStyle = heatColor(Math.sqrt(Math.max(0, v) / spec.max));
          ctx.fillRect(a, y0 + gap, Math.max(1, b - a), y1 - y0 - 2 * gap);
        }
      }
      ctx.restore();
    };
    const setCursor = (u) => {
      const { left, top } = u.cursor;
      if (left == null || left < 0 || top == null || top < 0) {
        readout.textContent = spec.hint;
        return;
      }
      const t = u.posToVal(left, "x");
      const r = n - 1 - Math.floor(u.posToVal(top, "y"));
      if (r < 0 || r >= n) return;
      const row = rows[r];
      let value = null;
      for (let i = 0; i < row.xs.length; i++) {
        if (row.xs[i] >= t && (i === 0 || row.xs[i - 1] < t)) {
          value = row.ys[i];
          break;
        }
      }
      readout.textContent =
        row.label + " at " + fmtSeconds(t) + ": " + (value == null ? "no sample" : fmtUnit(value, spec.unit)) + (row.detail ? " \u00b7 " + row.detail : "");
    };
    const opts = this.common(container, height, { draw: [draw], setCursor: [setCursor] });
    opts.legend = { show: false };
    opts.cursor.points = { show: false };
    opts.scales = { x: { time: false }, y: { range: [0, n] } };
    opts.axes = [
      this.xAxis(),
      {
        scale: "y",
        side: 3,
        size: LEFT_AXIS_PX,
        stroke: "#374151",
        grid: { show: false },
        ticks: { show: false },
        splits: () => rows.map((_, r) => n - r - 0.5),
        font: "11px system-ui, sans-serif",
        values: (u, splits) => splits.map((v) => clip(rows[n - 1 - Math.floor(v)].label, 23)),
      },
      this.emptyRightAxis(),
    ];
    opts.series = [{}, { label: "", scale: "y", show: true, stroke: "transparent", points: { show: false } }];
    const chart = new uPlot(opts, [xs, xs.map(() => null)], container);
    this.charts.push(chart);
    readout.textContent = spec.hint;
    const head = container.parentNode.querySelector(".panel-head");
    if (head) head.appendChild(heatLegend(spec.max, spec.unit));
    return chart;
  }
}

function yRange(max) {
  return (u, min, dataMax) => {
    const hi = max != null ? max : dataMax;
    if (hi == null || !(hi > 0)) return [0, 1];
    return [0, hi * 1.08];
  };
}

function axisValue(v, unit) {
  switch (unit) {
    case "bytes":
      return fmtBytes(v);
    case "bytes/s":
      return fmtBytes(v) + "/s";
    case "percent":
    case "percent_of_core":
      return nf0.format(v) + " %";
    case "per_s":
      return fmtSI(v, "/s");
    default:
      return fmtSI(v);
  }
}

/** The colour scale of a heatmap, with the same square-root mapping as its cells. */
function heatLegend(max, unit) {
  const stops = [0, 0.05, 0.25, 0.5, 1];
  return el(
    "div",
    { class: "heat-legend" },
    stops.map((f) => el("span", { class: "heat-stop" }, el("span", { class: "swatch", style: "background:" + heatColor(Math.sqrt(f)) }), axisValue(f * max, unit)))
  );
}
