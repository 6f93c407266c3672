// Leaks in the HTML report: the kind of every leak (memcheck's four, "unknown" where no leak scan
// measured it, never 0), the process's totals by kind, and the suppressed leaks in a table of
// their own with the rule that matched (docs/analysis.md, "Leak suppressions").

import { card, fmtBytes, fmtCount, fmtPct, isNum } from "./util.js";
import { sortableTable } from "./tables.js";

const LEAK_KINDS = [
  ["definitely_lost", "definitely lost"],
  ["indirectly_lost", "indirectly lost"],
  ["possibly_lost", "possibly lost"],
  ["reachable_at_exit", "still reachable"],
];

function leakKindLabel(kind) {
  const k = LEAK_KINDS.find(([name]) => name === kind);
  return k ? k[1] : "unknown";
}

// The overview's cards: one per kind (value "unknown" when null) and the suppressed blocks.
export function leakKindCards(proc) {
  const cards = LEAK_KINDS.map(([name, label]) => {
    const bytes = proc[name + "_bytes"];
    const blocks = proc[name + "_allocations"];
    if (!isNum(bytes)) return card(label[0].toUpperCase() + label.slice(1), "unknown", "no leak scan", "leak-kind");
    const bad = name !== "reachable_at_exit" && bytes > 0;
    return card(label[0].toUpperCase() + label.slice(1), fmtBytes(bytes), fmtCount(blocks) + " blocks", "leak-kind " + (bad ? "warn" : "good"));
  });
  cards.push(card("Suppressed", fmtBytes(proc.suppressed_bytes || 0), fmtCount(proc.suppressed_blocks || 0) + " blocks", "leak-kind"));
  return cards;
}

// The sites tabs for leaks: the leaks counted, then the suppressed ones (when there are any).
export function leakViews(proc, leaks, columns, detail) {
  const counted = leaks.filter((s) => !s.suppressed);
  const suppressed = leaks.filter((s) => s.suppressed);
  const kind = { label: "kind", value: (s) => leakKindLabel(s.kind), render: (s) => leakKindLabel(s.kind), title: "memcheck's kind of most of its blocks; unknown without a leak scan" };
  const views = [
    {
      label: "Leaks (" + counted.length + ")",
      make: () =>
        sortableTable(
          columns([
            kind,
            { label: "leaked bytes", num: true, value: (s) => s.bytes, render: (s) => fmtBytes(s.bytes) },
            { label: "leaked blocks", num: true, value: (s) => s.allocations, render: (s) => fmtCount(s.allocations) },
            { label: "share of leaks", num: true, value: (s) => s.bytes, render: (s) => fmtPct(proc.leaked_bytes ? (100 * s.bytes) / proc.leaked_bytes : null) },
          ]),
          counted,
          { sort: 2, detail, empty: suppressed.length ? "Nothing leaked but what a suppression matched." : "Nothing leaked: every block was freed before the trace ended." }
        ),
    },
  ];
  if (suppressed.length)
    views.push({
      label: "Suppressed (" + suppressed.length + ")",
      make: () =>
        sortableTable(
          columns([
            kind,
            { label: "rule", value: (s) => s.suppression.rule, render: (s) => s.suppression.rule + " (" + s.suppression.origin + ")" },
            { label: "bytes", num: true, value: (s) => s.bytes, render: (s) => fmtBytes(s.bytes) },
            { label: "blocks", num: true, value: (s) => s.allocations, render: (s) => fmtCount(s.allocations) },
          ]),
          suppressed,
          { sort: 3, detail }
        ),
    });
  return views;
}
