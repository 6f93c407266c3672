// The Allocation sites section: tabs of sortable tables (top sites, leaks, suppressed leaks,
// temporary allocations, functions), each row opening its stack. The functions are the sites
// grouped by their function frame (analysis.js); in a bounded page, those of the sites it holds.

import { el, fmtBytes, fmtCount, fmtEstimate, fmtPct, siteName } from "./util.js";
import { fnCell, sortableTable, stackList } from "./tables.js";
import { leakViews } from "./leaks.js";

function siteColumns(extra) {
  return [
    { label: "function", value: (s) => siteName(s), render: (s) => fnCell(siteName(s), s) },
    ...extra,
  ];
}

// What a sampled trace's site figures are (docs/json-schema.md, `sampling`).
export function sampledNote(sampling) {
  return (
    "Sampled (one byte in " + fmtCount(sampling.mean_bytes) + " on average): sampled: estimates. " +
    "Per-site figures, the live heap, peak and leaks are unbiased estimates (~) with their 95 % interval [low – high]; " +
    "a site not listed allocated less than " + fmtBytes(sampling.unseen_site_bytes_below) + " (95 %)."
  );
}

export function renderSites(body, analysis, proc, sites, leaks) {
  const functions = analysis.functions(proc.key);
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
            { label: "allocated", num: true, value: (s) => s.allocated_bytes, render: (s) => fmtEstimate(s.allocated_bytes, s.estimate && s.estimate.allocated_bytes) },
            { label: "frees", num: true, value: (s) => s.frees, render: (s) => fmtCount(s.frees) },
            { label: "temporary", num: true, value: (s) => s.temporary_allocations, render: (s) => fmtCount(s.temporary_allocations) },
            { label: "held at peak", num: true, value: (s) => s.peak_bytes, render: (s) => fmtEstimate(s.peak_bytes, s.estimate && s.estimate.peak_bytes) },
            { label: "leaked", num: true, value: (s) => s.leaked_bytes, render: (s) => fmtEstimate(s.leaked_bytes, s.estimate && s.estimate.leaked_bytes) },
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
      label: "Functions (" + functions.length + ")",
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
          functions,
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
