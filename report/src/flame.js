// Icicle graph of allocation sites: the root is the whole process, each row one frame deeper
// (outermost caller at the top), widths are the chosen weight summed over the sites below.
// The call tree is the analysis's stacks table (a stack is a frame and its caller's stack), its
// callees of one name merged as the text report's call tree does.
// Written here rather than taken from npm: the flame graph packages there pull in d3 (eight
// packages) and build their tooltips from HTML strings, while this needs ~250 lines of canvas.

import { baseName, clear, clip, el, fmtBytes, fmtCount, fmtPct, frameName, shortName } from "./util.js";

const FLAME_METRICS = [
  { key: "bytes", label: "allocated bytes", fmt: fmtBytes },
  { key: "count", label: "allocations", fmt: fmtCount },
  { key: "leaked", label: "leaked bytes", fmt: fmtBytes },
  { key: "peak", label: "held at the peak", fmt: fmtBytes },
];
const ROW_PX = 19;
// Standard-library code by its name (the analysis names the runtime libraries, not these).
const STD_FUNCTION = /^(std::|__gnu_cxx::|__cxxabiv1::|operator new|operator delete)/;

function newNode(name, frame, parent) {
  return { name, frame, parent, children: new Map(), v: [0, 0, 0, 0] };
}

function childNode(node, name, frame, created) {
  let child = node.children.get(name);
  if (!child) {
    child = newNode(name, frame, node);
    node.children.set(name, child);
    created.push(child);
  }
  return child;
}

/**
 * The call tree of the process's sites: each stack a node under its caller's (callees of one
 * name merged), each node the four weights summed over the sites whose stack passes through it.
 */
function buildCallTree(analysis, sites) {
  const root = newNode("all allocations", null, null);
  const created = []; // every node after its parent: summed up in reverse order below
  const nodeOf = new Map(); // stack index -> node
  const nodeFor = (stack) => {
    const chain = [];
    let s = stack;
    for (; s != null && !nodeOf.has(s); s = analysis.stackParent(s)) chain.push(s);
    let node = s == null ? root : nodeOf.get(s);
    for (let k = chain.length - 1; k >= 0; k--) {
      const frame = analysis.frame(analysis.stackFrame(chain[k]));
      node = childNode(node, frameName(frame), frame, created);
      nodeOf.set(chain[k], node);
    }
    return node;
  };
  for (const s of sites) {
    let leaf;
    if (s.inherited || s.stackIndex == null) leaf = childNode(root, s.function, null, created);
    else leaf = nodeFor(s.stackIndex);
    leaf.v[0] += s.allocated_bytes || 0;
    leaf.v[1] += s.allocations || 0;
    leaf.v[2] += s.leaked_bytes || 0;
    leaf.v[3] += s.peak_bytes || 0;
  }
  for (let i = created.length - 1; i >= 0; i--) {
    const n = created[i];
    for (let k = 0; k < 4; k++) n.parent.v[k] += n.v[k];
  }
  return root;
}

export class Icicle {
  /** analysis: the Analysis (stacks, frames, runtime_modules); sites: the process's site rows. */
  constructor(container, analysis, sites, onDrawn) {
    this.root = buildCallTree(analysis, sites);
    this.runtimeModules = analysis.runtimeModules;
    this.metric = 0;
    this.focus = this.root;
    this.query = "";
    this.onDrawn = onDrawn;
    this.rects = [];
    this.drawnOnce = false;

    const bar = el("div", { class: "flame-bar" });
    this.select = el(
      "div",
      { class: "seg", role: "group", "aria-label": "weight" },
      FLAME_METRICS.map((m, i) =>
        el("button", { type: "button", class: i === 0 ? "on" : "", dataset: { metric: String(i) }, onclick: () => this.setMetric(i) }, m.label)
      )
    );
    this.search = el("input", { type: "search", placeholder: "Search functions\u2026", "aria-label": "search functions", oninput: () => this.setQuery(this.search.value) });
    this.status = el("span", { class: "flame-status" });
    const reset = el("button", { type: "button", class: "ghost", onclick: () => this.zoom(this.root) }, "Reset zoom");
    bar.append(this.select, this.search, reset, this.status);
    this.canvas = el("canvas", { class: "flame-canvas", dataset: { chart: "flame" } });
    this.tip = el("div", { class: "tip", hidden: true });
    this.wrap = el("div", { class: "flame-wrap" }, this.canvas, this.tip);
    container.append(bar, this.wrap);

    this.canvas.addEventListener("mousemove", (e) => this.hover(e));
    this.canvas.addEventListener("mouseleave", () => (this.tip.hidden = true));
    this.canvas.addEventListener("click", (e) => {
      const n = this.hit(e);
      if (n) this.zoom(n);
    });
    this.render();
  }

