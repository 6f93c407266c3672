#!/usr/bin/env python3
"""The sidecar's online heap keeps up with a malloc storm (issue 15): bench_malloc_storm's two
threads free and allocate as fast as they can while the main thread only waits in pthread_join,
with full stacks and with --no-stacks. For each, the run must:
  - print what the native run prints (the program's own checksum);
  - not give up its model (no "outgrew MEMSCOPE_HEAP_SUMMARY_MB" message), so the analysis reads
    the sidecar's heap summary and the leak check ran to completion;
  - give the same heap figures from that summary as a full replay of the events (--replay).
The budget is the default MEMSCOPE_HEAP_SUMMARY_MB, which the storm's live set (about 2 K blocks)
fits many times over: only events waiting for a watermark could outgrow it (before the fix, one
drain chased a busy thread for the whole storm, so every event waited).

Usage: online_heap_storm.py MEMSCOPE_RUN MEMSCOPE_ANALYZE -- BENCH_MALLOC_STORM [ARGS...]
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import check  # noqa: E402

FIGURES = ["total_allocations", "total_frees", "total_allocated_bytes", "peak_heap_bytes",
           "leaked_allocations", "leaked_bytes", "temporary_allocations", "unmatched_frees"]


def analysis(analyze, traces, path, *extra):
    subprocess.run([analyze, traces, "--quiet", "--json", path, *extra], check=True)
    with open(path) as f:
        processes = json.load(f)["processes"]
    check(len(processes) == 1, f"{path}: one process")
    return processes[0]


def main():
    run, analyze, sep, *program = sys.argv[1:]
    assert sep == "--" and program
    native = subprocess.run(program, capture_output=True, text=True, check=True).stdout
    env = {k: v for k, v in os.environ.items() if k != "MEMSCOPE_HEAP_SUMMARY_MB"}
    with tempfile.TemporaryDirectory(prefix="memscope-storm-") as work:
        for mode in ([], ["--no-stacks"]):
            name = " ".join(mode) or "full stacks"
            tag = "no-stacks" if mode else "stacks"
            traces = os.path.join(work, tag)
            p = subprocess.run([run, "-q", *mode, "-o", traces, "--", *program], env=env,
                               capture_output=True, text=True)
            check(p.returncode == 0 and p.stdout == native,
                  f"{name}: the program exits 0 and prints what it prints natively")
            check("outgrew" not in p.stderr, f"{name}: the online heap kept its model "
                  f"(stderr: {p.stderr.strip()!r})")
            summary = analysis(analyze, traces, os.path.join(work, tag + ".json"))
            check(summary["heap_source"] == "summary",
                  f"{name}: the analysis read the sidecar's summary ({summary['heap_source']})")
            status = (summary["leak_check"] or {}).get("status")
            check(status == "complete", f"{name}: the leak check ran ({status})")
            replay = analysis(analyze, traces, os.path.join(work, tag + ".replay.json"),
                              "--replay")
            for field in FIGURES:
                check(summary[field] == replay[field],
                      f"{name}: {field} {summary[field]} from the summary, {replay[field]} "
                      "replayed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
