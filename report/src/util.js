// Small helpers shared by the report's panels: DOM building that only ever inserts text
// (never HTML: thread names, symbols, paths and command lines come from the traced program),
// number formatting, and colours. An ES module: the other panels import what they use.

/** Builds an element. Strings and numbers among `children` become text nodes. */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value == null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "style") node.style.cssText = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, String(value));
    }
  }
  appendChildren(node, children);
  return node;
}

function appendChildren(node, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) appendChildren(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export const nf0 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
export const nf1 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
export const nf2 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
export const nf3 = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3 });

export const DASH = "\u2014"; // shown for a figure the trace did not give (JSON null)

export function isNum(v) {
  return typeof v === "number" && Number.isFinite(v);
}

export function fmtCount(v) {
  return isNum(v) ? nf0.format(v) : DASH;
}

/** 3 significant digits with a k/M/G suffix: 1.23M. */
export function fmtSI(v, unit) {
  if (!isNum(v)) return DASH;
  const a = Math.abs(v);
  const u = unit || "";
  if (a >= 1e9) return nf3.format(v / 1e9) + " G" + u;
  if (a >= 1e6) return nf3.format(v / 1e6) + " M" + u;
  if (a >= 1e3) return nf3.format(v / 1e3) + " k" + u;
  return nf3.format(v) + (u ? " " + u : "");
}

/** Binary units, as the text report prints them. */
export function fmtBytes(v) {
  if (!isNum(v)) return DASH;
  const a = Math.abs(v);
  if (a < 1024) return nf0.format(v) + " B";
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let x = v / 1024;
  let i = 0;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return nf3.format(x) + " " + units[i];
}

/** A sampled trace's estimated bytes with their 95 % interval: "~1.2 MiB [1.0 MiB – 1.4 MiB]". */
export function fmtEstimate(v, interval) {
  if (!Array.isArray(interval)) return fmtBytes(v);
  return "~" + fmtBytes(v) + " [" + fmtBytes(interval[0]) + " – " + fmtBytes(interval[1]) + "]";
}

export function fmtPct(v, digits) {
  if (!isNum(v)) return DASH;
  return (digits === 0 ? nf0 : digits === 2 ? nf2 : nf1).format(v) + " %";
}

export function fmtSeconds(s) {
  if (!isNum(s)) return DASH;
  const a = Math.abs(s);
  if (a === 0) return "0 s";
  if (a < 1e-3) return nf3.format(s * 1e6) + " \u00b5s";
  if (a < 1) return nf3.format(s * 1e3) + " ms";
  if (a < 120) return nf3.format(s) + " s";
  return nf1.format(s / 60) + " min";
}

export function fmtNum(v) {
  if (!isNum(v)) return DASH;
  if (Number.isInteger(v)) return nf0.format(v);
  return Math.abs(v) >= 100 ? nf1.format(v) : nf3.format(v);
}

/** A value in the unit a metric series declares (docs/analysis.md). */
export function fmtUnit(v, unit) {
  switch (unit) {
    case "bytes":
      return fmtBytes(v);
    case "bytes/s":
      return isNum(v) ? fmtBytes(v) + "/s" : DASH;
    case "percent":
      return fmtPct(v);
    case "percent_of_core":
      return isNum(v) ? nf1.format(v) + " % of a core" : DASH;
    case "per_s":
      return fmtSI(v, "/s");
    default:
      return isNum(v) ? fmtNum(v) + (unit && unit !== "count" ? " " + unit : "") : DASH;
  }
}

/** Figures in insights are named after their unit: *_share, *_percent, *_per_sec, *_bytes... */
export function fmtFigure(name, v) {
  if (!isNum(v)) return DASH;
  if (name.endsWith("_share")) return fmtPct(v * 100);
  if (name.endsWith("_percent")) return fmtPct(v);
  if (name.endsWith("_score")) return nf1.format(v);
  if (name.includes("bytes_per_sec")) return fmtBytes(v) + "/s";
  if (name.includes("bytes")) return fmtBytes(v);
  if (name.endsWith("_per_sec") || name.endsWith("_per_cpu_second") || name.endsWith("_per_thread_sec"))
    return fmtSI(v, "/s");
  if (name.endsWith("_s")) return fmtSeconds(v);
  return fmtNum(v);
}

/** An overview card: a label, its value and a line under it. */
export function card(label, value, sub, cls) {
  return el("div", { class: "stat " + (cls || "") }, el("div", { class: "stat-label" }, label), el("div", { class: "stat-value" }, value), sub ? el("div", { class: "stat-sub" }, sub) : null);
}

/** The frame's display name: the function, else module+offset (as the text report does). */
export function frameName(f) {
  if (f.function) return f.function;
  if (f.module) return baseName(f.module) + "+" + (f.offset || f.address);
  return f.address || "?";
}

/** The text cut to `n` characters, an ellipsis marking the cut. */
export function clip(s, n) {
  return s.length > n ? s.slice(0, n - 1) + "\u2026" : s;
}

export function baseName(path) {
  if (!path) return "";
  const i = path.lastIndexOf("/");
  return i < 0 ? path : path.slice(i + 1);
}

export function srcLocation(obj) {
  if (!obj || !obj.file) return "";
  return baseName(obj.file) + (obj.line ? ":" + obj.line : "");
}

/** The site's function as the analyzer chose it (docs/json-schema.md, "The site's function"). */
export function siteName(site) {
  if (site.inherited) return "[inherited from the parent at the fork]";
  if (site.function) return site.function;
  if (site.stack && site.stack.length) return frameName(site.stack[0]);
  return "[no stack recorded]";
}

// Okabe-Ito based palette: distinguishable, also with colour-vision deficiencies.
const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#7f7f7f", "#f0e442", "#332288", "#88ccee"];

export function paletteColor(i) {
  return PALETTE[i % PALETTE.length];
}

export function withAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
}

/** Heat colour for 0..1: pale yellow to deep red, like a per-core CPU heatmap usually reads. */
export function heatColor(f) {
  const x = Math.max(0, Math.min(1, f));
  const stops = [
    [0, [247, 251, 255]],
    [0.25, [254, 224, 139]],
    [0.5, [253, 174, 97]],
    [0.75, [244, 109, 67]],
    [1, [165, 0, 38]],
  ];
  for (let i = 1; i < stops.length; i++) {
    if (x <= stops[i][0]) {
      const [x0, c0] = stops[i - 1];
      const [x1, c1] = stops[i];
      const t = (x - x0) / (x1 - x0);
      const c = c0.map((v, k) => Math.round(v + (c1[k] - v) * t));
      return "rgb(" + c.join(",") + ")";
    }
  }
  return "rgb(165,0,38)";
}

/**
 * A C++ name with template arguments folded: ns::Matrix<…>::allocate_rows<…>(unsigned long).
 * Names with operator<, operator<< and the like are returned whole: their '<' is no bracket.
 */
export function shortName(name) {
  if (!name || name.indexOf("<") < 0 || /operator\s*(<|>|->)/.test(name)) return name;
  let out = "";
  let depth = 0;
  for (const ch of name) {
    if (ch === "<") {
      if (depth === 0) out += "<\u2026";
      depth++;
    } else if (ch === ">" && depth > 0) {
      depth--;
      if (depth === 0) out += ">";
    } else if (depth === 0) out += ch;
  }
  return depth === 0 ? out : name;
}
