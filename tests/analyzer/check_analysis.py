#!/usr/bin/env python3
"""Runs a test program under memscope-run, analyzes the trace to JSON and checks what the
analyzer says against what the program is known to do (tests/analyzer/programs/known_sites.cpp).

Modes:
  dwarf     the -O0 -g build: functions, file:line of every marked line, an inlined frame, exact
            leaks, temporary allocations and the sites at the peak, the worker thread's figures
  symtab    debug sections stripped: names from the symbol table, no file:line, same figures
  stripped  fully stripped: the program's frames are module+0xoffset, none dropped
  fork      prog_fork: one section per process, linked to its parent, totals add up
"""
import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import memscope_analysis  # noqa: E402
from checks import check, fail  # noqa: E402
import tempfile


def markers(source):
    lines = {}
    with open(source) as f:
        for number, text in enumerate(f, 1):
            m = re.search(r"// @(\w+)", text)
            if m:
                lines[m.group(1)] = number
    return lines


def trace_and_analyze(args, program):
    tmp = tempfile.mkdtemp(prefix="memscope-analyzer-test.")
    out = os.path.join(tmp, "trace")
    subprocess.run([args.run, "-q", "-o", out, "--", program], check=True,
                   stdout=subprocess.DEVNULL)
    report = os.path.join(tmp, "analysis.json")
    text = subprocess.run([args.analyze, out, "--json", report], check=True,
                          capture_output=True, text=True).stdout
    with open(report) as f:
        return memscope_analysis.expand(json.load(f)), text


def plain(name):
    """A function name without namespace `(anonymous namespace)::` and parameters: DWARF names
    internal functions without either, the symbol table with both."""
    if not name:
        return ""
    name = name.replace("(anonymous namespace)::", "")
    return name.split("(")[0]


def site_at(report, function, line=None, allocated_bytes=None):
    """The site whose function frame is `function` at `line` (without DWARF: None) and, if
    given, with `allocated_bytes` (what tells sites in one function apart without lines)."""
    found = [s for s in report["sites"]
             if plain(s["function"]) == function and (line is None or s["line"] == line)
             and (allocated_bytes is None or s["allocated_bytes"] == allocated_bytes)]
    if len(found) != 1:
        fail(f"expected one site in {function} at line {line}, found {len(found)}")
    return found[0]


def check_figures(report, lines, line_of):
    """Figures that hold whatever the symbols: known from the program's code."""
    leak = site_at(report, "leak_three", line_of("LEAK"))
    check(leak["allocations"] == 3 and leak["allocated_bytes"] == 3000,
          "leak_three allocated 3 x 1000 B")
    leaks = {plain(l["function"]): l for l in report["leaks"]}
    check(leaks.get("leak_three", {}).get("bytes") == 3000
          and leaks["leak_three"]["allocations"] == 3, "leak_three leaks 3000 B in 3 blocks")
    worker = [l for l in report["leaks"] if plain(l["function"]) == "worker"]
    check(len(worker) == 1 and worker[0]["bytes"] == 512 and worker[0]["allocations"] == 4,
          "the worker thread leaks 4 x 128 B")
    temp = site_at(report, "temporaries", line_of("TEMP"))
    check(temp["allocations"] == 10 and temp["temporary_allocations"] == 10,
          "all 10 blocks of temporaries() are temporary")
    first = site_at(report, "pairs", line_of("PAIR_FIRST"), 5 * 32)
    second = site_at(report, "pairs", line_of("PAIR_SECOND"), 5 * 48)
    check(first["temporary_allocations"] == 0, "a block freed after another allocation is not temporary")
    check(second["temporary_allocations"] == 5, "the second block of each pair is temporary")
    new = site_at(report, "cxx_new", line_of("NEW"))
    check(new["allocated_bytes"] == 777, "operator new[] is attributed to cxx_new, not libstdc++")
    peak = report["peak"]
    by_function = {plain(s["function"]): s for s in peak["sites"]}
    check("peak_holder" in by_function and by_function["peak_holder"]["bytes"] == 50000,
          "peak_holder's 50000 B block is held at the peak")
    check(by_function.get("leak_three", {}).get("bytes") == 3000,
          "leak_three's 3000 B are held at the peak")
    check(sum(s["bytes"] for s in peak["sites"]) == peak["bytes"],
          "the sites at the peak add up to the peak")
    threads = {t["name"]: t for t in report["threads"]}
    check("worker" in threads and threads["worker"]["allocations"] >= 4
          and threads["worker"]["live_bytes"] >= 512, "the worker thread's row")
    for s in report["sites"]:
        for f in s["stack"]:
            if not f["function"] and not f["offset"]:
                fail(f"a frame with neither function nor module offset: {f}")
    check(True, "every frame is named or located as module+offset")


def by_name(lines):
    return lambda name: lines[name] if name in lines else fail(f"marker {name} missing")


