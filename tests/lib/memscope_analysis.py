"""Reads memscope-analyze's JSON (docs/json-schema.md) for the tests.

Versions 3 and 2 store strings, frames and stacks once, as tables, and sites and leaks as columns,
each column an array or one of the compact encodings `column` expands (docs/json-schema.md,
"Columns"); `expand` turns such a document into rows the tests can read directly, the shape version 1 had:
every site and leak a dict with its `pid`, `function`, `file`, `line` and `stack` (a list of
frame dicts, innermost first), `processes[*].threads_detail` and `heap_over_time.buckets`. The
expansion follows every index, so a dangling one fails here, loudly."""

import json

SCHEMA = "memscope-analysis/3"
SCHEMAS = (SCHEMA, "memscope-analysis/2")  # version 2: every column a plain array
KIND_NAMES = ("definitely_lost", "indirectly_lost", "possibly_lost", "reachable_at_exit")


def load(path):
    with open(path) as f:
        return expand(json.load(f))


def loads(text):
    return expand(json.loads(text))


def column(c):
    """A column as the array of its rows: as written, or expanded from its encoding."""
    if isinstance(c, list):
        return c
    assert isinstance(c, dict), f"not a column: {c!r}"
    if "runs" in c:
        assert len(c["runs"]) == len(c["lengths"])
        return [v for v, n in zip(c["runs"], c["lengths"]) for _ in range(n)]
    if "deltas" in c:
        out, x = [], 0
        for d in column(c["deltas"]):
            x += d
            out.append(x)
        return out
    if "back" in c:
        return [None if b == 0 else i - b for i, b in enumerate(column(c["back"]))]
    out, at = [c["default"]] * c["length"], 0
    assert len(c["gaps"]) == len(c["values"])
    for gap, value in zip(c["gaps"], c["values"]):
        at += gap
        out[at] = value
    return out


def columns(table):
    """The table with every column expanded (in place), for indexing."""
    for k, v in list(table.items()):
        if isinstance(v, (list, dict)) and k != "omitted":
            table[k] = column(v)
    return table


def sites_table(table):
    """The sites table with its shared rows joined: site i's columns but `process` are row
    `row[i]` of `distinct` (version 3; version 2 wrote every column per site)."""
    distinct = table.pop("distinct", None)
    columns(table)
    if distinct is not None:
        distinct = columns(distinct)
        row = table.pop("row")
        for k, v in distinct.items():
            table[k] = [v[r] for r in row]
    return table


def rows(table):
    """A table of columns as a list of dicts (all columns have one entry per row)."""
    if not table:
        return []
    columns(table)
    lengths = {len(v) for v in table.values() if isinstance(v, list)}
    assert len(lengths) <= 1, f"columns of different lengths: {sorted(lengths)}"
    n = lengths.pop() if lengths else 0
    return [{k: v[i] for k, v in table.items() if isinstance(v, list)} for i in range(n)]


def frame(doc, index):
    if index is None:
        return None
    f, strings = doc["frames"], doc["strings"]

    def text(name):
        i = f[name][index]
        return None if i is None else strings[i]

    return {"function": text("function"), "file": text("file"), "line": f["line"][index],
            "module": text("module"), "address": f["address"][index],
            "offset": f["offset"][index], "inlined": f["inlined"][index]}


def stack(doc, index):
    out = []
    while index is not None:
        out.append(frame(doc, doc["stacks"]["frame"][index]))
        parent = doc["stacks"]["parent"][index]
        assert parent is None or parent < index, "a stack's caller comes before it"
        index = parent
    return out


def _histogram(flat):
    """[k, count, ...] (bucket 0 holds 0, bucket k [2^(k-1), 2^k)) as version 1's buckets."""
    out = []
    for k, c in zip(flat[0::2], flat[1::2]):
        lo = 0 if k == 0 else 1 << (k - 1)
        out.append({"from": lo, "below": None if k == 64 else 1 << k, "count": c})
    return out