  setMetric(i) {
    this.metric = i;
    for (const b of this.select.children) b.className = b.dataset.metric === String(i) ? "on" : "";
    if (this.focus.v[i] === 0) this.focus = this.root;
    this.render();
  }

  setQuery(q) {
    this.query = q.trim().toLowerCase();
    this.render();
  }

  zoom(node) {
    this.focus = node;
    this.render();
  }

  matches(node) {
    return this.query !== "" && node.name.toLowerCase().includes(this.query);
  }

  color(node, depth) {
    if (this.query !== "") return this.matches(node) ? "#7c3aed" : "#e5e7eb";
    if (!node.frame) return depth === 0 ? "#9ca3af" : "#a5b4fc";
    const mod = baseName(node.frame.module);
    let h = 0;
    for (let i = 0; i < node.name.length; i++) h = (h * 31 + node.name.charCodeAt(i)) >>> 0;
    if (this.runtimeModules.some((prefix) => mod.startsWith(prefix)) || STD_FUNCTION.test(node.name)) {
      return "hsl(" + (200 + (h % 25)) + ",45%," + (72 + (h % 10)) + "%)"; // runtime: cool
    }
    return "hsl(" + (10 + (h % 38)) + "," + (78 + (h % 15)) + "%," + (node.frame.inlined ? 68 : 60) + "%)";
  }

  visibleChildren(node) {
    const m = this.metric;
    return [...node.children.values()].filter((c) => c.v[m] > 0).sort((a, b) => b.v[m] - a.v[m]);
  }

  depthOf(node) {
    let d = 0;
    for (let n = node; n.parent; n = n.parent) d++;
    return d;
  }

  /** Deepest row that will be drawn: frames narrower than layout() draws do not count. */
  maxDepth(node, depth, w) {
    let d = depth;
    for (const c of this.visibleChildren(node)) {
      const cw = (w * c.v[this.metric]) / node.v[this.metric];
      if (cw >= 0.4) d = Math.max(d, this.maxDepth(c, depth + 1, cw));
    }
    return d;
  }

  render() {
    const m = this.metric;
    const metric = FLAME_METRICS[m];
    const width = Math.max(480, this.wrap.clientWidth);
    const focusDepth = this.depthOf(this.focus);
    const rows = this.root.v[m] > 0 ? this.maxDepth(this.focus, focusDepth, width) + 1 : 1;
    const height = rows * ROW_PX + 2;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    this.canvas.style.width = width + "px";
    this.canvas.style.height = height + "px";
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);
    ctx.font = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    ctx.textBaseline = "middle";
    this.rects = [];

    if (this.root.v[m] === 0) {
      ctx.fillStyle = "#6b7280";
      ctx.fillText("No " + metric.label + " in this process.", 8, ROW_PX / 2 + 1);
    } else {
      // Ancestors of the focus span the full width, dimmed, so a click on them zooms out.
      const chain = [];
      for (let n = this.focus; n; n = n.parent) chain.unshift(n);
      chain.forEach((n, d) => {
        if (n !== this.focus) this.drawNode(ctx, n, 0, width, d, true);
      });
      this.layout(ctx, this.focus, 0, width, focusDepth, width / this.focus.v[m]);
    }

