#!/usr/bin/env python3
"""memscope fault tests: process creation, thread stress and resource faults (issue 7).

Usage: faults.py --bin BUILD/bin --lib BUILD/lib [--keep] CASE

Same conventions as robust.py (whose helpers this script uses): every check prints "ok:" or
"FAIL:", the case exits 1 if any failed, 0 if all passed, 77 when it cannot run here (with the
reason printed). The programs are this folder's robust_* programs.

Cases:
  fork_both_allocate
      robust_forkalloc 3 2000: fork without exec, three times; parent and child allocate at the
      same time. One trace per process; the parent exactly 10 + 3*2000 allocations and as many
      frees, each child exactly 2000 and 2000, linked to the parent as a fork; all complete.
  vfork_exec, posix_spawn, system
      robust_spawn MODE robust_tiny: same output and status as natively; the parent's trace
      holds exactly its own 2 pairs (plus glibc's for system), robust_tiny's trace exactly its
      3 allocations; every trace complete and ended.
  exec_static
      robust_forkexec robust_static: the static image cannot be preloaded into; it runs with
      its own output and status unchanged, no trace is made for it, and memscope-run's summary
      lists only the two dynamic processes.
  daemon_double_fork
      robust_daemon: memscope-run returns as soon as its child returns (before the daemon has
      finished); the daemon's trace still appears, complete, with exactly its N pairs, and the
      three processes are linked parent -> child -> daemon.
  thread_cancel
      robust_cancel: pthread_cancel of a thread looping in malloc/free; the worker's counts
      equal its own count exactly, its end is recorded, nothing leaks from it.
  thread_cross_free
      robust_crossfree 200000: producer thread allocates, consumer thread frees, concurrently:
      producer N allocations 0 frees, consumer 0 allocations N frees, no unmatched frees.
  signal_handler_alloc
      robust_sigalloc: a SIGALRM handler allocating while the main thread allocates: the main
      thread's counts equal N + handler calls + 2 exactly, no leaks, no unmatched frees.
  dlopen_loop
      robust_dlloop: dlopen/call/dlclose 50 and 200 times: same output, complete traces, the
      library's 3*N allocations of 7777 bytes all recorded, and the blocks live at exit do not
      grow with N (nothing recorded as leaked per load/unload).
  replaced_operator_new
      robust_opnew N: the program's own new/delete counts are unchanged under memscope, and
      memscope records exactly N*1.5 more allocations and frees than with N = 0.
  disk_full
      the trace directory is a 64 KiB tmpfs (mounted for the test; skipped where mount is not
      permitted): the agent stops tracing with a message, the program runs on with its output
      and exit status unchanged, and what was written stays readable.
  output_dir_removed
      the trace directory is removed while the program runs: the program runs on with its
      output and exit status unchanged, and memscope (agent or memscope-run) says the trace
      directory was removed.
  ring_full_wait
      robust_hammer 4 ... with --ring-slots 1024: nothing is dropped, every thread's counts are
      exact, threads_detail shows ring_waits > 0, and the heap comes from the agent's summary.
  heap_summary_budget
      the same with each thread holding its latest 20000 blocks, under
      MEMSCOPE_HEAP_SUMMARY_MB=1: the agent says once that its heap model outgrew the budget,
      the program is unaffected, and the analysis replays the events to the same exact counts.
  ring_full_drop
      the same with --drop-when-full: dropped_events > 0 in the JSON and in memscope-run's
      summary, and recorded + unmatched frees + dropped == the events the program made.
  fuzz_regressions
      every input in tests/fuzz/regressions/ (inputs that once crashed or hung the fuzz
      target), as found and with its chunk checksums recomputed: memscope-analyze exits 0 or 2
      within 20 s and 4 GiB of address space.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import robust as R
from robust import ok, run, prog, traced, traces_in, analyze, analyze_ok, same_as_native, Skip


def by_how(procs):
    out = {}
    for p in procs:
        out.setdefault(p.get("how"), []).append(p)
    return out


def all_complete(procs, what):
    bad = [(p.get("pid"), p.get("exe"), p.get("complete"), p.get("ended"), p.get("warning"))
           for p in procs if p.get("complete") is not True or "no end" in str(p.get("ended"))]
    ok(not bad, f"{what}: every trace complete with its end recorded", f"{bad}")
    ok(all(p.get("dropped_events") == 0 for p in procs), f"{what}: no dropped events")
    ok(all(p.get("unmatched_frees") == 0 for p in procs), f"{what}: no unmatched frees",
       f"{[(p.get('pid'), p.get('unmatched_frees')) for p in procs]}")


def counts(p):
    return (p.get("total_allocations"), p.get("total_frees"))


def exe_name(p):
    return os.path.basename(str(p.get("exe")))


# ---------------------------------------------------------------------------------------------
# Process creation


def case_fork_both_allocate():
    children, n = 3, 2000
    args = [prog("robust_forkalloc"), str(children), str(n)]
    native = run(args)
    ms, out = traced(args, "trace")
    what = "robust_forkalloc"
    same_as_native(native, ms, what)
    files = traces_in(out)
    ok(len(files) == children + 1, f"{what}: {children + 1} trace files", f"{files}")
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    all_complete(procs, what)
    how = by_how(procs)
    roots, forks = how.get("root", []), how.get("fork", [])
    if not ok(len(roots) == 1 and len(forks) == children,
              f"{what}: one root and {children} fork children",
              f"{[(p.get('pid'), p.get('how')) for p in procs]}"):
        return
    root = roots[0]
    expect = 10 + children * n
    ok(counts(root) == (expect, expect), f"{what}: parent {expect} allocations and frees",
       f"got {counts(root)}")
    ok(root.get("leaked_allocations") == 0, f"{what}: parent leaks nothing",
       f"{root.get('leaked_allocations')}")
    for c in forks:
        ok(c.get("parent_pid") == root.get("pid"),
           f"{what}: child {c.get('pid')} linked to the parent", f"{c.get('parent_pid')}")
        ok(counts(c) == (n, n), f"{what}: child {c.get('pid')} exactly {n} allocations and frees",
           f"got {counts(c)}")
        ok(c.get("ended") == "exit", f"{what}: child {c.get('pid')} ended by exit",
           f"{c.get('ended')}")


def spawn_case(mode, root_pairs):
    tiny = prog("robust_tiny")
    args = [prog("robust_spawn"), mode, tiny]
    native = run(args)
    ok(native.rc == 0 and native.out == "tiny ok\n", f"robust_spawn {mode} works natively",
       native.describe())
    ms, out = traced(args, "trace")
    what = f"robust_spawn {mode}"
    same_as_native(native, ms, what, compare_stderr=True)
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    all_complete(procs, what)
    print(f"      processes: {[(p.get('pid'), p.get('how'), exe_name(p), counts(p)) for p in procs]}")
    spawner = [p for p in procs if exe_name(p) == "robust_spawn"]
    tinies = [p for p in procs if exe_name(p) == "robust_tiny"]
    if ok(len(spawner) == 1, f"{what}: one trace for robust_spawn", f"{len(spawner)}"):
        p = spawner[0]
        if root_pairs is None:
            ok(p["total_allocations"] >= 2 and p["total_allocations"] == p["total_frees"],
               f"{what}: robust_spawn's own 2 pairs (plus glibc's) recorded, all freed",
               f"got {counts(p)}")
        else:
            ok(counts(p) == (root_pairs, root_pairs),
               f"{what}: robust_spawn exactly {root_pairs} allocations and frees",
               f"got {counts(p)}")
        ok(p.get("ended") == "exit", f"{what}: robust_spawn ended by exit", f"{p.get('ended')}")
    if ok(len(tinies) == 1, f"{what}: one trace for robust_tiny", f"{len(tinies)}"):
        t = tinies[0]
        ok(counts(t) == (3, 2), f"{what}: robust_tiny exactly 3 allocations and 2 frees",
           f"got {counts(t)}")
        ok(t.get("how") != "root", f"{what}: robust_tiny linked to the process that started it",
           f"how {t.get('how')}, parent {t.get('parent_pid')}")
    return procs


def case_vfork_exec():
    spawn_case("vfork", 2)


def case_posix_spawn():
    spawn_case("posix_spawn", 2)


def case_system():
    procs = spawn_case("system", None)
    ok(any(exe_name(p) in ("sh", "dash", "bash") for p in procs) or len(procs) == 2,
       "system: the shell is traced too (or exec'd the program directly)",
       f"{[exe_name(p) for p in procs]}")


def case_exec_static():
    static = prog("robust_static")
    args = [prog("robust_forkexec"), static]
    native = run(args)
    if native.rc != 0:
        raise Skip(f"robust_static does not run here: {native.describe()}")
    out = os.path.join(R.CTX.work, "trace")
    ms = run([R.memscope_run(), "-o", out, "--", *args])
    what = "robust_forkexec robust_static"
    same_as_native(native, ms, what)
    ok(ms.out == "static program ran\n", f"{what}: the static program's output is unchanged",
       f"{ms.out!r}")
    files = traces_in(out)
    ok(len(files) == 2, f"{what}: two traces (parent, fork child up to its exec), none for the "
       "static image", f"{[os.path.basename(f) for f in files]}")
    summary = [line for line in ms.err.splitlines() if line.startswith("memscope-run: pid")]
    ok(len(summary) == 2 and all("robust_forkexec" in line for line in summary),
       f"{what}: memscope-run's summary lists the two robust_forkexec processes only",
       f"stderr {ms.err!r}")
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    ok(not any(exe_name(p) == "robust_static" for p in procs), f"{what}: no static trace")
    forks = [p for p in procs if p.get("how") == "fork"]
    ok(len(forks) == 1 and forks[0].get("ended") == "exec",
       f"{what}: the fork child's trace ends with its exec",
       f"{[(p.get('how'), p.get('ended')) for p in procs]}")


def case_daemon_double_fork():
    n = 3000
    marker_native = os.path.join(R.CTX.work, "native.marker")
    marker = os.path.join(R.CTX.work, "traced.marker")
    native = run([prog("robust_daemon"), marker_native, str(n)])
    ok(native.rc == 0 and native.out == "parent done\n", "robust_daemon works natively",
       native.describe())
    ms, out = traced([prog("robust_daemon"), marker, str(n)], "trace")
    what = "robust_daemon"
    same_as_native(native, ms, what)
    ok(ms.seconds < 0.6 and not os.path.exists(marker),
       f"{what}: memscope-run returned when its child returned, before the daemon finished",
       f"{ms.seconds:.2f}s, marker exists {os.path.exists(marker)}")
    deadline = time.monotonic() + 10
    data = None
    while time.monotonic() < deadline:
        if os.path.exists(marker):
            r, data = analyze(out)
            procs = (data or {}).get("processes", [])
            if len(procs) == 3 and all(p.get("complete") and "no end" not in str(p.get("ended"))
                                       for p in procs):
                break
        time.sleep(0.2)
    ok(os.path.exists(marker), f"{what}: the daemon ran to its end")
    files = traces_in(out)
    ok(len(files) == 3, f"{what}: three traces (parent, child, daemon)", f"{files}")
    if not ok(data is not None, f"{what}: the traces analyze"):
        return
    procs = data.get("processes", [])
    all_complete(procs, what)
    root = [p for p in procs if p.get("how") == "root"]
    forks = [p for p in procs if p.get("how") == "fork"]
    if not ok(len(root) == 1 and len(forks) == 2, f"{what}: a root and two fork children",
              f"{[(p.get('pid'), p.get('how'), p.get('parent_pid')) for p in procs]}"):
        return
    with open(marker) as f:
        daemon_pid = int(f.read().strip().split("=")[1])
    daemon = [p for p in forks if p.get("pid") == daemon_pid]
    child = [p for p in forks if p.get("pid") != daemon_pid]
    if not ok(len(daemon) == 1 and len(child) == 1, f"{what}: the daemon {daemon_pid} is traced"):
        return
    root, child, daemon = root[0], child[0], daemon[0]
    ok(child.get("parent_pid") == root.get("pid") and daemon.get("parent_pid") == child.get("pid"),
       f"{what}: linked parent -> child -> daemon")
    ok(counts(root) == (1, 1), f"{what}: parent exactly 1 pair", f"{counts(root)}")
    ok(counts(child) == (2, 2), f"{what}: child exactly 2 pairs", f"{counts(child)}")
    ok(counts(daemon) == (n, n), f"{what}: daemon exactly {n} pairs", f"{counts(daemon)}")


# ---------------------------------------------------------------------------------------------
# Thread stress


def one_process(args, name, options=(), native=None, **kw):
    native = native or run(args, **kw)
    ms, out = traced(args, name, options=options, **kw)
    what = os.path.basename(args[0])
    same_as_native(native, ms, what)
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, f"{what}: one process", f"{len(procs)}"):
        raise SystemExit(R.finish())
    return native, ms, procs[0]


def stdout_value(text, key):
    for line in text.splitlines():
        if line.startswith(key + "="):
            return int(line.split("=", 1)[1])
    return None


def case_thread_cancel():
    args = [prog("robust_cancel"), "300"]
    ms, out = traced(args, "trace")
    what = "robust_cancel"
    ok(ms.rc == 0 and "cancelled=1" in ms.out, f"{what}: the worker was cancelled and joined",
       ms.describe())
    worker_allocs = stdout_value(ms.out, "worker")
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, f"{what}: one process"):
        return
    p = procs[0]
    all_complete(procs, what)
    ok(p.get("threads") == 3, f"{what}: 3 threads (main, idle, worker)", f"{p.get('threads')}")
    main = R.main_thread(p)
    others = sorted((t for t in p.get("threads_detail", []) if t is not main),
                    key=lambda t: t.get("start_ns") or 0)
    if not ok(len(others) == 2, f"{what}: two cancelled threads"):
        return
    idle, worker = others
    ok((idle["allocations"], idle["frees"]) == (0, 0), f"{what}: the idle thread made no calls",
       f"{(idle['allocations'], idle['frees'])}")
    ok(worker["allocations"] == worker_allocs and worker["frees"] == worker_allocs,
       f"{what}: the worker's {worker_allocs} allocations and frees (cleanup handler included) "
       "recorded exactly", f"got {(worker['allocations'], worker['frees'])}")
    ok(all(t.get("end_ns") is not None for t in others),
       f"{what}: both cancelled threads' ends recorded")


def case_thread_cross_free():
    n = 200000
    _, _, p = one_process([prog("robust_crossfree"), str(n)], "trace")
    what = "robust_crossfree"
    all_complete([p], what)
    main = R.main_thread(p)
    others = [t for t in p.get("threads_detail", []) if t is not main]
    prod = [t for t in others if t["allocations"] == n]
    cons = [t for t in others if t["frees"] == n]
    ok(len(others) == 2 and len(prod) == 1 and len(cons) == 1 and prod[0] is not cons[0],
       f"{what}: one thread with exactly {n} allocations, another with exactly {n} frees",
       f"{[(t['tid'], t['allocations'], t['frees']) for t in others]}")
    if len(prod) == 1 and len(cons) == 1:
        ok(prod[0]["frees"] == 0 and cons[0]["allocations"] == 0,
           f"{what}: the producer freed nothing, the consumer allocated nothing",
           f"{prod[0]['frees']}, {cons[0]['allocations']}")
    main_live = main["allocations"] - main["frees"] if main else 0
    ok(p.get("leaked_allocations") == main_live,
       f"{what}: no block of the producer is live at exit (only main's {main_live} thread DTVs)",
       f"{p.get('leaked_allocations')}")


def case_signal_handler_alloc():
    args = [prog("robust_sigalloc"), "300000"]
    ms, out = traced(args, "trace")
    what = "robust_sigalloc"
    ok(ms.rc == 0, f"{what}: exits 0 under memscope", ms.describe())
    handler, main_n = stdout_value(ms.out, "handler"), stdout_value(ms.out, "main")
    if not ok(handler is not None and main_n is not None, f"{what}: printed its counts",
              f"{ms.out!r}"):
        return
    ok(handler > 0, f"{what}: the handler ran ({handler} times)")
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, f"{what}: one process"):
        return
    p = procs[0]
    all_complete(procs, what)
    expect = main_n + handler + 2
    t = R.main_thread(p)
    ok(t is not None and (t["allocations"], t["frees"]) == (expect, expect),
       f"{what}: main thread exactly {expect} allocations and frees ({main_n} + {handler} in "
       "the handler + 2 warm-up)", f"got {t and (t['allocations'], t['frees'])}")
    ok(p.get("leaked_allocations") == 0, f"{what}: no leaks", f"{p.get('leaked_allocations')}")


def case_dlopen_loop():
    lib = os.path.join(R.CTX.lib, "librobust_dlib.so")
    results = {}
    for n in (50, 200):
        args = [prog("robust_dlloop"), lib, str(n)]
        native, ms, p = one_process(args, f"trace{n}")
        what = f"robust_dlloop {n}"
        ok(ms.out == f"loops={n}\nwork={3 * n}\n", f"{what}: output", f"{ms.out!r}")
        all_complete([p], what)
        ok(p["total_allocations"] >= 3 * n and p["total_allocated_bytes"] >= 3 * n * 7777,
           f"{what}: at least the library's {3 * n} allocations of 7777 bytes recorded",
           f"{counts(p)}, {p['total_allocated_bytes']} bytes")
        results[n] = p
    a, b = results[50], results[200]
    extra_allocs = b["total_allocations"] - a["total_allocations"]
    extra_bytes = b["total_allocated_bytes"] - a["total_allocated_bytes"]
    ok(extra_allocs % 150 == 0 and extra_allocs >= 450,
       "150 more loops add a whole number of allocations per loop (at least the library's 3)",
       f"{extra_allocs}")
    ok(extra_bytes >= 150 * 3 * 7777, "150 more loops add at least 150 * 3 * 7777 bytes",
       f"{extra_bytes}")
    ok(a["leaked_allocations"] == b["leaked_allocations"],
       "blocks live at exit do not grow with the number of dlopen/dlclose loops",
       f"{a['leaked_allocations']} after 50, {b['leaked_allocations']} after 200")


def case_replaced_operator_new():
    results = {}
    for n in (0, 10000):
        args = [prog("robust_opnew"), str(n)]
        native, ms, p = one_process(args, f"trace{n}")
        what = f"robust_opnew {n}"
        own = (stdout_value(ms.out, "new"), stdout_value(ms.out, "delete"))
        ok(own == (n + n // 2, n + n // 2), f"{what}: the program's own operator new/delete "
           f"counted {n + n // 2} each, as natively", f"{ms.out!r}")
        all_complete([p], what)
        results[n] = p
    extra = (results[10000]["total_allocations"] - results[0]["total_allocations"],
             results[10000]["total_frees"] - results[0]["total_frees"])
    ok(extra == (15000, 15000), "memscope records exactly the 15000 new/delete pairs",
       f"got {extra}")


# ---------------------------------------------------------------------------------------------
# Resource faults


def output_keys(text):
    """robust_steady's output lines without their (timing-dependent) values."""
    return [line.split("=")[0] for line in text.splitlines()]


