#!/usr/bin/env python3
"""An image replaced by exec leaks nothing: the kernel discards its heap with its address space.
Runs `bash -c 'x=$(echo hi); exec python3 -c pass'` (a subshell fork child that exits, then the
shell execs the interpreter) under valgrind --trace-children=yes, the oracle, and memscope-run.
Memcheck gives a leak summary for the subshell and for python3, and none for the bash image the
exec replaced; memscope must count that image's live blocks as discarded_by_exec_*, not in
leaked_*, and judge the others as memcheck does. Then `bash -c 'exec true'` (true allocates
nothing): the gate `leaked_bytes>0` holds, `discarded_by_exec_bytes>0` does not.

usage: leak_exec.py MEMSCOPE_RUN MEMSCOPE_ANALYZE VALGRIND BASH PYTHON3 TRUE"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import memscope_analysis  # noqa: E402
from checks import check, fail  # noqa: E402


def memcheck_summaries(valgrind, command):
    """{pid: (bytes, blocks) in use at exit} for each image that memcheck summarised."""
    r = subprocess.run([valgrind, "--trace-children=yes", "--leak-check=full", *command],
                       capture_output=True, text=True)
    out = {}
    for pid, size, blocks in re.findall(
            r"==(\d+)==\s+in use at exit: ([\d,]+) bytes in ([\d,]+) blocks", r.stderr):
        out[int(pid)] = (int(size.replace(",", "")), int(blocks.replace(",", "")))
    return r.returncode, out


def main():
    run, analyze, valgrind, bash, python3, true = sys.argv[1:7]
    # The interpreter itself: a `python3` on PATH may be a pyenv shim, itself a script that execs.
    python3 = subprocess.run([python3, "-c", "import sys; print(sys.executable)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="memscope-leak-exec.")
    command = [bash, "-c", f"x=$(echo hi); exec {python3} -c pass"]
    native = subprocess.run(command, capture_output=True)
    status, summaries = memcheck_summaries(valgrind, command)
    check(status == native.returncode == 0, "the command succeeds natively and under memcheck")
    check(len(summaries) == 2, f"memcheck summarises the subshell and python3 only ({summaries})")

    trace = os.path.join(work, "trace")
    traced = subprocess.run([run, "-q", "-o", trace, "--", *command], capture_output=True)
    check(traced.returncode == 0 and traced.stdout == native.stdout,
          "same status and output under memscope-run")
    r = subprocess.run([analyze, trace, "--quiet", "--json", "-"], capture_output=True, text=True)
    check(r.returncode == 0, "analysis")
    text_report = subprocess.run([analyze, trace], capture_output=True, text=True).stdout
    doc = memscope_analysis.loads(r.stdout)
    procs = doc["processes"]
    replaced = [p for p in procs if p["ended"] == "exec"]
    others = [p for p in procs if p["ended"] != "exec"]
    check(len(replaced) == 1 and len(others) == 2,
          f"one image replaced by exec, two that exited ({[p['ended'] for p in procs]})")
    b = replaced[0]
    live = b["total_allocations"] - b["total_frees"]
    check(live > 0 and b["discarded_by_exec_allocations"] == live and
          b["discarded_by_exec_bytes"] > 0,
          f"the replaced bash image's {live} live blocks are discarded by exec")
    check(b["leaked_allocations"] == 0 and b["leaked_bytes"] == 0, "and not leaked")
    check(all(p["discarded_by_exec_allocations"] == 0 for p in others),
          "images that exited discard nothing")
    check(not any(l["process"] == b["key"] for l in doc["leaks"]),
          "the replaced image has no leak rows")
    s = doc["summary"]
    check(s["leaked_bytes"] == sum(p["leaked_bytes"] for p in others) and
          s["discarded_by_exec_bytes"] == b["discarded_by_exec_bytes"],
          "the totals keep the two apart")
    check(len(others) == len(summaries) and all(p["leaked_allocations"] > 0 for p in others),
          "memscope reports live blocks for exactly the images memcheck summarises")
    check("discarded by exec" in text_report, "the text report says what exec discarded")

    trace = os.path.join(work, "exec-true")
    ran = subprocess.run([run, "-o", trace, "--", bash, "-c", f"exec {true}"], check=True,
                         capture_output=True, text=True)
    line = [l for l in ran.stderr.splitlines() if "(bash, exec)" in l]
    check(len(line) == 1 and "leaked 0 bytes in 0 blocks" in line[0] and
          "discarded by exec" in line[0], f"memscope-run's summary line says so too ({line})")
    gate = subprocess.run([analyze, trace, "--quiet", "--fail-on", "leaked_bytes>0"],
                          capture_output=True, text=True)
    check(gate.returncode == 0, "--fail-on leaked_bytes>0 holds when bash execs a program "
          f"that leaks nothing (exit {gate.returncode}: {gate.stderr.strip()})")
    gate = subprocess.run([analyze, trace, "--quiet", "--fail-on", "discarded_by_exec_bytes>0"],
                          capture_output=True, text=True)
    check(gate.returncode == 3, "--fail-on discarded_by_exec_bytes>0 sees bash's heap")
    print("PASS")


if __name__ == "__main__":
    main()