    let matched = 0;
    if (this.query !== "") matched = this.matchedTotal(this.root);
    this.status.textContent =
      (this.query !== ""
        ? "matched " + metric.fmt(matched) + " of " + metric.fmt(this.root.v[m]) + " (" + fmtPct((100 * matched) / (this.root.v[m] || 1)) + ")"
        : "total " + metric.fmt(this.root.v[m])) + (this.focus !== this.root ? " \u00b7 zoomed on " + clip(this.focus.name, 60) : "");
    if (!this.drawnOnce) {
      this.drawnOnce = true;
      this.onDrawn(this.canvas);
    }
  }

  layout(ctx, node, x, w, depth, scale) {
    if (w < 0.4) return;
    this.drawNode(ctx, node, x, w, depth, false);
    let cx = x;
    for (const c of this.visibleChildren(node)) {
      const cw = c.v[this.metric] * scale;
      this.layout(ctx, c, cx, cw, depth + 1, scale);
      cx += cw;
    }
  }

  drawNode(ctx, node, x, w, depth, dimmed) {
    const y = depth * ROW_PX;
    ctx.globalAlpha = dimmed ? 0.55 : 1;
    ctx.fillStyle = this.color(node, depth);
    ctx.fillRect(x + 0.5, y + 0.5, Math.max(0.5, w - 1), ROW_PX - 1);
    ctx.globalAlpha = 1;
    if (w > 28) {
      ctx.fillStyle = this.query !== "" && this.matches(node) ? "#ffffff" : "#1f2937";
      ctx.fillText(fitText(ctx, shortName(node.name), w - 8), x + 4, y + ROW_PX / 2 + 1);
    }
    this.rects.push({ x, y, w, node });
  }

  matchedTotal(node) {
    if (this.matches(node)) return node.v[this.metric];
    let s = 0;
    for (const c of node.children.values()) s += this.matchedTotal(c);
    return s;
  }

  hit(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    for (let i = this.rects.length - 1; i >= 0; i--) {
      const q = this.rects[i];
      if (x >= q.x && x < q.x + q.w && y >= q.y && y < q.y + ROW_PX) return q.node;
    }
    return null;
  }

  hover(e) {
    const n = this.hit(e);
    if (!n) {
      this.tip.hidden = true;
      this.canvas.style.cursor = "default";
      return;
    }
    this.canvas.style.cursor = "pointer";
    const m = this.metric;
    const f = n.frame;
    clear(this.tip);
    this.tip.append(
      el("div", { class: "tip-name" }, n.name),
      f && f.file ? el("div", { class: "muted" }, f.file + (f.line ? ":" + f.line : "")) : null,
      f && f.module ? el("div", { class: "muted" }, f.module + (f.offset ? " +" + f.offset : "") + (f.inlined ? " (inlined)" : "")) : null,
      el(
        "div",
        null,
        FLAME_METRICS.map((mm, i) =>
          el("div", { class: i === m ? "strong" : "" }, mm.label + ": " + mm.fmt(n.v[i]) + (this.root.v[i] ? " (" + fmtPct((100 * n.v[i]) / this.root.v[i]) + ")" : ""))
        )
      )
    );
    this.tip.hidden = false;
    const r = this.wrap.getBoundingClientRect();
    const x = e.clientX - r.left + 14;
    const y = e.clientY - r.top + 14;
    this.tip.style.left = Math.min(x, r.width - this.tip.offsetWidth - 4) + "px";
    this.tip.style.top = y + "px";
  }

  resize() {
    this.render();
  }
}

function fitText(ctx, text, maxW) {
  if (ctx.measureText(text).width <= maxW) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(text.slice(0, mid) + "\u2026").width <= maxW) lo = mid;
    else hi = mid - 1;
  }
  return lo > 0 ? text.slice(0, lo) + "\u2026" : "";
}
