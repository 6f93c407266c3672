#!/usr/bin/env python3
"""Export and CI-gate tests: traces tests/exports/programs/export_subject.c under memscope-run,
runs memscope-analyze with the option under test and checks what came out against what the
program is known to do (its header comment): hot_allocator allocates most, leaky_function leaks
800000 bytes unless --clean, a thread named exp-worker allocates 100 KiB per unit of scale."""
import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import memscope_analysis  # noqa: E402
from checks import check, fail  # noqa: E402
import xml.etree.ElementTree as ET

LEAKED_BYTES = 8 * 100000
FIXTURE_V2 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                          "export_subject.v2.json")


class Harness:
    def __init__(self, args):
        self.args = args
        self.work = args.work
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)

    def trace(self, name, *program_args, sample_bytes=None):
        out = os.path.join(self.work, name)
        sampling = ["--sample-bytes", str(sample_bytes), "--sample-seed", "7"] if sample_bytes else []
        subprocess.run([self.args.run, "-q", *sampling, "-o", out, "--", self.args.program,
                        *program_args], check=True)
        return out

    def analyze(self, *args):
        r = subprocess.run([self.args.analyze, *args], capture_output=True, text=True)
        print("$ memscope-analyze " + " ".join(args) + f"  -> {r.returncode}")
        if r.stderr:
            print(r.stderr.rstrip())
        return r

    def path(self, name):
        return os.path.join(self.work, name)

    def report(self, trace):
        r = self.analyze(trace, "--quiet", "--json", "-")
        check(r.returncode == 0, "analysis JSON of " + trace)
        return memscope_analysis.loads(r.stdout)


def test_gate(h):
    leaky, clean = h.trace("leaky"), h.trace("clean", "--clean")
    r = h.analyze(leaky, "--quiet", "--fail-on", "leaked_bytes>0")
    check(r.returncode == 3, "leaking program with --fail-on leaked_bytes>0 exits 3")
    check(len([l for l in r.stderr.splitlines() if "fail-on" in l]) == 1 and
          "leaked_bytes>0" in r.stderr, "one line naming the broken rule")
    r = h.analyze(clean, "--quiet", "--fail-on", "leaked_bytes>0")
    check(r.returncode == 0, "clean program with --fail-on leaked_bytes>0 exits 0")
    # 400 x 64 KiB freed at once: the peak is one 64 KiB block plus the rest, below 1 MiB.
    r = h.analyze(leaky, "--quiet", "--fail-on", "peak_heap_bytes>700KB",
                  "--fail-on", "peak_heap_bytes>256MiB", "--fail-on", "total_allocations>1e6",
                  "--fail-on", "total_allocations>=400")
    check(r.returncode == 3, "units and scientific notation: broken rules give 3")
    broken = [l for l in r.stderr.splitlines() if "fail-on" in l]
    check(len(broken) == 2 and "peak_heap_bytes>700KB" in broken[0] and
          "total_allocations>=400" in broken[1], "exactly the two broken rules are listed")
    r = h.analyze(leaky, "--quiet", "--fail-on", "leaked_bytes>>0")
    check(r.returncode == 1 and "leaked_bytes>>0" in r.stderr,
          "a malformed expression is a usage error naming it")
    r = h.analyze(leaky, "--quiet", "--fail-on", "primary_bottleneck==Slow")
    check(r.returncode == 1 and "Slow" in r.stderr, "an unknown bottleneck is a usage error")
    r = h.analyze(h.path("no-such-dir"), "--quiet", "--fail-on", "leaked_bytes>0")
    check(r.returncode == 2, "no readable trace keeps status 2")
    verdict = h.report(leaky)["processes"][0]["performance_insights"]["primary_bottleneck"]
    if verdict is not None:
        r = h.analyze(leaky, "--quiet", "--fail-on", "primary_bottleneck==" + verdict)
        check(r.returncode == 3 and "pid" in r.stderr, "bottleneck rule names the process")
        r = h.analyze(leaky, "--quiet", "--fail-on", "primary_bottleneck!=" + verdict)
        check(r.returncode == 0, "bottleneck != its own verdict passes")
    # JUnit and Markdown.
    junit, md = h.path("gate.xml"), h.path("gate.md")
    r = h.analyze(leaky, "--quiet", "--junit", junit, "--markdown", md,
                  "--fail-on", "leaked_bytes>0", "--fail-on", "threads>100")
    check(r.returncode == 3, "gate with --junit/--markdown still exits 3")
    cases = ET.parse(junit).getroot().findall(".//testcase")
    check([c.get("name") for c in cases] == ["leaked_bytes>0", "threads>100"],
          "one JUnit testcase per rule")
    check(cases[0].find("failure") is not None and cases[1].find("failure") is None,
          "the broken rule's testcase has a failure element, the other none")
    text = open(md).read()
    check("hot\\_allocator" in text and "leaky\\_function" in text and "FAILED" in text,
          "markdown lists the top site, the leak and the failed rule")
    check(len(text.splitlines()) < 60, "markdown stays short")
    r = h.analyze(clean, "--quiet", "--junit", junit)
    cases = ET.parse(junit).getroot().findall(".//testcase")
    check(r.returncode == 0 and len(cases) == 1 and cases[0].get("name") == "memscope analysis"
          and cases[0].find("failure") is None, "without rules: one passing testcase")