def case_disk_full():
    if os.geteuid() != 0:
        raise Skip("mounting a small tmpfs needs root")
    mnt = R.new_dir("small")
    m = run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", mnt])
    if m.rc != 0:
        raise Skip(f"mount -t tmpfs is not permitted here: {m.err.strip()}")
    try:
        # robust_steady writes about 8 KB of trace per 250 ms chunk (68 KB in 2 s, trace
        # format 3): 6 s of it cannot fit in 64 KiB.
        args = [prog("robust_steady"), "6"]
        native = run(args)
        out = os.path.join(mnt, "trace")
        ms = run([R.memscope_run(), "-o", out, "--", *args], timeout=R.HANG_S)
        what = "robust_steady 6 with a full disk (64 KiB tmpfs)"
        ok(ms.status == native.status, f"{what}: exit status {ms.status} == native "
           f"{native.status}", ms.describe())
        ok(output_keys(ms.out) == output_keys(native.out),
           f"{what}: the program ran to its end (pid=, count=, done=)", f"{ms.out!r}")
        ok("Traceback" not in ms.err and "terminate called" not in ms.err,
           f"{what}: no crash in memscope-run or the agent", f"{ms.err[-400:]!r}")
        ok("No space left on device" in ms.err and "tracing stopped" in ms.err,
           f"{what}: the agent says tracing stopped for lack of space", f"stderr {ms.err!r}")
        r, data = analyze(out)
        ok(r.rc == 0 and data is not None, f"{what}: what was written is readable",
           r.describe())
        if data:
            procs = data.get("processes", [])
            ok(len(procs) == 1 and procs[0]["total_allocations"] > 0,
               f"{what}: the part before the disk filled holds allocations",
               f"{[counts(p) for p in procs]}")
            ok(all(p.get("complete") is False or "no end" in str(p.get("ended"))
                   for p in procs), f"{what}: the trace is marked as cut short",
               f"{[(p.get('complete'), p.get('ended')) for p in procs]}")
    finally:
        subprocess.run(["umount", mnt], check=False)


