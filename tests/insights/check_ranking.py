#!/usr/bin/env python3
"""Runs short_threads under memscope-run and checks that every thread it printed is in
thread_performance_ranking, marked exact, with the CPU time the thread measured itself: from
1 ms less (memscope's start reading comes after the thread's own set-up) to 5 ms more (its end
reading comes later, in the thread's exit path).

usage: check_ranking.py MEMSCOPE_RUN MEMSCOPE_ANALYZE PROGRAM WORK_DIR"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

run, analyze, program, work = sys.argv[1:5]
work = Path(work)
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
out = subprocess.run([run, "-q", "-o", str(work / "trace"), "--", program], check=True,
                     capture_output=True, text=True).stdout
printed = {int(tid): int(ns) / 1e9 for _, tid, ns in (l.split() for l in out.splitlines())}
assert len(printed) == 8, out
subprocess.run([analyze, str(work / "trace"), "--quiet", "--json", str(work / "a.json")],
               check=True)
ranking = json.loads((work / "a.json").read_text())["processes"][0]["performance_insights"][
    "thread_performance_ranking"]
by_tid = {r["thread_id"]: r for r in ranking}
failures = []
for tid, cpu in sorted(printed.items()):
    r = by_tid.get(tid)
    if r is None:
        failures.append(f"thread {tid} is not ranked")
    elif not r["exact"] or not cpu - 0.001 <= r["cpu_seconds"] <= cpu + 0.005:
        failures.append(f"thread {tid}: measured {cpu:.6f} s, ranked {r}")
    else:
        print(f"thread {tid}: {cpu:.6f} s measured, {r['cpu_seconds']:.6f} s ranked")
if failures:
    sys.exit("\n".join(failures))