def ensure_go():
    if not shutil.which("go"):
        fail("go (Debian golang-go) is needed for `go tool pprof`; scripts/test installs it "
             "before running the tests (a test never installs anything)")


def pprof_top(h, profile, sample_index):
    env = dict(os.environ, HOME=h.work, GOCACHE=h.path("gocache"), GOFLAGS="-mod=mod")
    r = subprocess.run(["go", "tool", "pprof", "-top", "-symbolize=none",
                        "-sample_index=" + sample_index, profile],
                       capture_output=True, text=True, env=env)
    print(r.stdout + r.stderr)
    check(r.returncode == 0, "go tool pprof reads the profile (" + sample_index + ")")
    # Rows after the header: flat flat% sum% cum cum% name
    rows = [l.split() for l in r.stdout.splitlines()
            if re.match(r"^\s*[\d.]+\w*\s+[\d.]+%", l)]
    check(rows, "pprof lists functions for " + sample_index)
    return rows[0][-1], r.stdout


def test_pprof(h):
    ensure_go()
    leaky = h.trace("leaky")
    profile = h.path("profile.pb.gz")
    check(h.analyze(leaky, "--quiet", "--pprof", profile).returncode == 0, "--pprof writes")
    with gzip.open(profile) as f:
        check(len(f.read()) > 0, "the profile is gzip")
    top, text = pprof_top(h, profile, "alloc_space")
    check(top == "hot_allocator", "top of alloc_space is hot_allocator, got " + top)
    check("File: exports_subject" in text, "the executable's mapping comes first")
    top, text = pprof_top(h, profile, "inuse_space")
    check(top == "leaky_function", "top of inuse_space is the leak site, got " + top)
    check("781.25kB" in text or "781.25KB" in text or "800000B" in text,
          "inuse_space of the leak is its 800000 bytes")
    top, _ = pprof_top(h, profile, "alloc_objects")
    check(top in ("hot_allocator", "worker"), "alloc_objects has the allocating functions")
    check("Type: alloc_space\n" in pprof_top(h, profile, "alloc_space")[1] and
          "estimate" not in text, "an exact trace's sample types are not estimates")
    # A sampled trace: the same sites, under sample types that say they are estimates.
    sampled = h.trace("sampled", sample_bytes=65536)
    profile = h.path("sampled.pb.gz")
    check(h.analyze(sampled, "--quiet", "--pprof", profile).returncode == 0, "--pprof, sampled")
    top, text = pprof_top(h, profile, "alloc_space_estimate")
    check(top == "hot_allocator", "top of alloc_space_estimate is hot_allocator, got " + top)
    check("Type: alloc_space_estimate" in text, "the default sample type is an estimate")
    top, _ = pprof_top(h, profile, "inuse_space_estimate")
    check(top == "leaky_function", "top of inuse_space_estimate is the leak site, got " + top)


