#!/usr/bin/env python3
"""Stack exactness test: memscope's call stacks and leaks per stack equal the program's own.

Usage: stack_truth.py --memscope-run PATH --memscope-analyze PATH [--keep] -- PROGRAM [ARGS...]

PROGRAM (tests/programs/cxx_throw_stacks.cpp) takes libgcc's _Unwind_Backtrace beside each of
its allocations and prints, per distinct stack, "stack ALLOCATIONS LIVE MODULE+OFFSET..." (the
callers of its allocating function, outward). The test runs it natively, then under
memscope-run, and `memscope-analyze --json --no-symbols` (one frame per recorded address, as
module and offset). It asserts:
- the same exit status and stdout natively and traced (the program printed the same truth);
- memscope's sites whose first frame is the program's one allocating call (the frame all the
  truth's stacks lead to) are exactly the truth's stacks: each site's callers equal one printed
  stack, frame for frame, with its allocations and its leaked allocations (LIVE at the end);
- every printed stack has its site.
Exit status: 0 equal, 1 a mismatch, 2 a tool failed to run.
"""

import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import memscope_analysis  # noqa: E402

failures = []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=300)
    return p


def truth_of(stdout):
    truth = {}
    for line in stdout.splitlines():
        if line.startswith("stack "):
            fields = line.split()
            truth[tuple(fields[3:])] = (int(fields[1]), int(fields[2]))
    return truth


def frame_text(f):
    if f["module"] is None:
        return "?+" + f["address"]
    return os.path.basename(f["module"]) + "+" + f["offset"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memscope-run", required=True)
    ap.add_argument("--memscope-analyze", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("program", nargs="+")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="stack_truth.")
    native = run(args.program)
    traced = run([args.memscope_run, "-o", os.path.join(work, "ms"), "--"] + args.program)
    if traced.returncode != native.returncode:
        print(traced.stderr)
    check(traced.returncode == native.returncode,
          f"exit status {traced.returncode} == native {native.returncode}")
    check(traced.stdout == native.stdout, "stdout equals the native run's")
    truth = truth_of(native.stdout)
    check(len(truth) > 4, f"the program printed its stacks ({len(truth)})")
    out = os.path.join(work, "a.json")
    a = run([args.memscope_analyze, os.path.join(work, "ms"), "--no-symbols", "--json", out])
    if a.returncode != 0:
        print(a.stdout, a.stderr)
        return 2
    doc = memscope_analysis.load(out)
    sites = [s for s in doc["sites"] if s["stack"]]
    callers = {tuple(frame_text(f) for f in s["stack"][1:]): s for s in sites}
    firsts = {frame_text(s["stack"][0]) for c, s in callers.items() if c in truth}
    check(len(firsts) == 1, f"the truth's stacks lead to one allocating call: {sorted(firsts)}")
    ours = [s for s in sites if frame_text(s["stack"][0]) in firsts]
    seen = set()
    for s in ours:
        c = tuple(frame_text(f) for f in s["stack"][1:])
        if c not in truth:
            check(False, f"site {c} is no stack of the program's")
            continue
        seen.add(c)
        allocations, live = truth[c]
        if s["allocations"] != allocations or s["leaked_allocations"] != live:
            check(False, f"site {c}: {s['allocations']} allocations, {s['leaked_allocations']} "
                  f"leaked; the program counted {allocations} and {live}")
    check(len(ours) == len(truth) and seen == set(truth),
          f"{len(ours)} sites for the program's {len(truth)} stacks, each its own")
    total = sum(a for a, _ in truth.values())
    check(sum(s["allocations"] for s in ours) == total, f"{total} allocations at those sites")
    if failures or args.keep:
        print("work directory kept:", work)
    else:
        subprocess.run(["rm", "-rf", work])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
