// Reads the analysis the page carries, memscope-analysis/3 (docs/json-schema.md): strings,
// frames and stacks are tables that sites refer to by index, sites and leaks are columns, and
// every row names its process by its key (a pid is not unique: an exec'd image keeps its pid).
// A column is an array or a compact encoding (sparse, runs, deltas, back: "Columns" there),
// expanded here once. The panels get per-process rows from here and never index the tables
// themselves.
// tests/lib/memscope_analysis.py is the reference reader; this one resolves the same way.

import { frameName } from "./util.js";

export const SCHEMA = "memscope-analysis/3";

const SITE_FIGURES = [
  "allocations",
  "frees",
  "allocated_bytes",
  "freed_bytes",
  "temporary_allocations",
  "leaked_allocations",
  "leaked_bytes",
  "peak_allocations",
  "peak_bytes",
];

const INHERITED = "[inherited from the parent at the fork]";
const NO_STACK = "[no stack recorded]";

/** A column as the array of its rows: as written, or expanded from its encoding. */
export function expandColumn(c) {
  if (Array.isArray(c)) return c;
  if (!c || typeof c !== "object") throw new Error("not a column: " + JSON.stringify(c));
  const out = [];
  if (c.runs) {
    c.runs.forEach((v, i) => {
      for (let k = 0; k < c.lengths[i]; k++) out.push(v);
    });
  } else if (c.deltas) {
    let x = 0;
    for (const d of expandColumn(c.deltas)) out.push((x += d));
  } else if (c.back) {
    expandColumn(c.back).forEach((b, i) => out.push(b === 0 ? null : i - b));
  } else {
    for (let i = 0; i < c.length; i++) out.push(c.default);
    let at = 0;
    c.gaps.forEach((gap, i) => {
      at += gap;
      out[at] = c.values[i];
    });
  }
  return out;
}

/** The table with each of its columns expanded, in place (other members kept as they are). */
function expandColumns(table) {
  if (!table) return table;
  for (const [k, v] of Object.entries(table)) if (v && typeof v === "object") table[k] = expandColumn(v);
  return table;
}

/** The sites table with its columns expanded and its shared rows (`row` into `distinct`) joined. */
function expandSites(table) {
  if (!table) return table;
  const distinct = table.distinct;
  delete table.distinct;
  expandColumns(table);
  if (distinct) {
    for (const [k, v] of Object.entries(expandColumns(distinct))) table[k] = table.row.map((r) => v[r]);
    delete table.row;
  }
  return table;
}

/** The length of a table of columns: all its columns have one entry per row. */
function rowCount(table) {
  if (!table) return 0;
  const lengths = new Set(Object.values(table).filter(Array.isArray).map((c) => c.length));
  if (lengths.size > 1) throw new Error("columns of different lengths: " + [...lengths].join(", "));
  return lengths.size ? [...lengths][0] : 0;
}

/** The rows of `count` indices grouped by the process key `keyOf(i)` gives. */
function groupByProcess(count, processes, keyOf) {
  const groups = processes.map(() => []);
  for (let i = 0; i < count; i++) {
    const key = keyOf(i);
    if (!groups[key]) throw new Error("row " + i + " names process " + key + ", which the analysis lacks");
    groups[key].push(i);
  }
  return groups;
}

export class Analysis {
  constructor(doc) {
    if (!doc || doc.schema !== SCHEMA)
      throw new Error("this page reads " + SCHEMA + ", the analysis is " + JSON.stringify(doc && doc.schema));
    this.doc = doc;
    this.processes = doc.processes || [];
    this.processes.forEach((p, key) => {
      if (p.key !== key) throw new Error("process " + key + " has key " + p.key);
    });
    const axes = (doc.correlations && doc.correlations.series) || {};
    const unmeasured = "fewer than " + ((doc.correlations && doc.correlations.min_samples) || "the needed") + " aligned samples with both series";
    for (const p of this.processes) {
      expandColumns(p.heap_over_time);
      if (p.functions && p.functions.function) expandColumns(p.functions);
      // Each correlation's series are written once, at the top, and a correlation not measured
      // is absent; the page shows every correlation of every process with its series.
      const written = p.correlations || {};
      p.correlations = {};
      for (const [name, series] of Object.entries(axes)) p.correlations[name] = Object.assign({ null_reason: unmeasured }, series, written[name]);
    }
    this.strings = doc.strings || [];
    this.framesTable = expandColumns(doc.frames) || {};
    this.stacksTable = expandColumns(doc.stacks) || { frame: [], parent: [] };
    this.runtimeModules = doc.runtime_modules || [];
    const sites = expandSites(doc.sites) || {};
    this.sitesTable = sites;
    this.siteCount = rowCount(sites);
    this.siteGroups = groupByProcess(this.siteCount, this.processes, (i) => sites.process[i]);
    const leaks = expandColumns(doc.leaks) || {};
    this.leaksTable = leaks;
    this.leakGroups = groupByProcess(rowCount(leaks), this.processes, (i) => sites.process[leaks.site[i]]);
    this.frameCache = new Map();
    this.siteCache = new Map();
  }

  get stackCount() {
    return this.stacksTable.frame.length;
  }