def test_folded(h):
    leaky = h.trace("leaky")
    summary = h.report(leaky)["summary"]
    expected = {"bytes": summary["total_allocated_bytes"], "count": summary["total_allocations"],
                "leaked": summary["leaked_bytes"], "peak": summary["peak_heap_bytes"]}
    for weight, total in expected.items():
        out = h.path("stacks." + weight)
        r = h.analyze(leaky, "--quiet", "--folded", out, "--folded-weight", weight)
        check(r.returncode == 0, "--folded-weight " + weight)
        check("estimates" not in r.stderr, "an exact trace's folded stacks carry no note")
        lines = open(out).read().splitlines()
        parsed = [re.match(r"^(.+) (\d+)$", l) for l in lines]
        check(all(parsed), "every line is `stack weight`")
        check(sum(int(m.group(2)) for m in parsed) == total,
              f"{weight} weights add up to the report's {total}")
        stacks = [m.group(1) for m in parsed]
        check(len(stacks) == len(set(stacks)), "each stack once")
        # glibc allocates the new thread's TLS inside pthread_create, which the agent wraps: the
        # program's stack runs main -> pthread_create, with no frame of memscope's between them.
        check(weight != "count" or any("main;__pthread_create" in st for st in stacks) and
              not any("memscope::agent" in st for st in stacks),
              "the TLS of pthread_create is main's, with no frame of the agent's in any stack")
        heaviest = max(parsed, key=lambda m: int(m.group(2))).group(1).split(";")
        if weight in ("bytes",):
            check("hot_allocator" in heaviest and
                  heaviest.index("main") < heaviest.index("hot_allocator"),
                  "heaviest stack holds hot_allocator, root first (main before it)")
        if weight == "leaked":
            check("leaky_function" in heaviest, "heaviest leaked stack is leaky_function")
    r = h.analyze(leaky, "--quiet", "--folded", h.path("x"), "--folded-weight", "size")
    check(r.returncode == 1, "an unknown weight is a usage error")
    # A sampled trace: the weights are the sites' estimates, and stderr says so.
    sampled = h.trace("sampled", sample_bytes=65536)
    sites = h.report(sampled)
    out = h.path("sampled.folded")
    r = h.analyze(sampled, "--quiet", "--folded", out)
    check(r.returncode == 0 and "weights are estimates" in r.stderr,
          "folded stacks of a sampled trace: stderr says the weights are estimates")
    parsed = [re.match(r"^(.+) (\d+)$", l) for l in open(out).read().splitlines()]
    check(all(parsed) and sum(int(m.group(2)) for m in parsed) ==
          sum(s["allocated_bytes"] for s in sites["sites"]),
          "sampled weights add up to the sites' estimated bytes")
    heaviest = max(parsed, key=lambda m: int(m.group(2))).group(1).split(";")
    check("hot_allocator" in heaviest, "the heaviest sampled stack holds hot_allocator")


def test_chrome(h):
    leaky = h.trace("leaky")
    report = h.report(leaky)
    out = h.path("trace.json")
    check(h.analyze(leaky, "--quiet", "--chrome-trace", out).returncode == 0, "--chrome-trace")
    events = json.load(open(out))["traceEvents"]
    check(isinstance(events, list) and events, "traceEvents is a non-empty array")
    pid = report["processes"][0]["pid"]
    meta = [e for e in events if e["ph"] == "M"]
    check(any(e["name"] == "process_name" and e["pid"] == pid for e in meta), "process name")
    names = {e["args"]["name"] for e in meta if e["name"] == "thread_name"}
    check("exp-worker" in names, "the worker thread is named")
    spans = [e for e in events if e["ph"] == "X"]
    check(len(spans) == len(report["processes"][0]["threads_detail"]),
          "one lifetime span per thread")
    worker = [e for e in spans if e["name"] == "exp-worker"]
    check(len(worker) == 1 and worker[0]["dur"] >= 0 and worker[0]["args"]["allocations"] >= 100,
          "the worker's span carries its allocations")
    counters = {e["name"] for e in events if e["ph"] == "C"}
    check({"live heap", "allocation rate"} <= counters, "heap counters present")
    peak = max(e["args"]["bytes"] for e in events if e["name"] == "live heap")
    check(peak == report["summary"]["peak_heap_bytes"], "live heap counter reaches the peak")
    stamps = [e["ts"] for e in events if e["ph"] != "M"]
    check(all(a <= b for a, b in zip(stamps, stamps[1:])), "timestamps are monotonic")
    check(all(e["ph"] == "M" for e in events[:len(meta)]), "metadata first")