def case_output_dir_removed():
    args = [prog("robust_steady"), "2"]
    native = run(args)
    out = os.path.join(R.CTX.work, "trace")
    p = subprocess.Popen([R.memscope_run(), "-o", out, "--", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    first = p.stdout.readline().decode()
    time.sleep(0.3)
    shutil.rmtree(out)
    try:
        rest, err = p.communicate(timeout=R.HANG_S)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        rest, err = p.communicate()
    ms = R.Result(["memscope-run", "-o", out, "--", *args], p.returncode,
                  first + rest.decode(), err.decode(), 0)
    what = "robust_steady, trace directory removed at 0.3 s"
    ok(first.startswith("pid="), f"{what}: started", first)
    ok(ms.status == native.status, f"{what}: exit status {ms.status} == native {native.status}",
       ms.describe())
    ok(output_keys(ms.out) == output_keys(native.out),
       f"{what}: the program ran to its end (pid=, count=, done=)", f"{ms.out!r}")
    ok("Traceback" not in ms.err and "terminate called" not in ms.err,
       f"{what}: no crash", f"{ms.err[-400:]!r}")
    msgs = [line.replace(out, "DIR") for line in ms.err.splitlines()  # the path says removed
            if line.startswith("memscope")]
    ok(any("removed" in line for line in msgs),
       f"{what}: memscope (the agent or memscope-run) says the trace directory was removed",
       f"stderr {ms.err!r}")


def hammer_case(options, name, env=None, hold=None):
    threads, n = 4, 150000
    args = [prog("robust_hammer"), str(threads), str(n)] + ([str(hold)] if hold else [])
    native = run(args)
    out = os.path.join(R.CTX.work, name)
    ms = run([R.memscope_run(), "-o", out, "--ring-slots", "1024", *options, "--", *args],
             env=env)
    what = " ".join(["robust_hammer", *args[1:], "--ring-slots 1024", *options])
    same_as_native(native, ms, what)
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, f"{what}: one process"):
        raise SystemExit(R.finish())
    p = procs[0]
    main = R.main_thread(p)
    workers = [t for t in p.get("threads_detail", []) if t is not main]
    print(f"      {ms.seconds:.1f}s traced; per thread (allocations, frees, ring_waits, "
          f"dropped): {[(t['allocations'], t['frees'], t.get('ring_waits'), t.get('dropped_events')) for t in workers]}")
    return ms, p, main, workers, threads, n


def case_ring_full_wait():
    ms, p, main, workers, threads, n = hammer_case([], "wait")
    what = "ring of 1024 slots, lossless"
    ok(p.get("complete") is True and p.get("dropped_events") == 0,
       f"{what}: complete, nothing dropped", f"{p.get('complete')} {p.get('dropped_events')}")
    ok(len(workers) == threads and all((t["allocations"], t["frees"]) == (n, n)
                                       for t in workers),
       f"{what}: every thread exactly {n} allocations and frees")
    waits = sum(t.get("ring_waits") or 0 for t in workers)
    ok(waits > 0, f"{what}: threads_detail shows ring_waits > 0 ({waits})")
    ok("DROPPED" not in ms.err, f"{what}: the summary reports no drops", ms.err[-300:])
    ok(p.get("heap_source") == "summary", f"{what}: the heap comes from the agent's summary",
       p.get("heap_source"))


def case_heap_summary_budget():
    # 4 x 20000 live blocks: a live map of several MiB, well past the budget.
    ms, p, main, workers, threads, n = hammer_case([], "budget", {"MEMSCOPE_HEAP_SUMMARY_MB": "1"},
                                                   hold=20000)
    what = "MEMSCOPE_HEAP_SUMMARY_MB=1"
    said = [line for line in ms.err.splitlines() if "outgrew MEMSCOPE_HEAP_SUMMARY_MB" in line]
    ok(len(said) == 1, f"{what}: the agent says once that the heap model outgrew its budget",
       ms.err[-400:])
    ok(p.get("heap_source") == "replay", f"{what}: the analysis replays the events",
       p.get("heap_source"))
    ok(p.get("complete") is True and p.get("dropped_events") == 0,
       f"{what}: complete, nothing dropped", f"{p.get('complete')} {p.get('dropped_events')}")
    ok(len(workers) == threads and all((t["allocations"], t["frees"]) == (n, n)
                                       for t in workers),
       f"{what}: every thread exactly {n} allocations and frees")


def case_ring_full_drop():
    ms, p, main, workers, threads, n = hammer_case(["--drop-when-full"], "drop")
    what = "ring of 1024 slots, --drop-when-full"
    dropped = p.get("dropped_events") or 0
    ok(dropped > 0, f"{what}: dropped_events > 0 in the JSON ({dropped})")
    # A recorded free whose allocation was dropped counts as unmatched, not as a free.
    recorded = sum(t["allocations"] + t["frees"] for t in workers)
    unmatched = p.get("unmatched_frees") or 0
    ok(recorded + unmatched + dropped == 2 * threads * n,
       f"{what}: recorded + unmatched frees + dropped == the {2 * threads * n} events the "
       "workers made", f"{recorded} + {unmatched} + {dropped}")
    ok(any("DROPPED" in line and "events" in line for line in ms.err.splitlines()),
       f"{what}: memscope-run's summary says events were dropped", ms.err[-400:])


# ---------------------------------------------------------------------------------------------
# Fuzzer regressions


def with_fixed_checksums(blob):
    """The trace with every chunk's checksum recomputed, as the fuzz target's second pass."""
    b = bytearray(blob)
    if len(b) < R.HEADER:
        return None
    pos = int.from_bytes(b[10:12], "little")
    fixed = False
    while pos + R.CHUNK_HEADER <= len(b):
        stored = int.from_bytes(b[pos + 8:pos + 12], "little")
        seq = int.from_bytes(b[pos + 16:pos + 24], "little")
        if stored > len(b) - pos - R.CHUNK_HEADER:
            break
        payload = bytes(b[pos + R.CHUNK_HEADER:pos + R.CHUNK_HEADER + stored])
        b[pos + 24:pos + 32] = R.xxh64(payload, seq).to_bytes(8, "little")
        fixed = True
        pos += R.CHUNK_HEADER + stored
    return bytes(b) if fixed and bytes(b) != blob else None


def case_fuzz_regressions():
    here = os.path.dirname(os.path.abspath(__file__))
    regressions = os.path.join(here, "..", "fuzz", "regressions")
    files = sorted(f for f in os.listdir(regressions) if not f.startswith("."))
    if not files:
        raise Skip("tests/fuzz/regressions holds no input yet")
    for name in files:
        with open(os.path.join(regressions, name), "rb") as f:
            blob = f.read()
        for variant, data in (("as found", blob), ("checksums fixed", with_fixed_checksums(blob))):
            if data is None:
                continue
            path = os.path.join(R.new_dir(f"{name}.{len(variant)}"), "memscope.1.mst")
            with open(path, "wb") as f:
                f.write(data)
            r, _ = analyze(path, address_space=4 << 30)
            ok(r.rc in (0, 2), f"{name} ({variant}): memscope-analyze exits 0 or 2 within 20 s "
               "and 4 GiB (no crash, no hang)", r.describe())


CASES = {
    "fork_both_allocate": case_fork_both_allocate,
    "vfork_exec": case_vfork_exec,
    "posix_spawn": case_posix_spawn,
    "system": case_system,
    "exec_static": case_exec_static,
    "daemon_double_fork": case_daemon_double_fork,
    "thread_cancel": case_thread_cancel,
    "thread_cross_free": case_thread_cross_free,
    "signal_handler_alloc": case_signal_handler_alloc,
    "dlopen_loop": case_dlopen_loop,
    "replaced_operator_new": case_replaced_operator_new,
    "disk_full": case_disk_full,
    "output_dir_removed": case_output_dir_removed,
    "ring_full_wait": case_ring_full_wait,
    "heap_summary_budget": case_heap_summary_budget,
    "ring_full_drop": case_ring_full_drop,
    "fuzz_regressions": case_fuzz_regressions,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("case", choices=sorted(CASES))
    ctx = ap.parse_args()
    ctx.bin, ctx.lib = os.path.abspath(ctx.bin), os.path.abspath(ctx.lib)
    ctx.mimalloc = ""
    ctx.work = tempfile.mkdtemp(prefix=f"memscope-faults-{ctx.case}.")
    R.CTX = ctx
    for k in list(os.environ):
        if k.startswith("MEMSCOPE_") or k == "LD_PRELOAD":
            del os.environ[k]
    try:
        CASES[ctx.case]()
    except Skip as e:
        print(f"skip: {e}")
        shutil.rmtree(ctx.work, ignore_errors=True)
        return 77
    return R.finish()


if __name__ == "__main__":
    sys.exit(main())
