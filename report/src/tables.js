// Sortable tables (click a column header), with the full stack of a site one click away.
// Every cell is text: function names, files and thread names are the traced program's strings.

import { clear, el, frameName, shortName, srcLocation } from "./util.js";

/**
 * columns: [{label, value(row) for sorting, render(row) -> Node|string, num?, title?}]
 * opts: {sort: column index, desc: bool, limit: rows shown before "show all", detail(row) -> Node}
 */
export function sortableTable(columns, rows, opts) {
  const o = Object.assign({ sort: 0, desc: true, limit: 25 }, opts || {});
  let sortCol = o.sort;
  let desc = o.desc;
  let showAll = false;
  const wrap = el("div", { class: "table-wrap" });
  const table = el("table", { class: "data" });
  const thead = el("thead");
  const tbody = el("tbody");
  const more = el("button", { type: "button", class: "ghost more", onclick: () => ((showAll = !showAll), fill()) });
  table.append(thead, tbody);
  wrap.append(table, more);

  const headRow = el("tr");
  columns.forEach((c, i) => {
    const th = el("th", { class: c.num ? "num sortable" : "sortable", title: c.title || "Sort by " + c.label, onclick: () => {
      if (sortCol === i) desc = !desc;
      else {
        sortCol = i;
        desc = !!c.num;
      }
      fill();
    } }, c.label, el("span", { class: "arrow" }));
    headRow.appendChild(th);
  });
  thead.appendChild(headRow);

  function fill() {
    const c = columns[sortCol];
    const sorted = rows.slice().sort((a, b) => {
      const va = c.value(a);
      const vb = c.value(b);
      if (va == null && vb == null) return 0;
      if (va == null) return 1; // unknown figures last, whichever the direction
      if (vb == null) return -1;
      const r = typeof va === "string" ? va.localeCompare(vb) : va - vb;
      return desc ? -r : r;
    });
    [...headRow.children].forEach((th, i) => {
      th.lastChild.textContent = i === sortCol ? (desc ? " \u25be" : " \u25b4") : "";
      th.setAttribute("aria-sort", i === sortCol ? (desc ? "descending" : "ascending") : "none");
    });
    clear(tbody);
    const shown = showAll ? sorted : sorted.slice(0, o.limit);
    for (const row of shown) {
      const tr = el("tr", { class: o.detail ? "clickable" : "" });
      for (const col of columns) tr.appendChild(el("td", { class: col.num ? "num" : "" }, col.render(row)));
      tbody.appendChild(tr);
      if (o.detail) {
        tr.title = "Click for the call stack";
        tr.addEventListener("click", () => {
          const next = tr.nextSibling;
          if (next && next.classList.contains("detail")) {
            next.remove();
            tr.classList.remove("open");
            return;
          }
          tr.classList.add("open");
          tr.after(el("tr", { class: "detail" }, el("td", { colspan: columns.length }, o.detail(row))));
        });
      }
    }
    more.hidden = rows.length <= o.limit;
    more.textContent = showAll ? "Show the first " + o.limit : "Show all " + rows.length + " rows";
  }
  fill();
  if (rows.length === 0) wrap.replaceChildren(el("p", { class: "note" }, o.empty || "Nothing to list."));
  return wrap;
}

/** A function name with its source location underneath. */
export function fnCell(name, obj) {
  const loc = srcLocation(obj);
  const short = shortName(name);
  // Long template names: the short form first, the whole name below (clamped until the row opens).
  return el(
    "div",
    { class: "fn" },
    el("code", { class: "fn-name" }, short),
    short !== name ? el("code", { class: "fn-full", title: name }, name) : null,
    loc ? el("div", { class: "loc" }, loc) : null
  );
}

export function stackList(stack) {
  if (!stack || stack.length === 0) return el("p", { class: "note" }, "No stack was recorded for this site.");
  return el(
    "ol",
    { class: "stack" },
    stack.map((f) =>
      el(
        "li",
        { class: f.inlined ? "inlined" : "" },
        el("code", null, frameName(f)),
        f.inlined ? el("span", { class: "tag" }, "inlined") : null,
        el("div", { class: "loc" }, [f.file ? f.file + (f.line ? ":" + f.line : "") : null, f.module ? (f.file ? " \u00b7 " : "") + f.module + (f.offset ? " +" + f.offset : "") : null].filter(Boolean).join(""))
      )
    )
  );
}
