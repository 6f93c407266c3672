#!/usr/bin/env python3
"""Exactness acceptance test: memscope's counts must equal valgrind DHAT's, process by process.

Usage:
  dhat_compare.py --memscope-run PATH --memscope-analyze PATH [--peak] [--no-freeres]
                  [--valgrind PATH] [--keep] [--workdir DIR] [--timeout S] -- PROGRAM [ARGS...]

1. Runs PROGRAM under DHAT:
     valgrind --tool=dhat --trace-children=yes --dhat-out-file=TMP/dhat/dhat.%p PROGRAM ARGS
   and reads, for every process, the "Total:", "At t-gmax:" and "At t-end:" lines that DHAT
   writes to stderr (prefixed with ==PID==, numbers with thousands separators).
   Both DHAT and memscope free the C and C++ runtimes' own buffers at exit (valgrind's
   --run-libc-freeres and --run-cxx-freeres, memscope's freeres), so a program that prints
   leaks nothing for its stdio buffers on either side. With --no-freeres neither does: valgrind
   frees them at _exit too (flushing stdio there), memscope does not, so a program whose
   processes _exit with stdio buffers compares with both off.
2. Runs `memscope-run -o TMP/ms -- PROGRAM ARGS`, then `memscope-analyze TMP/ms --json TMP/a.json`,
   and again with --replay: the agent's heap summaries and a replay of every event must give
   the same JSON (but for heap_source), and a program of one process must be read from its
   summary.
3. Matches the processes of the two runs and asserts, for each:
     DHAT Total blocks      == total_allocations
     DHAT Total bytes       == total_allocated_bytes
     DHAT t-end blocks      == leaked_allocations
     DHAT t-end bytes       == leaked_bytes
     DHAT t-gmax bytes      == peak_heap_bytes        (only with --peak: single-threaded programs)
     dropped_events         == 0                      (memscope is lossless by default)
   and that both runs exit with the same status and write the same stdout.

How processes are matched. DHAT prints one summary per OS process when it exits; a process image
replaced by exec prints none (the exec'd image starts a fresh valgrind, with fresh counters, under
the same pid), and a fork child starts from a copy of its parent's counters. memscope writes one
trace per process image: the analyzer reports the pre-exec image and the exec'd image as two
entries with the same pid (the latter with how == "exec"; "spawn" for the image of a child whose
fork memscope did not follow, such as a vfork). So on both sides each OS process is
reduced to (origin, exec'd, exe basename): origin "root" or "fork", whether its final image came
from an exec, and the basename of its final image. Processes with the same key are paired in
pid order (the test programs fork one child at a time, so pids grow in the same order in both
runs). Pre-exec images are listed but have no DHAT counterpart.

Fork children. DHAT's counters for a fork child include its parent's counters at the fork, so
the DHAT totals are compared with inherited.total_* + the child's own totals; `inherited` must be
the parent's DHAT-equivalent state at the fork (including what the parent itself inherited).
Leaks of a fork child include inherited blocks it never freed, as in DHAT. The peak of a fork
child is not compared (DHAT carries the parent's earlier peak into the child).

Known DHAT quirks the test programs avoid: DHAT records a 0-byte block (malloc(0), calloc(0, n))
as 1 byte; valgrind 3.19's DHAT aborts the program on pvalloc.

Exit status: 0 all equal, 1 a mismatch, 2 a tool failed to run or wrote something unreadable.
Python 3 standard library only.
"""

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import memscope_analysis  # noqa: E402
import tempfile
import time

VG_LINE = re.compile(r"^==(\d+)== ?(.*)$")
VG_STAT = re.compile(r"^(Total|At t-gmax|At t-end):\s+([\d,]+) bytes in ([\d,]+) blocks?\s*$")
STAT_KEYS = {"Total": "total", "At t-gmax": "gmax", "At t-end": "end"}
COUNT_FIELDS = ("total_allocations", "total_frees", "total_allocated_bytes", "peak_heap_bytes",
                "leaked_allocations", "leaked_bytes", "threads", "dropped_events")


class ToolError(Exception):
    """A tool did not run, or wrote something this script cannot read."""


def num(text):
    return int(text.replace(",", ""))


