#!/usr/bin/env python3
"""The CI gate on leak kinds (issue 14), end to end:
  - a leak-free C++ program that prints passes `leaked_bytes>0` and `definitely_lost_bytes>0`;
  - a program that loses a block fails both, each message naming the leaking function;
  - a process killed by SIGKILL has no scan: its kinds are null in the JSON (never 0), and a
    rule on them breaks, saying they are unknown.

Usage: leak_gate.py MEMSCOPE_RUN MEMSCOPE_ANALYZE CXX_PRINT LEAK_CASES
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import memscope_analysis  # noqa: E402
import tempfile

RULES = ["--fail-on", "leaked_bytes>0", "--fail-on", "definitely_lost_bytes>0"]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def traced(run, analyze, workdir, name, command):
    traces = os.path.join(workdir, name)
    subprocess.run([run, "-q", "-o", traces, "--", *command], capture_output=True)
    report = os.path.join(workdir, name + ".json")
    p = subprocess.run([analyze, traces, "--quiet", "--json", report, *RULES],
                       capture_output=True, text=True)
    with open(report) as f:
        return p.returncode, p.stderr, memscope_analysis.expand(json.load(f))


def main():
    run, analyze, cxx_print, leak_cases = sys.argv[1:5]
    with tempfile.TemporaryDirectory(prefix="memscope-gate-") as workdir:
        rc, err, report = traced(run, analyze, workdir, "hello", [cxx_print])
        check(rc == 0, f"the leak-free program passes both rules (exit {rc}: {err.strip()})")
        check(report["summary"]["definitely_lost_bytes"] == 0, "and has 0 definitely lost bytes")

        rc, err, report = traced(run, analyze, workdir, "leak", [leak_cases, "overwritten"])
        lines = [l for l in err.splitlines() if "fail-on" in l]
        check(rc == 3 and len(lines) == 2, f"the leaking program breaks both rules (exit {rc})")
        check(all("overwritten" in l for l in lines), "each message names the leaking function")

        rc, err, report = traced(run, analyze, workdir, "killed", ["/bin/sh", "-c", "kill -KILL $$"])
        s = report["summary"]
        check(s["definitely_lost_bytes"] is None and s["reachable_at_exit_allocations"] is None,
              "a process killed by SIGKILL has unknown (null) kinds")
        check(rc == 3 and "unknown" in err, "a rule on unknown kinds breaks, saying so")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
