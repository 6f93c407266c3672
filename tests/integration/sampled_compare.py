#!/usr/bin/env python3
"""Sampled mode against exact mode on one program (memscope-run --sample-bytes, issue 15).

Usage:
  sampled_compare.py --memscope-run PATH --memscope-analyze PATH [--sample-bytes N]
                     [--seed S] -- PROGRAM [ARGS...]

Runs PROGRAM natively, then under memscope-run exactly, then sampled with a fixed
MEMSCOPE_SAMPLE_SEED (so the sample, and this test, are the same on every run for a program
whose threads start in a fixed order), analyses both traces with --json and asserts:
  - both runs exit as natively and write the same stdout (sampling changes nothing visible);
  - the sampled analysis says it is sampled (processes[].sampling, with its mean and seed) and
    the exact one does not;
  - total_allocations, total_frees and total_allocated_bytes are equal (exact in both modes);
  - for at least 9 of the exact run's top 10 sites by bytes, the exact bytes lie inside the
    sampled run's printed 95 % interval (sites matched by their symbolized stacks; a site the
    sample never hit is absent, and its interval is the printed [0, unseen_site_bytes_below]);
  - the top 5 sites by bytes are the same sites in both runs;
  - the gate (--fail-on) refuses leaked_bytes>0 on the sampled trace and checks
    total_allocations and total_allocated_bytes, and memscope-run refuses a malformed
    --sample-bytes with status 125.
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import memscope_analysis  # noqa: E402


def run(cmd, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                       timeout=600)
    return r.returncode, r.stdout


def site_key(site):
    return tuple((f["function"], f["file"], f["line"]) for f in site["stack"] or [])


def analyse(args, trace_dir, json_path):
    rc, _ = run([args.memscope_analyze, trace_dir, "--json", json_path])
    assert rc == 0, f"memscope-analyze {trace_dir} exited {rc}"
    doc = memscope_analysis.load(json_path)
    assert len(doc["processes"]) == 1, "one process expected"
    by_key = {}
    for s in doc["sites"]:
        entry = by_key.setdefault(site_key(s), {"bytes": 0, "low": 0, "high": 0})
        entry["bytes"] += s["allocated_bytes"]
        if s["estimate"] is not None:
            low, high = s["estimate"]["allocated_bytes"]
            entry["low"] += low
            entry["high"] += high
    return doc["processes"][0], by_key


def gate_checks(args, trace_dir):
    """The gate refuses a rule on an estimate, and checks one on an exact total."""
    out = []
    gate = [args.memscope_analyze, trace_dir, "--quiet", "--fail-on"]
    r = subprocess.run(gate + ["leaked_bytes>0"], capture_output=True, text=True)
    if r.returncode != 3 or "only estimated in the sampled trace" not in r.stderr:
        out.append(f"gate leaked_bytes>0 on a sampled trace: exit {r.returncode}, {r.stderr!r}")
    r = subprocess.run(gate + ["total_allocations>0"], capture_output=True, text=True)
    if r.returncode != 3 or "total_allocations is " not in r.stderr:
        out.append(f"gate total_allocations>0 (holds): exit {r.returncode}, {r.stderr!r}")
    r = subprocess.run(gate + ["total_allocated_bytes>1TiB"], capture_output=True, text=True)
    if r.returncode != 0:
        out.append(f"gate total_allocated_bytes>1TiB (does not hold): exit {r.returncode}")
    return out


def option_checks(args):
    """memscope-run takes a size for --sample-bytes and refuses nonsense before running."""
    out = []
    for bad in ("0", "abc", "2TiB", "-5"):
        r = subprocess.run([args.memscope_run, "--sample-bytes", bad, "--", "true"],
                           capture_output=True, text=True)
        if r.returncode != 125 or "--sample-bytes expects" not in r.stderr:
            out.append(f"--sample-bytes {bad}: exit {r.returncode}, {r.stderr!r}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memscope-run", required=True)
    ap.add_argument("--memscope-analyze", required=True)
    ap.add_argument("--sample-bytes", default="16384")
    ap.add_argument("--seed", default="15")
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        native = run(args.command)
        exact = run([args.memscope_run, "-q", "-o", f"{tmp}/exact", "--"] + args.command)
        env = dict(os.environ, MEMSCOPE_SAMPLE_SEED=args.seed)
        sampled = run([args.memscope_run, "-q", "-o", f"{tmp}/sampled", "--sample-bytes",
                       args.sample_bytes, "--"] + args.command, env)
        for name, got in (("exact", exact), ("sampled", sampled)):
            if got != native:
                failures.append(f"{name} run: exit {got[0]} and stdout {got[1]!r}, natively "
                                f"exit {native[0]} and {native[1]!r}")
        failures += gate_checks(args, f"{tmp}/sampled") + option_checks(args)
        pe, exact_sites = analyse(args, f"{tmp}/exact", f"{tmp}/exact.json")
        ps, sampled_sites = analyse(args, f"{tmp}/sampled", f"{tmp}/sampled.json")
        # The heap over time is weighted as the estimates are: its highest bucket is the peak.
        timeline_peak = max(ps["heap_over_time"]["live_bytes_peak"], default=0)
        if timeline_peak != ps["peak_heap_bytes"]:
            failures.append(f"heap over time peaks at {timeline_peak}, the estimated peak is "
                            f"{ps['peak_heap_bytes']}")
    if pe["sampling"] is not None:
        failures.append("the exact analysis says it is sampled")
    if ps["sampling"] is None or ps["sampling"]["mean_bytes"] != int(args.sample_bytes) or \
            ps["sampling"]["seed"] != int(args.seed):
        failures.append(f"the sampled analysis does not say how it was sampled: {ps['sampling']}")
    for field in ("total_allocations", "total_frees", "total_allocated_bytes"):
        print(f"{field}: exact {pe[field]}, sampled {ps[field]}")
        if pe[field] != ps[field]:
            failures.append(f"{field}: exact {pe[field]}, sampled {ps[field]}")
    top = sorted(exact_sites.items(), key=lambda kv: -kv[1]["bytes"])[:10]
    inside = 0
    print(f"{'exact bytes':>14} {'estimate':>14} {'95 % interval':>31}  site")
    for key, e in top:
        # A site the sample never hit is absent, with the report's bound for unseen sites.
        unseen = {"bytes": 0, "low": 0, "high": ps["sampling"]["unseen_site_bytes_below"]}
        s = sampled_sites.get(key, unseen)
        ok = s["low"] <= e["bytes"] <= s["high"]
        inside += ok
        where = key[-1] if key else "(no stack)"
        print(f"{e['bytes']:>14} {s['bytes']:>14} [{s['low']:>14}, {s['high']:>14}] "
              f"{'' if ok else 'OUTSIDE '}{key[:4]}")
    if inside < min(9, len(top)):
        failures.append(f"only {inside} of the top {len(top)} sites' exact bytes lie inside "
                        "their 95 % interval")
    top5_exact = [k for k, _ in top[:5]]
    top5_sampled = [k for k, _ in sorted(sampled_sites.items(),
                                         key=lambda kv: -kv[1]["bytes"])[:5]]
    if set(top5_exact) != set(top5_sampled):
        failures.append("the top 5 sites by bytes differ between exact and sampled mode")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