def status_of(returncode):
    """Exit status as a shell reports it: 128+N for death by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def run(cmd, timeout, what):
    started = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except OSError as e:
        raise ToolError(f"{what}: cannot start {cmd[0]}: {e}") from e
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        proc.kill()
        proc.communicate()
        raise ToolError(f"{what}: still running after {timeout} s: {' '.join(cmd)}") from e
    return proc.pid, status_of(proc.returncode), out, err.decode(errors="replace"), \
        time.monotonic() - started


# ---------------------------------------------------------------------------------------------
# DHAT side


def run_dhat(args, workdir):
    out_dir = os.path.join(workdir, "dhat")
    os.makedirs(out_dir, exist_ok=True)
    freeres = ["--run-libc-freeres=no", "--run-cxx-freeres=no"] if args.no_freeres else []
    cmd = [args.valgrind, "--tool=dhat", "--trace-children=yes", *freeres,
           f"--dhat-out-file={out_dir}/dhat.%p", args.program, *args.args]
    root_pid, status, out, err, seconds = run(cmd, args.timeout, "DHAT")
    with open(os.path.join(workdir, "dhat.stderr"), "w") as f:
        f.write(err)

    per_pid = {}  # pid -> {"commands": [...], "total": (bytes, blocks), ...}
    for line in err.splitlines():
        m = VG_LINE.match(line)
        if not m:
            continue
        pid, text = int(m.group(1)), m.group(2).strip()
        entry = per_pid.setdefault(pid, {"commands": []})
        if text.startswith("Command:"):
            entry["commands"].append(text[len("Command:"):].strip())
            # A new image under this pid: forget the stats of an earlier one (there are none
            # unless the log is odd, but be strict about which image the numbers belong to).
            for key in STAT_KEYS.values():
                entry.pop(key, None)
            continue
        s = VG_STAT.match(text)
        if s:
            entry[STAT_KEYS[s.group(1)]] = (num(s.group(2)), num(s.group(3)))

    procs, problems = [], []
    for pid in sorted(per_pid):
        entry = per_pid[pid]
        if not all(k in entry for k in STAT_KEYS.values()):
            if entry["commands"] or any(k in entry for k in STAT_KEYS.values()):
                problems.append(f"DHAT printed no complete summary for pid {pid} "
                                f"(killed, or its log is cut short)")
            continue
        origin = "root" if pid == root_pid else "fork"
        execd = len(entry["commands"]) > (1 if origin == "root" else 0)
        exe = None
        if entry["commands"]:
            exe = os.path.basename(entry["commands"][-1].split()[0])
        else:
            # A fork child prints no preamble: its image is its parent's, named in its own file.
            try:
                with open(os.path.join(out_dir, f"dhat.{pid}")) as f:
                    exe = os.path.basename(json.load(f)["cmd"].split()[0])
            except (OSError, ValueError, KeyError, IndexError):
                exe = None
        procs.append({
            "pid": pid, "origin": origin, "execd": execd, "exe": exe,
            "total_blocks": entry["total"][1], "total_bytes": entry["total"][0],
            "gmax_blocks": entry["gmax"][1], "gmax_bytes": entry["gmax"][0],
            "end_blocks": entry["end"][1], "end_bytes": entry["end"][0],
        })
    if not procs:
        raise ToolError("DHAT: no process summary found on stderr:\n" + tail(err))
    return {"status": status, "stdout": out, "stderr": err, "procs": procs,
            "problems": problems, "seconds": seconds}


# ---------------------------------------------------------------------------------------------
# memscope side


def summary_matches_replay(args, ms_dir, workdir, analysis):
    """Problems found comparing the analysis with one that replays every event (--replay)."""
    json_path = os.path.join(workdir, "replay.json")
    acmd = [args.memscope_analyze, ms_dir, "--replay", "--json", json_path]
    _, astatus, aout, aerr, _ = run(acmd, args.timeout, "memscope-analyze --replay")
    if astatus != 0:
        raise ToolError(f"memscope-analyze --replay exited with {astatus}\n"
                        + tail(aout.decode(errors="replace") + aerr))
    with open(json_path) as f:
        replayed = memscope_analysis.expand(json.load(f))
    problems = []
    entries = analysis.get("processes") or []
    if len(entries) == 1 and entries[0].get("heap_source") != "summary":
        problems.append("memscope: the only process was not read from the agent's heap summary "
                        f"(heap_source {entries[0].get('heap_source')!r})")
    for e in entries + (replayed.get("processes") or []):
        e.pop("heap_source", None)
    if analysis != replayed:
        problems.append(f"memscope: the heap summary and --replay disagree (compare {json_path})")
    return problems


def run_memscope(args, workdir):
    ms_dir = os.path.join(workdir, "ms")
    json_path = os.path.join(workdir, "a.json")
    freeres = ["--no-freeres"] if args.no_freeres else []
    cmd = [args.memscope_run, "-o", ms_dir, *freeres, "--", args.program, *args.args]
    _, status, out, err, seconds = run(cmd, args.timeout, "memscope-run")
    with open(os.path.join(workdir, "memscope-run.stderr"), "w") as f:
        f.write(err)

    acmd = [args.memscope_analyze, ms_dir, "--json", json_path]
    _, astatus, aout, aerr, _ = run(acmd, args.timeout, "memscope-analyze")
    if astatus != 0:
        raise ToolError(f"memscope-analyze exited with {astatus}: {' '.join(acmd)}\n"
                        + tail(aout.decode(errors="replace") + aerr))
    try:
        with open(json_path) as f:
            analysis = memscope_analysis.expand(json.load(f))
    except (OSError, ValueError) as e:
        raise ToolError(f"memscope-analyze wrote no readable JSON at {json_path}: {e}") from e
    replay_problems = summary_matches_replay(args, ms_dir, workdir, analysis)
    if analysis.get("schema") != "memscope-analysis/3":
        raise ToolError(f"{json_path}: schema is {analysis.get('schema')!r}, "
                        "expected 'memscope-analysis/3'")
    entries = analysis.get("processes")
    if not isinstance(entries, list) or not entries:
        raise ToolError(f"{json_path}: no processes")
    for e in entries:
        missing = [k for k in COUNT_FIELDS + ("pid", "how", "exe") if k not in e]
        if missing:
            raise ToolError(f"{json_path}: process {e.get('pid')} lacks {', '.join(missing)}")
        inh = e.get("inherited")
        numbers = [(k, e[k]) for k in COUNT_FIELDS] + \
            [(f"inherited.{k}", v) for k, v in (inh.items() if isinstance(inh, dict) else ())]
        bad = [k for k, v in numbers if not isinstance(v, int) or isinstance(v, bool)]
        if bad:
            raise ToolError(f"{json_path}: process {e.get('pid')}: not integers: {', '.join(bad)}")

    # Each OS process is a chain: its first image (how root or fork), then its exec'd images.
    by_pid = {}
    for e in entries:
        by_pid.setdefault(e["pid"], []).append(e)
    procs, problems = [], replay_problems
    for pid in sorted(by_pid):
        group = by_pid[pid]
        heads = [e for e in group if e["how"] in ("root", "fork")]
        # "spawn": the exec'd image of a child whose fork memscope did not follow (vfork).
        execs = [e for e in group if e["how"] in ("exec", "spawn")]
        others = [e for e in group if e["how"] not in ("root", "fork", "exec", "spawn")]
        if others:
            problems.append(f"memscope: pid {pid} has how={others[0]['how']!r} "
                            "(expected root, fork, exec or spawn)")
        if len(heads) > 1:
            problems.append(f"memscope: pid {pid} appears as {len(heads)} root/fork processes")
        chain = heads[:1] + execs
        if not chain:
            continue
        head, final = chain[0], chain[-1]
        procs.append({
            "pid": pid, "origin": head["how"] if head["how"] != "exec" else "?",
            "execd": len(chain) > 1, "exe": os.path.basename(str(final["exe"])),
            "chain": chain, "final": final,
        })
    return {"status": status, "stdout": out, "stderr": err, "procs": procs,
            "problems": problems, "analysis": analysis, "seconds": seconds}


# ---------------------------------------------------------------------------------------------
# comparison


def match(dhat_procs, ms_procs):
    """Pairs processes by (origin, exec'd, exe basename), in pid order within a key."""
    pairs, left_d, left_m = [], list(dhat_procs), list(ms_procs)
    for loose in (False, True):  # second pass: DHAT exe unknown -> match on origin and exec'd
        for d in list(left_d):
            if loose != (d["exe"] is None):
                continue
            for m in left_m:
                if (d["origin"], d["execd"]) == (m["origin"], m["execd"]) and \
                        (loose or d["exe"] == m["exe"]):
                    pairs.append((d, m))
                    left_d.remove(d)
                    left_m.remove(m)
                    break
    pairs.sort(key=lambda p: p[0]["pid"])
    return pairs, left_d, left_m


def fmt(value):
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def inherited_of(entry):
    inh = entry.get("inherited")
    if not isinstance(inh, dict):
        return None
    return inh


def compare(args, dhat, ms):
    rows = []   # (process, field, dhat value, memscope value, verdict)
    failures = list(dhat["problems"]) + list(ms["problems"])
    hints = []

    def check(label, field, dval, mval, mshow=None):
        ok = dval == mval
        rows.append((label, field, fmt(dval), mshow if mshow is not None else fmt(mval),
                     "ok" if ok else "MISMATCH"))
        if not ok:
            delta = f" (memscope - DHAT = {mval - dval:+,})" \
                if isinstance(dval, int) and isinstance(mval, int) else " (not a number)"
            failures.append(f"{label}: {field}: DHAT {fmt(dval)}, memscope {fmt(mval)}{delta}")
        return ok

    pairs, only_d, only_m = match(dhat["procs"], ms["procs"])
    ms_by_pid = {p["pid"]: p for p in ms["procs"]}
    for d, m in pairs:
        kind = d["origin"] + (" exec'd" if d["execd"] else "")
        label = f"{kind} {m['exe']} [dhat pid {d['pid']}, memscope pid {m['pid']}]"
        for pre in m["chain"][:-1]:
            rows.append((label, "", f"before it: image {os.path.basename(str(pre['exe']))} "
                         f"(how {pre['how']}), replaced by exec: "
                         f"{fmt(pre['total_allocations'])} allocations, "
                         f"{fmt(pre['total_allocated_bytes'])} bytes; not in DHAT", "", ""))
        f = m["final"]
        own_blocks, own_bytes = f["total_allocations"], f["total_allocated_bytes"]
        is_fork_child = f["how"] == "fork"
        if is_fork_child:
            inh = inherited_of(f)
            if inh is None:
                failures.append(f"{label}: fork child without an 'inherited' object")
                inh = {}
            ib = inh.get("total_allocations", 0)
            iy = inh.get("total_allocated_bytes", 0)
            ok1 = check(label, "total blocks", d["total_blocks"], ib + own_blocks,
                        f"{ib + own_blocks:,} (inherited {ib:,} + own {own_blocks:,})")
            ok2 = check(label, "total bytes", d["total_bytes"], iy + own_bytes,
                        f"{iy + own_bytes:,} (inherited {iy:,} + own {own_bytes:,})")
            if not (ok1 and ok2):
                parent = ms_by_pid.get(f.get("parent_pid"))
                pinh = inherited_of(parent["final"]) if parent else None
                if pinh and d["total_blocks"] == ib + own_blocks + pinh.get("total_allocations", 0):
                    hints.append(f"{label}: the totals match if the parent's own inherited "
                                 "counters are added too: 'inherited' should be cumulative "
                                 "(the parent's DHAT-equivalent counters at the fork)")
        else:
            check(label, "total blocks", d["total_blocks"], own_blocks)
            check(label, "total bytes", d["total_bytes"], own_bytes)
        check(label, "leaked blocks (t-end)", d["end_blocks"], f["leaked_allocations"])
        check(label, "leaked bytes (t-end)", d["end_bytes"], f["leaked_bytes"])
        if args.peak:
            if is_fork_child:
                rows.append((label, "peak bytes (t-gmax)", fmt(d["gmax_bytes"]),
                             fmt(f["peak_heap_bytes"]), "not compared (fork child)"))
            else:
                check(label, "peak bytes (t-gmax)", d["gmax_bytes"], f["peak_heap_bytes"])
        else:
            rows.append((label, "peak bytes (t-gmax)", fmt(d["gmax_bytes"]),
                         fmt(f["peak_heap_bytes"]), "not compared (no --peak)"))
        for e in m["chain"]:
            if e["dropped_events"] != 0:
                failures.append(f"{label}: memscope dropped {e['dropped_events']} events "
                                f"(pid {e['pid']}, how {e['how']})")
        rows.append((label, "dropped events / threads", "-",
                     f"{f['dropped_events']} / {f['threads']}",
                     "ok" if f["dropped_events"] == 0 else "MISMATCH"))
    for d in only_d:
        failures.append(f"DHAT process without a memscope counterpart: pid {d['pid']}, "
                        f"{d['origin']}{' exec' if d['execd'] else ''} {d['exe']}")
    for m in only_m:
        failures.append(f"memscope process without a DHAT counterpart: pid {m['pid']}, "
                        f"{m['origin']}{' exec' if m['execd'] else ''} {m['exe']}")

    if dhat["status"] != ms["status"]:
        failures.append(f"exit status: DHAT run {dhat['status']}, memscope run {ms['status']}")
    if dhat["stdout"] != ms["stdout"]:
        diff = difflib.unified_diff(
            dhat["stdout"].decode(errors="replace").splitlines(),
            ms["stdout"].decode(errors="replace").splitlines(),
            "stdout under DHAT", "stdout under memscope", lineterm="", n=1)
        failures.append("stdout differs:\n    " + "\n    ".join(list(diff)[:40]))
    return rows, failures, hints


def print_table(rows):
    """One header line per process, then one line per field; notes are rows with no field."""
    headers = ("field", "DHAT", "memscope", "")
    fields = [r for r in rows if r[1]]
    widths = [max([len(headers[i])] + [len(r[i + 1]) for r in fields]) for i in range(3)]
    last = None
    for r in rows:
        if r[0] != last:
            last = r[0]
            print(f"\n{r[0]}")
            print(f"    {headers[0]:<{widths[0]}}  {headers[1]:>{widths[1]}}  "
                  f"{headers[2]:>{widths[2]}}")
        if not r[1]:
            print(f"    ({r[2]})")
            continue
        print(f"    {r[1]:<{widths[0]}}  {r[2]:>{widths[1]}}  {r[3]:>{widths[2]}}  {r[4]}")


def tail(text, lines=30):
    return "\n".join(text.splitlines()[-lines:])


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    split = argv.index("--")
    ap = argparse.ArgumentParser(description="Compare memscope with valgrind DHAT.")
    ap.add_argument("--memscope-run", required=True)
    ap.add_argument("--memscope-analyze", required=True)
    ap.add_argument("--peak", action="store_true",
                    help="also compare the peak (single-threaded programs only)")
    ap.add_argument("--no-freeres", action="store_true",
                    help="neither DHAT nor memscope frees the runtimes' buffers at exit")
    ap.add_argument("--valgrind", default="valgrind")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--workdir", help="work directory (default: a new temporary one)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per run")
    args = ap.parse_args(argv[:split])
    rest = argv[split + 1:]
    if not rest:
        ap.error("no PROGRAM after --")
    args.program, args.args = rest[0], rest[1:]
    if os.sep not in args.program:
        found = shutil.which(args.program)
        if found:
            args.program = found

    workdir = args.workdir or tempfile.mkdtemp(prefix="memscope-exact-")
    os.makedirs(workdir, exist_ok=True)
    shown = " ".join([os.path.basename(args.program), *args.args])
    print(f"memscope exactness check against DHAT: {shown}")
    keep = args.keep
    try:
        for tool in (args.memscope_run, args.memscope_analyze, args.program):
            if not (os.path.isfile(tool) and os.access(tool, os.X_OK)):
                raise ToolError(f"not an executable file: {tool} (build memscope: scripts/build)")
        if shutil.which(args.valgrind) is None:
            raise ToolError(f"valgrind not found: {args.valgrind} (scripts/test installs it)")
        dhat = run_dhat(args, workdir)
        ms = run_memscope(args, workdir)
    except ToolError as e:
        print(f"ERROR: {e}")
        print(f"work directory kept: {workdir}")
        return 2

    rows, failures, hints = compare(args, dhat, ms)
    print(f"runs: DHAT {dhat['seconds']:.2f} s, exit {dhat['status']}; "
          f"memscope {ms['seconds']:.2f} s, exit {ms['status']}; stdout "
          + ("identical" if dhat["stdout"] == ms["stdout"] else "DIFFERENT")
          + f" ({len(dhat['stdout'].splitlines())} lines)")
    print_table(rows)
    if failures:
        print(f"\nFAIL: {len(failures)} difference(s):")
        for f in failures:
            print(f"  - {f}")
        for h in hints:
            print(f"  hint: {h}")
        print(f"memscope-run stderr (last lines):\n{tail(ms['stderr'], 15)}")
        print(f"work directory kept: {workdir}")
        keep = True
    else:
        print("\nPASS: memscope equals DHAT")
    if not keep and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