def test_compare(h):
    base, double = h.trace("base", "1"), h.trace("double", "2")
    out = h.path("compare.json")
    r = subprocess.run([h.args.analyze, "compare", base, double, "--max-regression", "50",
                        "--json", out], capture_output=True, text=True)
    print(r.stdout + r.stderr)
    check(r.returncode == 3, "2x the allocations with --max-regression 50 exits 3")
    lines = [l for l in r.stderr.splitlines() if "regression:" in l]
    check(any("total_allocated_bytes" in l for l in lines) and
          any("total_allocations" in l for l in lines), "one line per regressed total")
    check(not any("leaked_bytes" in l for l in lines), "leaks did not grow: not listed")
    cmp = json.load(open(out))
    hot = [s for s in cmp["sites"] if s["function"] == "hot_allocator"]
    check(len(hot) == 1 and hot[0]["status"] == "both" and
          abs(hot[0]["allocated_bytes"]["percent"] - 100.0) < 0.01,
          "hot_allocator matched across runs by stack, grew 100%")
    worker = [t for t in cmp["threads"] if t["name"] == "exp-worker"]
    check(len(worker) == 1 and worker[0]["allocations"]["delta"] == 100,
          "exp-worker matched by name, 100 more allocations")
    r = subprocess.run([h.args.analyze, "compare", base, double, "--max-regression", "150"],
                       capture_output=True, text=True)
    check(r.returncode == 0, "growth within --max-regression 150 exits 0")
    saved = h.path("base.json")
    h.analyze(base, "--quiet", "--json", saved)
    r = subprocess.run([h.args.analyze, "compare", saved, base, "--max-regression", "0"],
                       capture_output=True, text=True)
    check(r.returncode == 0, "an analysis JSON compares with its own trace: no change")
    # A baseline kept from before version 2: the rows tests/lib reads are version 1's shape.
    old = h.report(base)
    old["schema"] = "memscope-analysis/1"
    old_path = h.path("base.v1.json")
    with open(old_path, "w") as f:
        json.dump({k: old[k] for k in ("schema", "summary", "processes", "threads", "sites")}, f)
    out = h.path("compare-v1.json")
    r = subprocess.run([h.args.analyze, "compare", old_path, double, "--max-regression", "50",
                        "--json", out], capture_output=True, text=True)
    check(r.returncode == 3, "a version 1 baseline: 2x the allocations exits 3")
    hot = [s for s in json.load(open(out))["sites"] if s["function"] == "hot_allocator"]
    check(len(hot) == 1 and hot[0]["status"] == "both",
          "a version 1 baseline: hot_allocator matched by stack with the version 2 side")
    # A baseline written by the previous release (version 2, tests/fixtures: main's build
    # traced this program with argument 1); the fresh side allocates twice as much.
    out = h.path("compare-v2.json")
    r = subprocess.run([h.args.analyze, "compare", FIXTURE_V2, double, "--max-regression", "50",
                        "--json", out], capture_output=True, text=True)
    print(r.stdout + r.stderr)
    check(r.returncode == 3, "a version 2 baseline: 2x the allocations exits 3")
    cmp = json.load(open(out))
    hot = [s for s in cmp["sites"] if s["function"] == "hot_allocator"]
    check(len(hot) == 1 and hot[0]["status"] == "both" and
          abs(hot[0]["allocated_bytes"]["percent"] - 100.0) < 0.01,
          "a version 2 baseline: hot_allocator matched by stack, grew 100%")
    check(all(s["status"] == "both" for s in cmp["sites"]),
          "a version 2 baseline from another checkout: every changed site matched, none new")
    r = subprocess.run([h.args.analyze, "compare", base], capture_output=True, text=True)
    check(r.returncode == 1, "compare with one side is a usage error")
    r = subprocess.run([h.args.analyze, "compare", base, h.path("missing")],
                       capture_output=True, text=True)
    check(r.returncode == 2, "compare with no readable trace exits 2")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("test", choices=["gate", "pprof", "folded", "chrome", "compare"])
    p.add_argument("--run", required=True)
    p.add_argument("--analyze", required=True)
    p.add_argument("--program", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    h = Harness(args)
    {"gate": test_gate, "pprof": test_pprof, "folded": test_folded, "chrome": test_chrome,
     "compare": test_compare}[args.test](h)
    print("PASS")


if __name__ == "__main__":
    main()