  /** The frame at `index`, its names resolved: {function, file, line, module, address, offset, inlined}. */
  frame(index) {
    if (index == null) return null;
    let f = this.frameCache.get(index);
    if (!f) {
      const t = this.framesTable;
      const text = (column) => {
        const i = t[column][index];
        return i == null ? null : this.strings[i];
      };
      f = {
        function: text("function"),
        file: text("file"),
        line: t.line[index],
        module: text("module"),
        address: t.address[index],
        offset: t.offset[index],
        inlined: t.inlined[index],
      };
      this.frameCache.set(index, f);
    }
    return f;
  }

  /** The stack's innermost frame index and its caller's stack (null at the outermost). */
  stackFrame(index) {
    return this.stacksTable.frame[index];
  }

  stackParent(index) {
    return this.stacksTable.parent[index];
  }

  /** The frames of a stack, innermost first: the stack, its caller's stack, and so on. */
  stack(index) {
    const out = [];
    for (let i = index; i != null; i = this.stackParent(i)) out.push(this.frame(this.stackFrame(i)));
    return out;
  }

  /** The process's sites in the page: each a row with its figures, name and (on demand) stack. */
  sites(key) {
    let rows = this.siteCache.get(key);
    if (!rows) {
      rows = this.siteGroups[key].map((i) => this.siteRow(i));
      this.siteCache.set(key, rows);
    }
    return rows;
  }

  /** The frame of site `index`'s function: `function_depth` callers up its stack. */
  functionFrame(index) {
    const t = this.sitesTable;
    let at = t.stack[index];
    const depth = t.function_depth[index];
    if (depth == null || at == null) return null;
    for (let k = 0; k < depth; k++) at = this.stacksTable.parent[at];
    return this.stacksTable.frame[at];
  }

  siteRow(index) {
    const t = this.sitesTable;
    const proc = this.processes[t.process[index]];
    const fn = this.frame(this.functionFrame(index));
    const stackIndex = t.stack[index];
    const inherited = proc.inherited_site != null && proc.inherited_site === index;
    const row = {
      index,
      process: proc.key,
      stackIndex,
      inherited,
      function: inherited ? INHERITED : fn ? frameName(fn) : NO_STACK,
      file: fn && fn.file,
      line: fn && fn.line,
      module: fn && fn.module,
    };
    for (const k of SITE_FIGURES) row[k] = t[k][index];
    // A sampled trace's 95 % intervals of the site's estimates; null in an exact trace.
    row.estimate = t.estimate ? t.estimate[index] : null;
    const self = this;
    let frames = null;
    Object.defineProperty(row, "stack", {
      get() {
        if (frames === null) frames = stackIndex == null ? [] : self.stack(stackIndex);
        return frames;
      },
    });
    return row;
  }

  /** The process's leaking sites: the site with the leak's kind and suppression rule. */
  leaks(key) {
    const t = this.leaksTable;
    const all = this.sites(key);
    const byIndex = new Map(all.map((s) => [s.index, s]));
    return this.leakGroups[key].map((i) => {
      const site = byIndex.get(t.site[i]);
      const rule = t.suppression[i] == null ? null : this.doc.suppressions[t.suppression[i]];
      return { site, function: site.function, file: site.file, line: site.line, inherited: site.inherited, stack: site.stack, bytes: site.leaked_bytes, allocations: site.leaked_allocations, kind: t.kind[i], suppressed: rule !== null, suppression: rule };
    });
  }

  /** The process's threads (one list in the analysis, every thread naming its process). */
  threads(key) {
    return (this.doc.threads || []).filter((t) => t.process === key);
  }

  /**
   * The process's functions: the analyzer's own grouping of every site by function when the
   * document has it (`functions` columns: all of them, or the largest in a bounded document),
   * else the sites the page holds grouped by their function's name, the figures summed; file,
   * line and module those of the group's largest site.
   */
  functions(key) {
    const table = this.processes[key].functions;
    if (table && Array.isArray(table.function)) {
      return table.function.map((name, i) => {
        const f = this.frame(table.frame[i]);
        const row = { function: name == null ? null : this.strings[name], sites: table.sites[i], file: f && f.file, line: f && f.line, module: f && f.module };
        for (const k of ["allocations", "allocated_bytes", "temporary_allocations", "peak_bytes", "leaked_allocations", "leaked_bytes"]) row[k] = table[k][i];
        return row;
      });
    }
    const groups = new Map();
    for (const s of this.sites(key)) {
      let g = groups.get(s.function);
      if (!g) {
        g = { function: s.function, largest: s, sites: 0 };
        for (const k of SITE_FIGURES) g[k] = 0;
        groups.set(s.function, g);
      }
      g.sites++;
      for (const k of SITE_FIGURES) g[k] += s[k] || 0;
      if ((s.allocated_bytes || 0) > (g.largest.allocated_bytes || 0)) g.largest = s;
    }
    return [...groups.values()].map((g) => Object.assign(g, { file: g.largest.file, line: g.largest.line, module: g.largest.module }));
  }

  /** How many of the process's sites the page holds, and how many it has in all. */
  siteCoverage(key) {
    const proc = this.processes[key];
    const shown = this.siteGroups[key].length;
    return { shown, total: Number.isInteger(proc.sites) ? proc.sites : shown };
  }
}