def _function_frame(doc, s):
    """The site's function frame: version 3 gives its depth in the site's stack."""
    if "function_frame" in s:
        return s["function_frame"]
    at, depth = s["stack"], s["function_depth"]
    if depth is None:
        return None
    for _ in range(depth):
        at = doc["stacks"]["parent"][at]
    return doc["stacks"]["frame"][at]


def _site_row(doc, s):
    process = doc["processes"][s["process"]]
    s = dict(s, function_frame=_function_frame(doc, s))
    function = frame(doc, s["function_frame"])
    s = dict(s)
    inherited = process["inherited_site"] is not None and \
        s["index"] == process["inherited_site"]
    s.update({"pid": process["pid"], "inherited": inherited,
              "function": function and (function["function"] or _fallback(function)),
              "file": function and function["file"], "line": function and function["line"],
              "stack": stack(doc, s["stack"]), "sizes": _histogram(s["sizes"]),
              "lifetimes_ns": _histogram(s["lifetimes_ns"])})
    return s


def _fallback(f):
    if f["module"] is None:
        return f["address"]
    return f["module"].rsplit("/", 1)[-1] + "+" + f["offset"]


def _leak_row(doc, sites, leak):
    site = sites[leak["site"]]
    process = site["process"]
    kinds = None if leak["definitely_lost_bytes"] is None else \
        {k: {"allocations": leak[f"{k}_allocations"], "bytes": leak[f"{k}_bytes"]}
         for k in KIND_NAMES}
    rule = None if leak["suppression"] is None else doc["suppressions"][leak["suppression"]]
    out = {k: site[k] for k in ("pid", "inherited", "function", "file", "line", "stack")}
    out.update({"process": process, "site": leak["site"], "bytes": site["leaked_bytes"],
                "allocations": site["leaked_allocations"], "kind": leak["kind"], "kinds": kinds,
                "suppressed": rule is not None, "suppression": rule})
    return out


def expand(doc):
    if doc.get("schema") not in SCHEMAS:
        return doc
    for table in ("frames", "stacks"):
        columns(doc[table])
    sites = [_site_row(doc, dict(s, index=i)) for i, s in enumerate(rows(sites_table(doc["sites"])))]
    doc["sites"] = sites
    doc["leaks"] = [_leak_row(doc, sites, l) for l in rows(doc["leaks"])]
    for key, p in enumerate(doc["processes"]):
        assert p["key"] == key
        p["exe"] = p["executable"]
        p["threads_detail"] = [t for t in doc["threads"] if t["process"] == key]
        if isinstance(p.get("functions"), dict):
            columns(p["functions"])
        tl = columns(p["heap_over_time"])
        width = tl["bucket_ns"] / 1e9
        buckets = rows({k: v for k, v in tl.items() if k != "bucket_ns"})
        for b in buckets:
            b["allocations_per_sec"] = b["allocations"] / width
            b["frees_per_sec"] = b["frees"] / width
            b["bytes_per_sec"] = b["allocated_bytes"] / width
        tl["buckets"] = buckets
        if p["peak"] is not None:
            p["peak"]["sites"] = _peak_sites(sites, key)
    for t in doc["threads"]:
        t.setdefault("pid", doc["processes"][t["process"]]["pid"])
    if doc.get("peak") is not None:
        doc["peak"] = doc["processes"][doc["peak"]["process"]]["peak"]
    return doc


def _peak_sites(sites, key):
    """The process's sites live at its peak, most bytes first (in site order on ties)."""
    live = [s for s in sites if s["process"] == key and s["peak_bytes"] > 0]
    live.sort(key=lambda s: -s["peak_bytes"])
    out = []
    for site in live:
        row = {k: site[k] for k in ("pid", "inherited", "function", "file", "line")}
        row.update({"site": site["index"], "bytes": site["peak_bytes"],
                    "allocations": site["peak_allocations"]})
        out.append(row)
    return out
