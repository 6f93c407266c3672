#!/usr/bin/env python3
"""Oracle test of memscope's leak kinds: one program run four ways.

Usage:
  leak_oracle.py --memscope-run PATH --memscope-analyze PATH --valgrind PATH --lsan LIBLSAN
                 -- PROGRAM [ARGS...]

1. Natively: the exit status and stdout the others must reproduce.
2. valgrind --leak-check=full --show-leak-kinds=all --leak-check-heuristics=none (memscope
   applies none of memcheck's heuristics): the LEAK SUMMARY's definitely, indirectly, possibly
   lost and still reachable bytes and blocks ("All heap blocks were freed" is all zero), summed
   over the processes (valgrind follows a fork, and each process prints its own summary).
3. LD_PRELOAD=LIBLSAN (Debian's LeakSanitizer runtime, liblsan0), exitcode 0: the SUMMARY lines'
   bytes and allocations, which count direct and indirect leaks (none when it prints none),
   summed over the processes.
4. memscope-run, then memscope-analyze --json: summary.<kind>_bytes and <kind>_allocations.

Passes when memscope's four kinds equal memcheck's, and its definitely + indirectly lost equal
LeakSanitizer's leaks. Exit status 0 pass, 1 a mismatch, 2 a tool failed.
"""

import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import memscope_analysis  # noqa: E402
import tempfile

KINDS = ["definitely_lost", "indirectly_lost", "possibly_lost", "reachable_at_exit"]
MEMCHECK = {"definitely lost": "definitely_lost", "indirectly lost": "indirectly_lost",
            "possibly lost": "possibly_lost", "still reachable": "reachable_at_exit"}
MEMCHECK_LINE = re.compile(r"==\d+==\s+(definitely lost|indirectly lost|possibly lost|"
                           r"still reachable): ([\d,]+) bytes in ([\d,]+) blocks")
LSAN_LINE = re.compile(r"SUMMARY: LeakSanitizer: (\d+) byte\(s\) leaked in (\d+) allocation")


def number(text):
    return int(text.replace(",", ""))


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    return p.returncode, p.stdout, p.stderr


def memcheck(args):
    rc, out, err = run([args.valgrind, "--leak-check=full", "--show-leak-kinds=all",
                        "--leak-check-heuristics=none", *args.command])
    kinds = {k: (0, 0) for k in KINDS}
    for m in MEMCHECK_LINE.finditer(err):
        bytes_, blocks = kinds[MEMCHECK[m.group(1)]]
        kinds[MEMCHECK[m.group(1)]] = (bytes_ + number(m.group(2)), blocks + number(m.group(3)))
    if not MEMCHECK_LINE.search(err) and "All heap blocks were freed" not in err:
        sys.exit(f"memcheck wrote no leak summary:\n{err}")
    return rc, out, kinds


def lsan(args):
    env = dict(os.environ, LD_PRELOAD=args.lsan, LSAN_OPTIONS="exitcode=0")
    rc, out, err = run(args.command, env)
    found = LSAN_LINE.findall(err)
    return rc, out, (sum(int(b) for b, _ in found), sum(int(n) for _, n in found))


def memscope(args, workdir):
    traces = os.path.join(workdir, "traces")
    rc, out, err = run([args.memscope_run, "-q", "-o", traces, "--", *args.command])
    report = os.path.join(workdir, "report.json")
    arc, _, aerr = run([args.memscope_analyze, traces, "--quiet", "--json", report])
    if arc != 0:
        sys.exit(f"memscope-analyze failed ({arc}):\n{aerr}")
    with open(report) as f:
        summary = memscope_analysis.expand(json.load(f))["summary"]
    kinds = {k: (summary[k + "_bytes"], summary[k + "_allocations"]) for k in KINDS}
    return rc, out, kinds


def main():
    ap = argparse.ArgumentParser()
    for flag in ("--memscope-run", "--memscope-analyze", "--valgrind", "--lsan"):
        ap.add_argument(flag, required=True)
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()

    native_rc, native_out, _ = run(args.command)
    with tempfile.TemporaryDirectory(prefix="memscope-leaks-") as workdir:
        ms_rc, ms_out, ms = memscope(args, workdir)
    mc_rc, mc_out, mc = memcheck(args)
    ls_rc, ls_out, ls = lsan(args)

    failures = []
    for name, rc, out in (("memscope", ms_rc, ms_out), ("memcheck", mc_rc, mc_out),
                          ("lsan", ls_rc, ls_out)):
        if rc != native_rc or out != native_out:
            failures.append(f"{name}: exit {rc} / stdout {out!r}, natively {native_rc} / "
                            f"{native_out!r}")
    print(f"{'kind':<20} {'memscope (bytes, blocks)':>26} {'memcheck':>20}")
    for k in KINDS:
        print(f"{k:<20} {str(ms[k]):>26} {str(mc[k]):>20}")
        if ms[k] != mc[k]:
            failures.append(f"{k}: memscope {ms[k]}, memcheck {mc[k]}")
    lost = tuple(ms["definitely_lost"][i] + ms["indirectly_lost"][i] for i in (0, 1))
    print(f"{'lost (LSan)':<20} {str(lost):>26} {str(ls):>20}")
    if lost != ls:
        failures.append(f"lost: memscope {lost}, LeakSanitizer {ls}")
    for f in failures:
        print("MISMATCH " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