def dwarf_mode(args, report, text):
    lines = markers(args.source)
    line_of = by_name(lines)
    check_figures(report, lines, line_of)
    leak = site_at(report, "leak_three", line_of("LEAK"))
    check(leak["file"].endswith("known_sites.cpp"), "file of leak_three is known_sites.cpp")
    stack = site_at(report, "inlined_alloc", line_of("INLINED"))["stack"]
    inlined = [f for f in stack if f["inlined"]]
    check(len(inlined) == 1 and plain(inlined[0]["function"]) == "inlined_alloc"
          and inlined[0]["line"] == line_of("INLINED"), "inlined_alloc is an inlined frame")
    caller = stack[stack.index(inlined[0]) + 1]
    check(plain(caller["function"]) == "calls_inlined" and caller["line"] == line_of("INLINED_CALL")
          and caller["address"] == inlined[0]["address"],
          "its caller calls_inlined is located at the call, same address")
    check("leak_three" in text and "known_sites.cpp:%d" % line_of("LEAK") in text,
          "the text report names leak_three at its line")


def symtab_mode(args, report, text):
    lines = markers(args.source)
    check_figures(report, lines, lambda name: None)
    leak = site_at(report, "leak_three")
    check(leak["file"] is None and leak["line"] is None, "no file:line without DWARF")


def stripped_mode(args, report, text):
    module = os.path.basename(args.program[0])
    own = [s for s in report["sites"] if s["function"] and s["function"].startswith(module + "+0x")]
    check(len(own) >= 5, "the program's sites are named module+0xoffset")
    sizes = sorted(s["allocated_bytes"] for s in own)
    for expected in (3000, 50000, 777, 640):
        check(expected in sizes, f"a stripped site allocated {expected} B")
    leak = [s for s in own if s["allocated_bytes"] == 3000][0]["stack"]
    mine = [f for f in leak if f["module"] and os.path.basename(f["module"]) == module]
    check(len(mine) >= 2 and all(f["function"] is None and f["offset"] for f in mine),
          "the program's frames are kept, unnamed, with their offsets")
    check(any(plain(f["function"]).startswith("__libc_start") for f in leak),
          "libc's frames in the same stack are still named")


def fork_mode(args, report, text):
    procs = report["processes"]
    check(len(procs) >= 3, f"one section per process ({len(procs)})")
    pids = {p["pid"] for p in procs}
    check(all(p["parent_pid"] is None or p["parent_pid"] in pids for p in procs),
          "every child is linked to a traced parent")
    check(report["summary"]["total_allocations"] == sum(p["total_allocations"] for p in procs),
          "totals add up over processes")
    check({t["pid"] for t in report["threads"]} == pids, "threads are listed with their pid")
    for p in procs:
        if p["peak"] is not None:
            check(sum(s["bytes"] for s in p["peak"]["sites"]) == p["peak"]["bytes"],
                  f"process {p['pid']}: sites at the peak add up")
    inherited = [s for s in report["sites"] if s["inherited"]]
    check(len(inherited) >= 1, "fork children have a site for inherited blocks")


def shared_prefix_mode(args, report, text):
    """10,000 sites below one 40-frame prefix: the frames table holds each frame once, and the
    stacks table holds the shared prefix once (about 10,000 + 100 + 40 stacks, not 10,000 x 43)."""
    mine = [s for s in report["sites"] if s["function"] and "allocate_" in s["function"]]
    check(len(mine) == 10000, f"10,000 sites of the program's allocators ({len(mine)})")
    frames = report["frames"]
    rows = list(zip(*(frames[k] for k in ("function", "file", "line", "module", "offset",
                                            "address", "inlined"))))
    check(len(rows) == len(set(rows)), f"every frame written once ({len(rows)} rows, "
          f"{len(set(rows))} distinct)")
    names = [report["strings"][f] for f in frames["function"] if f is not None]
    for name in ("descend", "caller_17", "allocate_42"):
        check(sum(1 for n in names if n == name) >= 1, f"{name} is in the frames table")
    check(len(rows) < 1000, f"frames grow with distinct frames, not sites x depth ({len(rows)})")
    stacks = len(report["stacks"]["frame"])
    check(10000 <= stacks < 10000 + 100 + 40 + 200,
          f"the shared prefix is stored once: {stacks} stacks for 10,000 sites of depth 43+")
    depth = max(len(s["stack"]) for s in mine)
    check(depth >= 43, f"each site's stack holds the whole prefix (deepest {depth})")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True)
    parser.add_argument("--analyze", required=True)
    parser.add_argument("--mode", required=True,
                        choices=["dwarf", "symtab", "stripped", "fork", "shared_prefix"])
    parser.add_argument("--source")
    parser.add_argument("program", nargs="+")
    args = parser.parse_args()
    report, text = trace_and_analyze(args, args.program[0])
    check(report["schema"] == "memscope-analysis/3", "schema memscope-analysis/3")
    {"dwarf": dwarf_mode, "symtab": symtab_mode, "stripped": stripped_mode,
     "fork": fork_mode, "shared_prefix": shared_prefix_mode}[args.mode](args, report, text)


if __name__ == "__main__":
    main()
