#!/usr/bin/env python3
"""memscope robustness tests: one case per run (CTest runs each as robust_<case>).

Usage: robust.py --bin BUILD/bin --lib BUILD/lib [--mimalloc PATH] [--keep] CASE

Every case runs real processes and asserts things that could fail; each check prints
"ok:" or "FAIL:", and the case exits 1 if any check failed (0 all passed, 77 skipped with a
printed reason). The work directory is kept (and printed) when a check fails, or with --keep.

Cases (the programs are this folder's robust_* programs, built next to memscope-run):
  endings_exit, endings__exit, endings_return_threads, endings_abort, endings_segv,
  endings_sigterm, endings_cxx_exception, endings__Exit, endings_quick_exit,
  endings_exit_group, endings_sighup, endings_sigusr1, endings_sigrtmin, endings_redefault
      robust_endings/robust_throw make a known number of allocations, then end that way
      (_Exit, quick_exit after an allocating at_quick_exit handler, syscall(SYS_exit_group),
      raise(SIGHUP/SIGUSR1/SIGRTMIN), a SIGTERM handler that restores SIG_DFL with signal()
      and re-raises). memscope-run's exit status and stdout equal the native run's; the trace
      says how it ended ("exit", "_exit(3)", "quick_exit(7)", "signal 6 (SIGABRT)" ...), is
      complete, and its counts (allocations, frees, bytes, leaks of the main thread) are exact.
  endings_sys_execve, endings_execveat
      robust_endings execs itself through syscall(SYS_execve) / execveat(): two traces, the
      first ended by "exec" with the exact counts, the second "_exit(3)"; same status, stdout.
  endings_sigpipe
      robust_endings writes lines forever; the reader of its stdout pipe takes three and closes
      it (`PROGRAM | head -3`): killed by SIGPIPE (141) like the native run, same three
      lines, the trace complete, "signal 13 (SIGPIPE)", exact counts.
  endings_kill_sighup, endings_kill_sigterm
      robust_steady is sent SIGHUP / SIGTERM from outside half a second after it printed
      its one-second count: the native status (129, 143), the trace complete with that
      signal as its end and at least that many allocations.
  endings_sigkill
      robust_steady allocates steadily, prints at one second how many allocations it made;
      it is killed with SIGKILL half a second later. Exit status 137 like the native run;
      the trace is readable, holds at least that many, says no end was recorded and is
      complete false with the reason; a --fail-on rule that no figure could break
      (total_allocations<0) still fails (exit 3), saying the trace cannot vouch for it.
  trace_size_limit
      robust_hammer 4 300000 1000 under --max-trace-size 256KiB: the native exit status and
      stdout; one trace of at most 256 KiB plus the tiny marker and end chunks; the analysis says
      complete false with "trace size limit 262144 bytes reached", holds some but not all of
      the allocations and the process's end; a --fail-on rule no figure breaks still fails.
  endings_dispositions
      robust_endings prints what sigaction() and signal() report for every signal: the same
      as natively (SIG_DFL where memscope's flush handler stands in for it).
  endings__Exit_leak_gate
      robust_endings leaks 100 blocks and ends with _Exit: the trace has the 100 leaks and
      --fail-on 'leaked_bytes>0' fails (exit 3) naming leaked_bytes.
  sampled_failed_realloc
      robust_failrealloc asks 100 sampled blocks (--sample-bytes 1) to grow past PTRDIFF_MAX,
      which fails, then frees them: the same status and stdout as natively, the exact trace's
      totals (allocations, frees, bytes), and no leak (each block's free is still matched).
  glibc_provider, mimalloc_provider
      the traced program keeps its own allocator: glibc's accounting sees its blocks
      (robust_mallinfo), and a program linked with libmimalloc still gets mimalloc blocks;
      JSON malloc_provider names libc.so.6 / libmimalloc.
  no_follow
      robust_forkexec forks and execs robust_tiny: three traces (root, fork, exec) linked
      to each other; with --no-follow exactly one.
  bad_missing_program (127), bad_not_executable (126), bad_static (125, "statically
  linked"), bad_unwritable_output (125), bad_unknown_option (125, also bad option values)
      memscope-run refuses clearly, and the program does not run.
  bad_agent_path (125, "contains a space" / "contains a colon")
      memscope-run and its agent copied under a directory whose name has a space, then a
      colon (both split LD_PRELOAD): refused with that reason, the program not run.
  bad_32bit (125, "32-bit x86 program")
      a 32-bit ELF program (with an interpreter, so not "static"): refused because the agent
      is 64-bit, not with a message about LD_PRELOAD or static linking.
  runner_rerun_summary
      robust_tiny run twice into one output directory: the second summary has exactly one
      process line (its own), and says one trace from an earlier run was left out.
  runner_root_output_dir (as root only)
      -o into a world-writable directory, one owned by another user, and one under a
      directory owned by another user: refused (125) naming the reason and --force, the
      program not run; with --force it runs with a warning; a root-owned directory under a
      root-owned sticky world-writable one (like /tmp) is accepted without a warning.
  runner_sigkill
      memscope-run is SIGKILLed while robust_steady runs: the program dies too (it does not
      run on unsupervised), and its trace says no end was recorded (complete false).
  agent_symlink
      the agent (LD_PRELOAD) finds a symlink planted at its trace path: it refuses with a
      message naming the symbolic link, the program still runs normally, the link's target
      is untouched.
  trace_mode_0600
      with umask 0, every trace file is still mode 0600.
  analyze_truncated, analyze_corrupted, analyze_garbage, analyze_fuzz_records
      memscope-analyze on cut, bit-flipped, nonsense and fuzzed traces: never a crash or a
      hang; either exit 0 with the damage marked (complete false, a warning, or an error
      entry) and the chunks before the damage kept, or exit 2 with a message. The fuzzer
      writes raw chunks with correct XXH64 checksums, so the record decoder itself is fuzzed.
  analyze_non_utf8
      a program run with non-UTF-8 bytes in argv and in its path: text and JSON analysis work.
  env_nonsense
      MEMSCOPE_* values that make no sense: the program runs normally, the agent says
      "memscope: ignoring ...", the trace is valid and exact.
  real_python_threads, real_python_subprocess, real_git, real_bash_pipeline, real_sort,
  real_perl, real_gxx, real_cmake, real_node, real_java, real_sqlite3
      real programs give the same exit status, stdout and stderr as without memscope, and a
      complete, analyzable trace for every process.
  real_gxx_large
      g++ -O2 -c of a translation unit that includes the whole standard library and
      instantiates regex, iostreams and containers (cc1plus: about 3.5 M allocations, 90,000
      sites, 70,000 blocks live at its end): the object file is byte for byte the native one,
      and memscope-run's summary says every process ended by exit with its trace complete (the
      leak scan once read every site's figures in a loop: cc1plus's end took longer than the
      5 s an exit waited, and its trace lost its end).
  threads_joined_1000, threads_detached
      many short-lived threads, each with exactly 5 allocations: every thread appears with
      exactly its own counts.
  fd_lowest_loop, fd_lowest_forks, fd_closeall_reopen
      robust_lowfd: close(0) then open() must give 0, 3000 times in the process and 200 times
      in each of 100 fork children; closing every descriptor and opening /dev/null three
      times gives 0, 1, 2 on /dev/null. Same output as natively, complete traces.
  fd_unwinder_pipe
      robust_probepipe closes everything, puts its own files and blocking pipes at 0..15 and
      allocates from deep stacks: unwinding them never touches them (no bytes written, no
      offset moved, no hang; libunwind's probe pipe did, before the agent dropped it).
  fd_count_300_threads
      with 300 threads alive, the program's table holds exactly as many descriptors as
      natively.
  fd_shared_table
      the same where unshare and close_range are refused (robust_seccomp_open no-unshare):
      memscope's descriptors share the program's table above the floor, all opened before the
      program runs; strace shows none made after; the loops see 0 every time; at most 128 more
      with 300 threads and in the last of 8 nested fork children, 9 complete traces.
  seccomp_open_kill, seccomp_open_errno
      a TSYNC seccomp filter installed early in main kills (or fails with EACCES) open and
      openat: same exit status and output as natively, memscope says it opens no more
      files, the trace is complete.
  real_tar_repeated
      60 traced runs of tar czf (which forks gzip and dups a pipe into its stdin): exit 0 and
      the native archive, byte for byte, every time.
  threads_main_pthread_exit, threads_main_pthread_exit_sigterm, threads_main_seccomp,
  threads_main_seccomp_kill
      robust_mainexit: the main thread leaves first (pthread_exit; seccomp strict mode and a raw
      SYS_exit(0) or SYS_exit(3); seccomp strict mode and a forbidden exit_group). Under a hard
      timeout: the same exit status and stdout as natively (the atexit handler and stdio flush
      run exactly when glibc runs them), a complete trace saying how it ended, every worker's
      20000 pairs exact; with pthread_exit the atexit handler's free is recorded; SIGTERM sent
      once the main thread is gone ends it with 143 as natively.
  threads_unseen
      robust_rawthread makes two threads by raw clone() (no pthread_create, as for threads
      started before the agent's hooks): the analysis has 3 threads (the program's count),
      both raw ones known from the samples, the busy one ranked, the sidecar (its recorded
      sidecar_tid) not among them; the one still alive and the main thread end with the
      process (end_at_process_end), the one gone before the last sample has no end.
  process_name_symlink
      robust_tiny run through a symlink robust_alias: name robust_alias, executable the target.
  real_tar_spawn_names
      tar czf, whose sh vforks gzip: a process named gzip, how "spawn" with a traced parent,
      one thread (its main, ended with it); the text report says "gzip (spawned by PID ...".
  threads_raw_clone
      robust_rawclone: a child made by a raw clone(SIGCHLD) makes 100000 pairs and forks: same
      output and status as natively, within the timeout; one trace (the child runs untraced),
      the main thread's 200 pairs exact.
  sigalloc_storm
      robust_sigstorm: a SIGALRM every 2 ms whose handler makes 500 malloc/free pairs (for its
      first 150 calls) while the main thread loops on malloc/realloc/free, with the default ring
      and with 1024 slots: it finishes, same output as natively, nothing dropped, the main
      thread's counts exact.
  sigalloc_wild_pc
      robust_sigwild calls through a wild pointer and its SIGSEGV handler allocates 4242 bytes
      (a stack through the signal frame into that pc) and leaves with _exit(3): the same exit
      status and output as natively (the unwinder stops at the wild pc instead of reading
      code there), and a complete trace whose one leaked block is the handler's.
  loader_link_map
      robust_linkmap prints its link map (dl_iterate_phdr) and, for liblzma, libm, libunwind,
      libmimalloc and libz, whether each was loaded before its own dlopen: traced, the link map
      is the native one plus the agent alone (AGENT_STILL_LOADS is empty), libunwind, liblzma
      and libmimalloc in particular are not in it, so liblzma, libm, libunwind, libmimalloc and
      libz are loaded by the program's own dlopen as natively; the trace is complete.

Python 3 standard library only.
"""

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import memscope_analysis  # noqa: E402
import tempfile
import time

FAILURES = []
CTX = None  # the parsed arguments plus work dir
# Every timeout here only detects a hang: a shared or fresh machine can be many times slower than
# a developer's, so no case may depend on how fast something runs (bench/ measures speed).
HANG_S = 240


class Skip(Exception):
    pass


def ok(cond, what, detail=""):
    """Records one check. Returns cond so callers can stop early when it matters."""
    if cond:
        print(f"ok: {what}")
    else:
        FAILURES.append(what)
        print(f"FAIL: {what}" + (f"\n      {detail}" if detail else ""))
    sys.stdout.flush()
    return cond


def native_status(returncode):
    """A shell-style exit status: 128+N for a process killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def _limits(umask=None, address_space=None):
    def fn():
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if address_space:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        if umask is not None:
            os.umask(umask)

    return fn


class Result:
    def __init__(self, cmd, rc, out, err, seconds):
        self.cmd, self.rc, self.out, self.err, self.seconds = cmd, rc, out, err, seconds
        self.status = None if rc is None else native_status(rc)

    def describe(self):
        cmd = " ".join(os.fsdecode(c) if isinstance(c, bytes) else str(c) for c in self.cmd)
        return (f"command: {cmd!r}\n      status {self.status}, "
                f"{self.seconds:.1f}s, stderr: {self.err[-600:]!r}")


def run(cmd, env=None, timeout=None, cwd=None, umask=None, address_space=None, stdin=None):
    """Runs cmd; a timeout (default HANG_S) gives rc None (and the process group is killed)."""
    timeout = timeout or HANG_S
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    start = time.monotonic()
    p = subprocess.Popen([c if isinstance(c, bytes) else str(c) for c in cmd],
                         stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=stdin or subprocess.DEVNULL,
                         env=full_env, cwd=cwd, start_new_session=True,
                         preexec_fn=_limits(umask, address_space))
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        rc = None
    return Result(cmd, rc, out.decode(errors="replace"), err.decode(errors="replace"),
                  time.monotonic() - start)


def prog(name):
    path = os.path.join(CTX.bin, name)
    if not os.path.exists(path):
        raise SystemExit(f"robust.py: {path} is missing; build the robustness programs first")
    return path


def memscope_run():
    return os.path.join(CTX.bin, "memscope-run")


def new_dir(name):
    path = os.path.join(CTX.work, name)
    os.makedirs(path, exist_ok=True)
    return path


def traced(args, name, options=(), **kw):
    """Runs args under memscope-run -q -o WORK/name; returns (Result, trace dir)."""
    out = os.path.join(CTX.work, name)
    return run([memscope_run(), "-q", "-o", out, *options, "--", *args], **kw), out


def traces_in(directory):
    if not os.path.isdir(directory):
        return []
    return sorted(os.path.join(directory, f) for f in os.listdir(directory)
                  if f.startswith("memscope.") and f.endswith(".mst"))


def analyze(paths, timeout=None, address_space=None):
    """Runs memscope-analyze --json; returns (Result, parsed JSON or None)."""
    if isinstance(paths, str):
        paths = [paths]
    json_path = os.path.join(CTX.work, f"analysis.{time.monotonic_ns()}.json")
    r = run([os.path.join(CTX.bin, "memscope-analyze"), *paths, "--json", json_path,
             "--quiet"], timeout=timeout, address_space=address_space)
    data = None
    if r.rc == 0:
        try:
            with open(json_path) as f:
                data = memscope_analysis.expand(json.load(f))
        except (OSError, ValueError) as e:
            ok(False, "memscope-analyze exit 0 writes valid JSON", f"{e}; {r.describe()}")
    if os.path.exists(json_path):
        os.unlink(json_path)
    return r, data


def analyze_ok(directory, what):
    """Analyzes a directory that must analyze cleanly; returns the JSON (or raises)."""
    r, data = analyze(directory)
    if not ok(r.rc == 0 and data is not None, f"{what}: memscope-analyze exits 0",
              r.describe()):
        raise SystemExit(finish())
    return data


def main_thread(proc):
    for t in proc.get("threads_detail", []):
        if t.get("tid") == proc.get("pid"):
            return t
    return None


def same_as_native(native, ms, what, compare_stderr=False):
    ok(ms.rc is not None, f"{what}: memscope-run finished in time", ms.describe())
    ok(ms.status == native.status,
       f"{what}: memscope-run exit status {ms.status} == native {native.status}",
       ms.describe())
    ok(ms.out == native.out, f"{what}: stdout identical to the native run",
       f"native {native.out[-300:]!r}\n      traced {ms.out[-300:]!r}")
    if compare_stderr:
        ok(ms.err == native.err, f"{what}: stderr identical to the native run",
           f"native {native.err[-300:]!r}\n      traced {ms.err[-300:]!r}")


def case_threads_unseen():
    """Threads made by a raw clone() (the agent never sees them start) are in the thread table
    from the samples; the sidecar, named by its recorded tid, is not; ends where known."""
    tids = os.path.join(CTX.work, "native.tids")
    native = run([prog("robust_rawthread"), tids])
    traced_tids = os.path.join(CTX.work, "traced.tids")
    ms, out = traced([prog("robust_rawthread"), traced_tids], "trace",
                     env={"MEMSCOPE_SAMPLE_MS": "50"})
    what = "robust_rawthread"
    same_as_native(native, ms, what)
    try:
        with open(traced_tids) as f:
            made = dict(line.split("=") for line in f.read().split())
        busy, sleeper = int(made["busy"]), int(made["sleeper"])
    except (OSError, ValueError, KeyError) as e:
        ok(False, f"{what}: the traced run wrote its threads' tids", f"{e}")
        return
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, f"{what}: one process"):
        return
    p = procs[0]
    by_tid = {t["tid"]: t for t in p.get("threads_detail", [])}
    # The program's own count (main + 2 clones) is the oracle; the sidecar is not one of them.
    ok(p.get("threads") == 3 and sorted(by_tid) == sorted([p["pid"], busy, sleeper]),
       f"{what}: threads 3, the main thread and both raw threads",
       f"threads {p.get('threads')}, tids {sorted(by_tid)}, made {busy} {sleeper}")
    ok(isinstance(p.get("sidecar_tid"), int) and p["sidecar_tid"] not in by_tid,
       f"{what}: the sidecar's tid is recorded and it is not in the thread table",
       f"sidecar_tid {p.get('sidecar_tid')}")
    ok(sorted(t["tid"] for t in data.get("threads", []) if t["pid"] == p["pid"]) ==
       sorted(by_tid), f"{what}: the threads list has the same threads")
    b, s, m = by_tid.get(busy, {}), by_tid.get(sleeper, {}), by_tid.get(p["pid"], {})
    ok(b.get("known_from") == "samples" and s.get("known_from") == "samples",
       f"{what}: the raw threads are known from the samples",
       f"{b.get('known_from')}, {s.get('known_from')}")
    ok(m.get("known_from") == "agent" and m.get("allocations") == 100,
       f"{what}: the main thread recorded by the agent, its 100 allocations exact",
       f"{m.get('known_from')}, {m.get('allocations')}")
    ok(s.get("end_at_process_end") is True and m.get("end_at_process_end") is True and
       isinstance(s.get("end_ns"), int) and s.get("end_ns") == m.get("end_ns"),
       f"{what}: the sleeper and the main thread end with the process, flagged",
       f"sleeper {s.get('end_ns')} {s.get('end_at_process_end')}, "
       f"main {m.get('end_ns')} {m.get('end_at_process_end')}")
    ok(b.get("end_ns") is None and b.get("end_at_process_end") is False,
       f"{what}: busy, gone before the last sample, has no end (none recorded, not the process's)",
       f"{b.get('end_ns')} {b.get('end_at_process_end')}")
    ranking = {r.get("thread_id"): r for r in
               p.get("performance_insights", {}).get("thread_performance_ranking", [])}
    # Relative, not absolute: on a loaded machine the busy thread may get far less than a CPU.
    busy_cpu = (ranking.get(busy) or {}).get("cpu_percent") or 0
    sleeper_cpu = (ranking.get(sleeper) or {}).get("cpu_percent") or 0
    ok(busy in ranking and busy_cpu >= 5 and busy_cpu > 5 * sleeper_cpu,
       f"{what}: busy is ranked, on the CPU far more than the sleeper",
       f"busy {ranking.get(busy)}, sleeper {ranking.get(sleeper)}")
    text = run([os.path.join(CTX.bin, "memscope-analyze"), out, "--top", "0"])
    rows = [line.split() for line in text.out.splitlines()]
    ok(any(r[1:2] == [str(busy)] and r[-1] == "samples" for r in rows if len(r) > 2),
       f"{what}: the text thread table lists busy, known from the samples", text.out[-800:])


def case_process_name_symlink():
    """Run through a symlink, a process is named as it was run, its executable beside it."""
    link = os.path.join(CTX.work, "robust_alias")
    os.symlink(prog("robust_tiny"), link)
    native = run([link])
    ms, out = traced([link], "trace")
    what = "robust_alias -> robust_tiny"
    same_as_native(native, ms, what)
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, f"{what}: one process"):
        return
    p = procs[0]
    target = os.path.realpath(prog("robust_tiny"))
    ok(p.get("name") == "robust_alias" and p.get("executable") == target,
       f"{what}: name robust_alias, executable the link's target",
       f"name {p.get('name')!r}, executable {p.get('executable')!r}")
    text = run([os.path.join(CTX.bin, "memscope-analyze"), out, "--top", "0"])
    ok(f"robust_alias (root; executable {target})" in text.out,
       f"{what}: the text report names it robust_alias, with the executable", text.out[:400])


def case_real_tar_spawn_names():
    """tar czf: sh started by tar's fork+exec spawns gzip (vfork, then exec): gzip is named
    gzip, spawned by its parent, and its one thread is counted and ends with it."""
    tar = tool("tar")
    tree = os.path.join(CTX.work, "tree")
    os.makedirs(tree)
    with open(os.path.join(tree, "lines"), "w") as f:
        f.write("".join(f"{i}\n" for i in range(50000)))
    native = run([tar, "czf", os.path.join(CTX.work, "native.tgz"), "-C", tree, "."])
    ms, out = traced([tar, "czf", os.path.join(CTX.work, "traced.tgz"), "-C", tree, "."],
                     "trace")
    same_as_native(native, ms, "tar czf")
    data = analyze_ok(out, "tar czf")
    procs = data.get("processes", [])
    gz = [p for p in procs if p.get("name") == "gzip"]
    if not ok(len(gz) == 1, "tar czf: one process named gzip",
              f"{[(p.get('name'), p.get('how')) for p in procs]}"):
        return
    g = gz[0]
    pids = {p["pid"] for p in procs}
    ok(os.path.basename(str(g.get("executable"))) == "gzip" and g.get("how") == "spawn" and
       g.get("parent_pid") in pids and g.get("parent_pid") != g["pid"],
       "tar czf: gzip spawned by a traced parent, its executable gzip",
       f"how {g.get('how')}, parent {g.get('parent_pid')}, executable {g.get('executable')}")
    # gzip is single-threaded: one thread, its main, ending with the process.
    t = g.get("threads_detail", [])
    ok(g.get("threads") == 1 and len(t) == 1 and t[0]["tid"] == g["pid"] and
       t[0].get("end_at_process_end") is True,
       "tar czf: gzip has its one (main) thread, ended with the process",
       f"threads {g.get('threads')}, {t}")
    text = run([os.path.join(CTX.bin, "memscope-analyze"), out, "--top", "0"])
    ok(f"process {g['pid']} gzip (spawned by {g.get('parent_pid')} " in text.out,
       "tar czf: the text report names gzip and who spawned it",
       "\n".join(l for l in text.out.splitlines() if l.startswith("process")))


# ---------------------------------------------------------------------------------------------
# Trace size limit


def case_trace_size_limit():
    limit = 1 << 18  # a quarter of what the whole run takes (about 1.1 MB since version 3)
    threads, n = 4, 300000
    args = [prog("robust_hammer"), str(threads), str(n), "1000"]
    what = f"robust_hammer {threads} {n} 1000 --max-trace-size 256KiB"
    native = run(args)
    ms, out = traced(args, "trace", options=("--max-trace-size", "256KiB"))
    same_as_native(native, ms, what)
    ok(f"size limit of {limit} bytes" in ms.err, f"{what}: the user is told the limit was reached",
       ms.describe())
    files = traces_in(out)
    sizes = [os.path.getsize(f) for f in files]
    # The marker and the end are chunks of a few dozen bytes each, far below one chunk.
    ok(len(files) == 1 and sizes[0] <= limit + 4096,
       f"{what}: one trace of at most the limit plus the marker and end chunks", f"{sizes}")
    r, data = analyze(out)
    procs = (data or {}).get("processes", [])
    p = procs[0] if len(procs) == 1 else {}
    ok(r.rc == 0 and p.get("complete") is False
       and f"trace size limit {limit} bytes reached" in (p.get("warning") or ""),
       f"{what}: the analysis says complete false, because the size limit was reached",
       f"{r.describe()} {p.get('complete')} {p.get('warning')}")
    allocations = p.get("total_allocations") or 0
    ok(0 < allocations < threads * n and str(p.get("ended", "")).startswith("exit"),
       f"{what}: the figures cover the events before the limit ({allocations} of "
       f"{threads * n} allocations), and the process's end is recorded", f"{p.get('ended')}")
    gate = run([os.path.join(CTX.bin, "memscope-analyze"), out, "--quiet",
                "--fail-on", "total_allocations<0"])
    ok(gate.rc == 3 and "cannot be vouched for" in gate.err and "size limit" in gate.err,
       f"{what}: a --fail-on rule no figure breaks still fails (exit 3), naming the limit",
       gate.describe())


# ---------------------------------------------------------------------------------------------
# Endings


def endings_expected(n):
    """What robust_endings MODE n does on its main thread (see endings.c)."""
    alloc_bytes = n * 8 + sum(16 + i % 200 for i in range(1, n))
    frees = len(range(1, n, 2))
    return n, frees, alloc_bytes


def ending_case(mode, ended, n=1000, program="robust_endings", args=None):
    args = args if args is not None else [mode, str(n)]
    native = run([prog(program), *args])
    ms, out = traced([prog(program), *args], "trace")
    what = f"{program} {' '.join(args)}"
    same_as_native(native, ms, what)
    files = traces_in(out)
    ok(len(files) == 1, f"{what}: exactly one trace file", f"found {files}")
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, f"{what}: one process in the analysis", f"{len(procs)}"):
        return None
    p = procs[0]
    ok(p.get("ended") == ended, f"{what}: ended == {ended!r}", f"got {p.get('ended')!r}")
    ok(p.get("complete") is True, f"{what}: trace complete",
       f"complete={p.get('complete')} warning={p.get('warning')!r}")
    ok(p.get("dropped_events") == 0, f"{what}: no dropped events", f"{p.get('dropped_events')}")
    ok(p.get("unmatched_frees") == 0, f"{what}: no unmatched frees",
       f"{p.get('unmatched_frees')}")
    return p


def exact_main_thread(p, what, n, extra_allocs=0, live="leaked_allocations"):
    allocs, frees, nbytes = endings_expected(n)
    t = main_thread(p)
    if not ok(t is not None, f"{what}: main thread in threads_detail"):
        return
    ok(t["allocations"] == allocs + extra_allocs,
       f"{what}: main thread allocations == {allocs + extra_allocs}", f"got {t['allocations']}")
    ok(t["frees"] == frees, f"{what}: main thread frees == {frees}", f"got {t['frees']}")
    if extra_allocs == 0:
        ok(t["allocated_bytes"] == nbytes, f"{what}: main thread bytes == {nbytes}",
           f"got {t['allocated_bytes']}")
        ok(p[live] == allocs - frees, f"{what}: {live} == {allocs - frees}", f"got {p[live]}")


def case_simple_ending(mode, ended):
    n = 1000
    p = ending_case(mode, ended, n)
    if p:
        exact_main_thread(p, f"robust_endings {mode}", n)
        ok(p["total_allocations"] == n, f"robust_endings {mode}: total_allocations == {n}",
           f"got {p['total_allocations']}")


def case_endings_quick_exit():
    n = 1000
    p = ending_case("quick_exit", "quick_exit(7)", n)
    if p:
        # The program's at_quick_exit handler allocates once, before memscope's last handler.
        exact_main_thread(p, "robust_endings quick_exit", n, extra_allocs=1)
        ok(p["leaked_allocations"] == n - len(range(1, n, 2)) + 1,
           "robust_endings quick_exit: the handler's block is among the leaks",
           f"got {p['leaked_allocations']}")


def case_endings_return_threads():
    n = 1000
    p = ending_case("threads", "exit", n)
    if not p:
        return
    what = "robust_endings threads"
    ok(p["threads"] == 5, f"{what}: 5 threads recorded", f"got {p['threads']}")
    t = main_thread(p)
    allocs, frees, _ = endings_expected(n)
    # glibc's pthread_create callocs one DTV per thread on the creating thread: 4 more.
    ok(t is not None and t["allocations"] == allocs + 4 and t["frees"] == frees,
       f"{what}: main thread made {allocs}+4 allocations and {frees} frees",
       f"got {t and (t['allocations'], t['frees'])}")
    workers = [w for w in p["threads_detail"] if w is not t]
    ok(all(w["allocations"] > 0 for w in workers),
       f"{what}: every worker thread's allocations were recorded",
       f"{[w['allocations'] for w in workers]}")
    # Each worker frees every block right after allocating it: at most one in flight.
    ok(all(w["allocations"] - w["frees"] in (0, 1) for w in workers),
       f"{what}: each worker has at most one block in flight (alloc/free pairs intact at exit)",
       f"{[(w['allocations'], w['frees']) for w in workers]}")
    in_flight = sum(w["allocations"] - w["frees"] for w in workers)
    expect_leaks = allocs - frees + 4 + in_flight
    ok(p["leaked_allocations"] == expect_leaks,
       f"{what}: leaked allocations == {expect_leaks} (main's + 4 DTVs + in flight)",
       f"got {p['leaked_allocations']}")
    ok(p["total_allocations"] == sum(x["allocations"] for x in p["threads_detail"]),
       f"{what}: process total equals the sum over threads")


def case_endings_cxx_exception():
    n = 1000
    p = ending_case(None, "signal 6 (SIGABRT)", n, program="robust_throw", args=[str(n)])
    if not p:
        return
    t = main_thread(p)
    # n blocks (the vector's buffer and n-1 ints), half freed, plus at least the exception
    # object; libstdc++'s terminate handler may allocate while demangling the type name.
    ok(t is not None and t["allocations"] >= n + 1,
       f"robust_throw: main thread allocations >= {n + 1}", f"got {t and t['allocations']}")
    ok(t is not None and t["frees"] >= n // 2, f"robust_throw: main thread frees >= {n // 2}",
       f"got {t and t['frees']}")


def case_exec_ending(mode):
    n = 1000
    args = [prog("robust_endings"), mode, str(n)]
    what = f"robust_endings {mode}"
    native = run(args)
    ms, out = traced(args, "trace")
    same_as_native(native, ms, what)
    ok(native.out == f"allocated={n}\nallocated=0\n", f"{what}: both images ran natively",
       native.describe())
    data = analyze_ok(out, what)
    procs = sorted(data.get("processes", []), key=lambda p: p.get("ended") != "exec")
    if not ok(len(procs) == 2, f"{what}: two traces (the image that execs, the exec'd one)",
              f"{[(p.get('ended'), p.get('trace')) for p in procs]}"):
        return
    first, second = procs
    ok(first.get("ended") == "exec" and first.get("complete") is True,
       f"{what}: the first image's trace is complete and ended by exec",
       f"{first.get('ended')!r} complete={first.get('complete')}")
    # The blocks live at the exec went with the image (docs/analysis.md): discarded, not leaked.
    exact_main_thread(first, f"{what} (before the exec)", n, live="discarded_by_exec_allocations")
    ok(first.get("leaked_allocations") == 0, f"{what}: the first image leaked nothing",
       f"got {first.get('leaked_allocations')}")
    ok(second.get("ended") == "_exit(3)" and second.get("complete") is True,
       f"{what}: the exec'd image's trace is complete, ended by _exit(3)",
       f"{second.get('ended')!r} complete={second.get('complete')}")
    ok(second.get("how") == "exec", f"{what}: the second trace is linked as an exec",
       f"how={second.get('how')!r}")


def read_lines_then_close(cmd, lines=3):
    """`cmd | head -LINES`: reads LINES lines of cmd's stdout, closes the pipe, waits."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, preexec_fn=_limits(), start_new_session=True)
    got = b"".join(p.stdout.readline() for _ in range(lines))
    p.stdout.close()
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        rc = None
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    return Result(cmd, rc, got.decode(errors="replace"), err, 0.0)


def case_endings_sigpipe():
    n = 1000
    args = [prog("robust_endings"), "pipe", str(n)]
    native = read_lines_then_close(args)
    ok(native.status == 128 + signal.SIGPIPE, "robust_endings pipe dies of SIGPIPE natively",
       native.describe())
    out = os.path.join(CTX.work, "trace")
    ms = read_lines_then_close([memscope_run(), "-q", "-o", out, "--", *args])
    same_as_native(native, ms, "robust_endings pipe | head -3")
    data = analyze_ok(out, "robust_endings pipe")
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, "robust_endings pipe: one process", f"{len(procs)}"):
        return
    p = procs[0]
    ok(p.get("ended") == "signal 13 (SIGPIPE)" and p.get("complete") is True,
       "robust_endings pipe: trace complete, ended by SIGPIPE",
       f"{p.get('ended')!r} complete={p.get('complete')} warning={p.get('warning')!r}")
    exact_main_thread(p, "robust_endings pipe", n)


def case_endings_dispositions():
    args = [prog("robust_endings"), "dispositions", "0"]
    native = run(args)
    ok(native.rc == 0 and "DD15\n" in native.out, "robust_endings dispositions runs natively",
       native.describe())
    ms, _ = traced(args, "trace")
    same_as_native(native, ms, "robust_endings dispositions (what sigaction/signal report)")


def case_endings_exit_leak_gate():
    n = 200
    args = [prog("robust_endings"), "_Exit", str(n)]
    native = run(args)
    ms, out = traced(args, "trace")
    same_as_native(native, ms, "robust_endings _Exit 200")
    data = analyze_ok(out, "robust_endings _Exit 200")
    procs = data.get("processes", [])
    ok(len(procs) == 1 and procs[0].get("complete") is True
       and procs[0].get("leaked_allocations") == 100,
       "robust_endings _Exit 200: a complete trace with its 100 leaks",
       f"{[(p.get('complete'), p.get('leaked_allocations')) for p in procs]}")
    gate = run([os.path.join(CTX.bin, "memscope-analyze"), out, "--quiet",
                "--fail-on", "leaked_bytes>0"])
    ok(gate.rc == 3 and "fail-on leaked_bytes>0: leaked_bytes is" in gate.err,
       "--fail-on 'leaked_bytes>0' fails (exit 3) on the leaks of a program ended by _Exit",
       gate.describe())


def kill_after_marker(cmd, env=None, sig=signal.SIGKILL):
    """Runs robust_steady (directly or under memscope-run): reads pid= and count= from its
    stdout, sends `sig` to the program 0.5 s after count= (1.5 s after it started)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=_limits(), start_new_session=True)
    pid = count = None
    deadline = time.monotonic() + 20
    lines = []
    try:
        while time.monotonic() < deadline:
            line = p.stdout.readline().decode()
            if not line:
                break
            lines.append(line)
            if line.startswith("pid="):
                pid = int(line[4:])
            elif line.startswith("count="):
                count = int(line[6:])
                time.sleep(0.5)
                os.kill(pid, sig)
                break
        out, err = p.communicate(timeout=HANG_S)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
    return native_status(p.returncode), count, "".join(lines) + out.decode(), err.decode()


def case_endings_sigkill():
    steady = prog("robust_steady")
    native_rc, native_count, _, _ = kill_after_marker([steady])
    ok(native_rc == 137 and native_count, f"native robust_steady killed: status {native_rc}")
    out = os.path.join(CTX.work, "trace")
    rc, count, stdout, err = kill_after_marker([memscope_run(), "-q", "-o", out, "--", steady])
    ok(count is not None, "traced robust_steady printed its count at one second",
       f"stdout {stdout!r} stderr {err[-400:]!r}")
    ok(rc == native_rc, f"memscope-run exit status {rc} == native {native_rc} (SIGKILL)",
       f"stderr {err[-400:]!r}")
    files = traces_in(out)
    ok(len(files) == 1, "one trace file after SIGKILL", f"{files}")
    r, data = analyze(out)
    if not ok(r.rc == 0 and data is not None, "the SIGKILLed trace is readable (exit 0)",
              r.describe()):
        return
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, "one process in the analysis"):
        return
    p = procs[0]
    ok("no end recorded" in str(p.get("ended")), "ended says no end was recorded",
       f"got {p.get('ended')!r}")
    ok(p.get("complete") is False and "no end recorded" in str(p.get("warning")),
       "the trace is complete false, and the warning says why",
       f"complete {p.get('complete')!r} warning {p.get('warning')!r}")
    ok(p.get("exe", "").endswith("robust_steady"), "the trace still says which program it was",
       f"exe {p.get('exe')!r}")
    if count is not None:
        ok(p["total_allocations"] >= count,
           f"trace holds at least the {count} allocations made in the first second "
           "(at most 500 ms lost)", f"got {p['total_allocations']}")
    ok(p.get("dropped_events") == 0, "no dropped events")
    gate = run([os.path.join(CTX.bin, "memscope-analyze"), out, "--quiet",
                "--fail-on", "total_allocations<0"])
    ok(gate.rc == 3 and "cannot be vouched for" in gate.err and "no end recorded" in gate.err,
       "a --fail-on rule on the SIGKILLed trace fails (exit 3): the trace cannot vouch for it",
       gate.describe())


def case_endings_kill(sig, ended):
    steady = prog("robust_steady")
    native_rc, native_count, _, _ = kill_after_marker([steady], sig=sig)
    ok(native_rc == 128 + sig and native_count, f"native robust_steady: status {native_rc}")
    out = os.path.join(CTX.work, "trace")
    rc, count, stdout, err = kill_after_marker([memscope_run(), "-q", "-o", out, "--", steady],
                                               sig=sig)
    ok(rc == native_rc, f"memscope-run exit status {rc} == native {native_rc}",
       f"stdout {stdout!r} stderr {err[-400:]!r}")
    data = analyze_ok(out, f"robust_steady killed by {ended}")
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, "one process in the analysis"):
        return
    p = procs[0]
    ok(p.get("ended") == ended and p.get("complete") is True,
       f"the trace is complete and ended by {ended!r}",
       f"{p.get('ended')!r} complete={p.get('complete')} warning={p.get('warning')!r}")
    ok(count is not None and p["total_allocations"] >= count,
       f"trace holds at least the {count} allocations made in the first second",
       f"got {p['total_allocations']}")


# ---------------------------------------------------------------------------------------------
# Allocator identity


def case_glibc_provider():
    native = run([prog("robust_mallinfo")])
    ms, out = traced([prog("robust_mallinfo")], "trace")
    ok(native.rc == 0, "robust_mallinfo passes natively", native.describe())
    same_as_native(native, ms, "robust_mallinfo", compare_stderr=True)
    ok(ms.rc == 0, "robust_mallinfo under memscope: blocks are glibc's (mallinfo2, "
       "malloc_usable_size)", ms.describe())
    data = analyze_ok(out, "robust_mallinfo")
    procs = data.get("processes", [])
    ok(len(procs) == 1 and "libc.so.6" in str(procs[0].get("malloc_provider")),
       "malloc_provider names libc.so.6",
       f"got {[p.get('malloc_provider') for p in procs]}")
    ok(len(procs) == 1 and procs[0]["total_allocations"] == 10,
       "robust_mallinfo: exactly its 10 allocations recorded",
       f"got {[p.get('total_allocations') for p in procs]}")


def case_sampled_failed_realloc():
    native = run([prog("robust_failrealloc")])
    ok(native.rc == 0 and "failed=100" in native.out,
       "robust_failrealloc: its 100 reallocs fail natively", native.describe())
    exact, exact_out = traced([prog("robust_failrealloc")], "exact")
    same_as_native(native, exact, "robust_failrealloc exact")
    e = analyze_ok(exact_out, "robust_failrealloc exact")["processes"][0]
    # A mean of one byte samples every block (and every request).
    ms, out = traced([prog("robust_failrealloc")], "trace", ("--sample-bytes", "1"))
    same_as_native(native, ms, "robust_failrealloc sampled")
    p = analyze_ok(out, "robust_failrealloc sampled")["processes"][0]
    key = ("total_allocations", "total_frees", "total_allocated_bytes")
    ok([p.get(k) for k in key] == [e.get(k) for k in key] and e.get("total_allocations", 0) > 100,
       "sampled: the failed reallocs count as neither allocations nor frees (the exact trace's "
       "totals: its 100 blocks and stdout's buffer)",
       f"sampled {[p.get(k) for k in key]}, exact {[e.get(k) for k in key]}")
    ok(p.get("leaked_allocations") == 0 and p.get("leaked_bytes") == 0,
       "sampled: each block's free after its failed realloc is matched (nothing leaks)",
       f"{p.get('leaked_allocations')} blocks, {p.get('leaked_bytes')} B")


def case_mimalloc_provider():
    if not CTX.mimalloc:
        raise Skip("libmimalloc-dev is not installed, so robust_mimalloc was not built")
    native = run([CTX.mimalloc])
    ok(native.rc == 0, "robust_mimalloc passes natively", native.describe())
    ms, out = traced([CTX.mimalloc], "trace")
    same_as_native(native, ms, "robust_mimalloc", compare_stderr=True)
    ok(ms.rc == 0, "robust_mimalloc under memscope: malloc still returns mimalloc blocks",
       ms.describe())
    data = analyze_ok(out, "robust_mimalloc")
    procs = data.get("processes", [])
    ok(len(procs) == 1 and "libmimalloc" in str(procs[0].get("malloc_provider")),
       "malloc_provider names libmimalloc (the next malloc, not glibc's)",
       f"got {[p.get('malloc_provider') for p in procs]}")
    ok(len(procs) == 1 and procs[0]["total_allocations"] >= 1,
       "robust_mimalloc: its allocation was recorded",
       f"got {[p.get('total_allocations') for p in procs]}")


# ---------------------------------------------------------------------------------------------
# Following children


def case_no_follow():
    args = [prog("robust_forkexec"), prog("robust_tiny")]
    native = run(args)
    ms, out = traced(args, "follow")
    same_as_native(native, ms, "robust_forkexec (following)")
    files = traces_in(out)
    ok(len(files) == 3, "following: three trace files (parent, fork child, exec'd image)",
       f"found {[os.path.basename(f) for f in files]}")
    data = analyze_ok(out, "robust_forkexec")
    procs = data.get("processes", [])
    hows = sorted(p.get("how") for p in procs)
    ok(hows == ["exec", "fork", "root"], "processes are root, fork and exec", f"got {hows}")
    by = {p.get("how"): p for p in procs}
    if len(by) == 3 and set(by) == {"root", "fork", "exec"}:
        ok(by["fork"].get("parent_pid") == by["root"]["pid"],
           "the fork child is linked to the parent", f"{by['fork'].get('parent_pid')}")
        ok(by["exec"]["pid"] == by["fork"]["pid"], "the exec'd image has the fork child's pid")
        ok(os.path.basename(str(by["exec"].get("exe"))) == "robust_tiny",
           "the exec'd image is robust_tiny", f"{by['exec'].get('exe')}")
        ok(by["exec"]["total_allocations"] == 3, "robust_tiny's 3 allocations recorded",
           f"{by['exec']['total_allocations']}")
        ok(by["root"]["total_allocations"] == 2 and by["root"]["total_frees"] == 2,
           "the parent's 2 allocations and 2 frees recorded",
           f"{by['root']['total_allocations']}, {by['root']['total_frees']}")
        ok(by["fork"]["total_allocations"] == 1 and by["fork"]["total_frees"] == 1,
           "the fork child's own allocation and free recorded (before exec)",
           f"{by['fork']['total_allocations']}, {by['fork']['total_frees']}")
        ok(by["fork"].get("ended") == "exec", "the fork child's image ended by exec",
           f"{by['fork'].get('ended')}")
        ok(all(p.get("complete") for p in procs), "all three traces complete")

    ms, out = traced(args, "nofollow", options=["--no-follow"])
    same_as_native(native, ms, "robust_forkexec --no-follow")
    files = traces_in(out)
    ok(len(files) == 1, "--no-follow: exactly one trace file",
       f"found {[os.path.basename(f) for f in files]}")
    data = analyze_ok(out, "robust_forkexec --no-follow")
    procs = data.get("processes", [])
    ok([p.get("how") for p in procs] == ["root"], "--no-follow: only the root process",
       f"{[p.get('how') for p in procs]}")


# ---------------------------------------------------------------------------------------------
# Bad input to memscope-run


def refused(args, status, what, message=None, options=(), outdir=None):
    out = outdir or os.path.join(CTX.work, "refused")
    r = run([memscope_run(), "-o", out, *options, "--", *args])
    ok(r.status == status, f"{what}: exit status {status}", r.describe())
    ok(r.err.strip() != "", f"{what}: a message on stderr")
    if message:
        ok(message in r.err, f"{what}: message contains {message!r}", f"stderr {r.err!r}")
    return r


def case_bad_missing_program():
    name = "memscope-no-such-program-xyz"
    refused([name], 127, "program not on PATH", message=name)
    path = os.path.join(CTX.work, "does-not-exist")
    refused([path], 127, "program path does not exist", message="does-not-exist")
    ok(traces_in(os.path.join(CTX.work, "refused")) == [], "no trace written")


def case_bad_not_executable():
    plain = os.path.join(CTX.work, "plain.sh")
    with open(plain, "w") as f:
        f.write("#!/bin/sh\necho should-not-run\n")
    os.chmod(plain, 0o644)
    r = refused([plain], 126, "non-executable file", message="plain.sh")
    ok("should-not-run" not in r.out, "the non-executable file did not run")
    directory = new_dir("a-directory")
    refused([directory], 126, "a directory as the program")


def case_bad_static():
    static = prog("robust_static")
    native = run([static])
    if native.rc != 0:
        raise Skip(f"robust_static does not run here: {native.describe()}")
    r = refused([static], 125, "statically linked program", message="statically linked")
    ok("static program ran" not in r.out, "the static program was not run untraced")


def case_bad_unwritable_output():
    plain = os.path.join(CTX.work, "regular-file")
    with open(plain, "w") as f:
        f.write("x")
    r = refused([prog("robust_tiny")], 125, "output directory under a regular file",
                outdir=os.path.join(plain, "sub"))
    ok("tiny ok" not in r.out, "the program did not run with nowhere to write")
    if os.geteuid() == 0:
        print("skip: read-only output directory (running as root, permissions do not apply)")
    else:
        ro = new_dir("read-only")
        os.chmod(ro, 0o555)
        refused([prog("robust_tiny")], 125, "read-only output directory", outdir=ro)
        os.chmod(ro, 0o755)


def copy_runner(parent):
    """memscope-run and its agent copied to PARENT/bin and PARENT/lib; returns the runner."""
    for sub in ("bin", "lib"):
        os.makedirs(os.path.join(parent, sub), exist_ok=True)
    shutil.copy2(memscope_run(), os.path.join(parent, "bin"))
    shutil.copy2(os.path.join(CTX.lib, "libmemscope_agent.so"), os.path.join(parent, "lib"))
    return os.path.join(parent, "bin", "memscope-run")


def case_bad_agent_path():
    for name, word in (("with space", "space"), ("with:colon", "colon")):
        runner = copy_runner(os.path.join(CTX.work, name))
        r = run([runner, "-o", os.path.join(CTX.work, "out"), "--", prog("robust_tiny")])
        what = f"agent under {name!r}"
        ok(r.status == 125, f"{what}: exit status 125", r.describe())
        ok(f"contains a {word}" in r.err and "LD_PRELOAD" in r.err,
           f"{what}: the message says the {word} splits LD_PRELOAD", f"stderr {r.err!r}")
        ok("tiny ok" not in r.out, f"{what}: the program did not run")


def write_elf32_program(path):
    """A 32-bit x86 ELF executable header with PT_INTERP and PT_LOAD (it is never run)."""
    interp = b"/lib/ld-linux.so.2\0"
    base, ehsize, phsize = 0x08048000, 52, 32
    interp_off = ehsize + 2 * phsize
    total = interp_off + len(interp)
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)  # ELFCLASS32, little-endian, version 1
    eh = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, base + total, ehsize, 0, 0, ehsize,
                             phsize, 2, 0, 0, 0)  # ET_EXEC, EM_386
    ph_interp = struct.pack("<8I", 3, interp_off, base + interp_off, 0, len(interp),
                            len(interp), 4, 1)
    ph_load = struct.pack("<8I", 1, 0, base, base, total, total, 5, 0x1000)
    with open(path, "wb") as f:
        f.write(eh + ph_interp + ph_load + interp)
    os.chmod(path, 0o755)


def case_bad_32bit():
    path = os.path.join(CTX.work, "prog32")
    write_elf32_program(path)
    r = refused([path], 125, "32-bit program",
                message="is a 32-bit x86 program and the memscope agent is 64-bit x86-64")
    ok("statically linked" not in r.err and "LD_PRELOAD" not in r.err,
       "32-bit program: the message blames neither static linking nor LD_PRELOAD",
       f"stderr {r.err!r}")
    ok(traces_in(os.path.join(CTX.work, "refused")) == [], "no trace written")


def summary_lines(err):
    return [line for line in err.splitlines() if line.startswith("memscope-run: pid ")]


def case_runner_rerun_summary():
    out = os.path.join(CTX.work, "again")
    first = run([memscope_run(), "-o", out, "--", prog("robust_tiny")])
    second = run([memscope_run(), "-o", out, "--", prog("robust_tiny")])
    ok(first.rc == 0 and second.rc == 0, "both runs succeed", second.describe())
    ok(len(traces_in(out)) == 2, "two traces in the directory", f"{traces_in(out)}")
    ok(len(summary_lines(first.err)) == 1, "the first run summarises one process", first.err)
    ok(len(summary_lines(second.err)) == 1,
       "the second run summarises its own process only, not the earlier trace", second.err)
    ok("1 from earlier runs" in second.err, "the second run says one earlier trace was left out",
       second.err)


def case_runner_root_output_dir():
    if os.geteuid() != 0:
        raise Skip("not root: the output directory check applies to root only")
    tiny = [prog("robust_tiny")]
    world = new_dir("world")
    os.chmod(world, 0o777)
    r = refused(tiny, 125, "world-writable output directory", outdir=world,
                message="is writable by every user")
    ok("--force" in r.err and "tiny ok" not in r.out and traces_in(world) == [],
       "world-writable: refusal names --force, the program did not run", r.describe())
    forced = run([memscope_run(), "-o", world, "--force", "--", *tiny])
    ok(forced.rc == 0 and forced.out == "tiny ok\n" and "warning" in forced.err
       and len(traces_in(world)) == 1, "with --force it runs, traced, with a warning",
       forced.describe())
    theirs = new_dir("theirs")
    os.chown(theirs, 65534, 65534)
    refused(tiny, 125, "output directory owned by another user", outdir=theirs,
            message="is owned by uid 65534")
    below = os.path.join(theirs, "sub")
    os.makedirs(below)
    refused(tiny, 125, "output directory under one owned by another user", outdir=below,
            message="lies under")
    sticky = new_dir("sticky")
    os.chmod(sticky, 0o1777)
    mine = os.path.join(sticky, "mine")
    r = run([memscope_run(), "-o", mine, "--", *tiny])
    ok(r.rc == 0 and "warning" not in r.err and len(traces_in(mine)) == 1,
       "a root-owned directory under a root-owned sticky one (like /tmp) is accepted",
       r.describe())


def process_gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def case_runner_sigkill():
    out = os.path.join(CTX.work, "trace")
    p = subprocess.Popen([memscope_run(), "-q", "-o", out, "--", prog("robust_steady"), "30"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, preexec_fn=_limits(), start_new_session=True)
    pid = None
    try:
        line = p.stdout.readline().decode()
        if not ok(line.startswith("pid="), "robust_steady started under memscope-run", line):
            return
        pid = int(line[4:])
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        deadline = time.monotonic() + 5
        while not process_gone(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        ok(process_gone(pid), "the program died with memscope-run (not left running)")
    finally:
        if pid is not None and not process_gone(pid):
            os.kill(pid, signal.SIGKILL)
        p.stdout.close()
        p.stderr.close()
    r, data = analyze(out)
    procs = (data or {}).get("processes", [])
    ok(r.rc == 0 and len(procs) == 1 and procs[0].get("complete") is False
       and "no end recorded" in str(procs[0].get("warning")),
       "its trace is readable and says no end was recorded",
       f"{r.describe()} {[(p.get('complete'), p.get('warning')) for p in procs]}")


def case_bad_unknown_option():
    tiny = prog("robust_tiny")
    out = os.path.join(CTX.work, "o")
    for opts, what in ((["--bogus"], "unknown option --bogus"),
                       (["--stack-depth", "abc"], "--stack-depth abc"),
                       (["--stack-depth", "0"], "--stack-depth 0 (range 1-256)"),
                       (["--ring-slots", "-5"], "--ring-slots -5"),
                       (["--max-trace-size", "0"], "--max-trace-size 0"),
                       (["--max-trace-size", "1XB"], "--max-trace-size 1XB (unknown unit)"),
                       (["--stack-depth"], "--stack-depth without a value")):
        r = run([memscope_run(), "-o", out, *opts, "--", tiny])
        ok(r.status == 125, f"{what}: exit status 125", r.describe())
        ok(r.err.strip() != "", f"{what}: a message on stderr")
        ok("tiny ok" not in r.out, f"{what}: the program did not run")
    r = run([memscope_run(), "-o", out])
    ok(r.status == 125, "no program given: exit status 125", r.describe())


# ---------------------------------------------------------------------------------------------
# Trace files: symlinks and modes


def case_agent_symlink():
    agent = os.path.join(CTX.lib, "libmemscope_agent.so")
    out = new_dir("out")
    target = os.path.join(CTX.work, "victim.txt")
    with open(target, "w") as f:
        f.write("precious\n")
    os.chmod(target, 0o640)
    before = os.stat(target)
    # bash plants the link at the trace path of its own pid, then execs the program with the
    # agent preloaded: the program keeps that pid.
    script = (f'ln -s "$VICTIM" "$OUT/memscope.$$.mst" && '
              f'LD_PRELOAD="$AGENT" MEMSCOPE_OUTPUT="$OUT" exec "$PROG"')
    r = run(["bash", "-c", script], env={"VICTIM": target, "OUT": out, "AGENT": agent,
                                         "PROG": prog("robust_tiny")})
    ok(r.rc == 0 and r.out == "tiny ok\n", "the program still runs normally", r.describe())
    ok("symbolic link" in r.err, "the agent's message mentions the symbolic link",
       f"stderr {r.err!r}")
    after = os.stat(target)
    with open(target) as f:
        content = f.read()
    ok(content == "precious\n" and after.st_size == before.st_size and
       stat.S_IMODE(after.st_mode) == 0o640 and after.st_mtime_ns == before.st_mtime_ns,
       "the link's target is untouched (content, size, mode, mtime)")
    links = [f for f in os.listdir(out) if os.path.islink(os.path.join(out, f))]
    ok(len(links) == 1, "the planted link is still there", f"{os.listdir(out)}")
    # A dangling link: the agent must not create the file it points to.
    dangling = os.path.join(CTX.work, "must-not-exist.mst")
    out2 = new_dir("out2")
    r = run(["bash", "-c", script], env={"VICTIM": dangling, "OUT": out2, "AGENT": agent,
                                         "PROG": prog("robust_tiny")})
    ok(r.rc == 0 and r.out == "tiny ok\n", "dangling link: the program runs normally",
       r.describe())
    ok(not os.path.exists(dangling), "dangling link: its target was not created")


def case_trace_mode_0600():
    args = [prog("robust_forkexec"), prog("robust_tiny")]
    ms, out = traced(args, "trace", umask=0)
    ok(ms.rc == 0, "robust_forkexec under umask 0 exits 0", ms.describe())
    files = traces_in(out)
    ok(len(files) == 3, "three traces", f"{files}")
    for f in files:
        st = os.lstat(f)
        ok(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
           f"{os.path.basename(f)} is a regular file with mode 0600",
           f"mode {oct(st.st_mode)}")


# ---------------------------------------------------------------------------------------------
# memscope-analyze on damaged input

HEADER = 64
CHUNK_HEADER = 32
CHUNK_MAGIC = 0x4B4E4843


def chunks_of(blob):
    """[(offset, header fields dict, payload end)] of a well-formed trace."""
    out = []
    pos = HEADER
    while pos + CHUNK_HEADER <= len(blob):
        magic, codec, stored, raw, seq, checksum = struct.unpack_from("<IB3xIIQQ", blob, pos)
        if magic != CHUNK_MAGIC:
            break
        out.append((pos, dict(codec=codec, stored=stored, raw=raw, seq=seq,
                              checksum=checksum), pos + CHUNK_HEADER + stored))
        pos += CHUNK_HEADER + stored
    return out


def make_multichunk_trace():
    """A real trace with several chunks: robust_steady for 1.3 s (chunks are sealed at least
    every 500 ms), plus robust_tiny for a second, small file."""
    ms, out = traced([prog("robust_steady"), "1.3"], "source")
    if not ok(ms.rc == 0, "source trace: robust_steady exits 0", ms.describe()):
        raise SystemExit(finish())
    files = traces_in(out)
    with open(files[0], "rb") as f:
        blob = f.read()
    chunks = chunks_of(blob)
    ok(len(chunks) >= 3 and chunks[-1][2] == len(blob),
       f"source trace parses into {len(chunks)} chunks (>= 3) ending at the file's end",
       f"size {len(blob)}, chunks {[(c[0], c[2]) for c in chunks]}")
    return blob, chunks


def damaged_case(blob, name, expect, min_allocations=0, clean_cut=False):
    """Writes blob as a trace, analyzes it. expect: 'partial' (exit 0, marked damaged,
    at least min_allocations), 'either' (exit 0 marked damaged, or 2 with a message).
    Returns the total allocations of the result (0 when none)."""
    path = os.path.join(new_dir("damaged"), f"memscope.{name}.mst")
    with open(path, "wb") as f:
        f.write(blob)
    r, data = analyze(path, address_space=4 << 30)
    what = f"analyze {name}"
    if not ok(r.rc is not None, f"{what}: finishes within 15 s (no hang)", r.describe()):
        return 0
    if not ok(r.rc >= 0, f"{what}: not killed by a signal (no crash)", r.describe()):
        return 0
    ok("terminate called" not in r.err and "Assertion" not in r.err,
       f"{what}: no uncaught exception or assertion", f"stderr {r.err[-400:]!r}")
    if expect == "partial":
        ok(r.rc == 0, f"{what}: exit 0 with a partial result", r.describe())
    else:
        ok(r.rc in (0, 2), f"{what}: exit 0 or 2", r.describe())
    if r.rc == 2:
        ok(r.err.strip() != "", f"{what}: exit 2 comes with a message")
        return 0
    if r.rc != 0 or data is None:
        return 0
    procs = data.get("processes", [])
    errors = data.get("errors", [])
    marked = bool(errors) or (procs and all(
        p.get("complete") is False and p.get("warning") for p in procs))
    if clean_cut:  # nothing is damaged; the trace just stops, as if the process was killed
        marked = marked or all("no end recorded" in str(p.get("ended")) for p in procs)
    ok(marked, f"{what}: the damage is reported (complete false + warning, or an error entry)",
       f"errors {errors!r}, processes {[(p.get('complete'), p.get('warning')) for p in procs]}")
    total = sum(p.get("total_allocations", 0) for p in procs)
    if min_allocations:
        ok(total >= min_allocations,
           f"{what}: keeps the complete chunks before the damage ({total} >= "
           f"{min_allocations} allocations)")
    return total


def case_analyze_truncated():
    blob, chunks = make_multichunk_trace()
    if len(chunks) < 3:
        return
    first_end, second_start, second_end = chunks[0][2], chunks[1][0], chunks[1][2]
    # Allocations held by the first k complete chunks: analyze clean prefixes.
    prefix_counts = []
    for k in range(1, len(chunks) + 1):
        path = os.path.join(new_dir("prefix"), f"memscope.{k}.mst")
        with open(path, "wb") as f:
            f.write(blob[:chunks[k - 1][2]])
        r, data = analyze(path)
        ok(r.rc == 0 and data is not None,
           f"a trace cut exactly after chunk {k} of {len(chunks)} is readable", r.describe())
        prefix_counts.append(sum(p.get("total_allocations", 0)
                                 for p in (data or {}).get("processes", [])))
    ok(prefix_counts == sorted(prefix_counts) and prefix_counts[-1] > 0,
       f"allocations grow with each complete chunk: {prefix_counts}")
    cuts = [("1-byte", 1, "either", 0), ("inside-magic", 5, "either", 0),
            ("inside-header", 40, "either", 0), ("header-minus-1", HEADER - 1, "either", 0),
            ("header-only", HEADER, "either", 0),
            ("inside-first-chunk-header", HEADER + 10, "either", 0),
            ("mid-first-chunk", (HEADER + CHUNK_HEADER + first_end) // 2, "either", 0),
            ("inside-second-chunk-header", second_start + 7, "partial", prefix_counts[0]),
            ("mid-second-chunk", (second_start + second_end) // 2, "partial", prefix_counts[0]),
            ("second-chunk-minus-1", second_end - 1, "partial", prefix_counts[0]),
            ("last-byte-missing", len(blob) - 1, "partial", prefix_counts[-2])]
    for name, size, expect, minimum in cuts:
        damaged_case(blob[:size], f"cut-{name}-{size}", expect, minimum,
                     clean_cut=size == HEADER)


def case_analyze_corrupted():
    blob, chunks = make_multichunk_trace()
    if len(chunks) < 3:
        return
    mid = chunks[1]
    mid_payload = mid[0] + CHUNK_HEADER + (mid[1]["stored"] // 2)
    first_count_path = os.path.join(new_dir("prefix"), "memscope.1.mst")
    with open(first_count_path, "wb") as f:
        f.write(blob[:chunks[0][2]])
    _, data = analyze(first_count_path)
    first = sum(p.get("total_allocations", 0) for p in (data or {}).get("processes", []))

    def patched(offset, new_bytes):
        b = bytearray(blob)
        b[offset:offset + len(new_bytes)] = new_bytes
        return bytes(b)

    def flip(offset, mask=0xFF):
        b = bytearray(blob)
        b[offset] ^= mask
        return bytes(b)

    cases = [
        ("flip-mid-payload", flip(mid_payload), "partial", first),
        ("flip-3-bytes-mid-payload", patched(mid_payload, bytes(
            blob[mid_payload + i] ^ 0x5A for i in range(3))), "partial", first),
        ("chunk-magic", flip(mid[0]), "partial", first),
        ("stored-bytes-huge", patched(mid[0] + 8, struct.pack("<I", 0xFFFFFFF0)), "partial",
         first),
        ("stored-bytes-zero", patched(mid[0] + 8, struct.pack("<I", 0)), "partial", first),
        ("raw-bytes-huge", patched(mid[0] + 12, struct.pack("<I", 0xFFFFFFF0)), "partial",
         first),
        ("raw-bytes-small", patched(mid[0] + 12, struct.pack("<I", 3)), "partial", first),
        ("sequence", patched(mid[0] + 16, struct.pack("<Q", 7777)), "partial", first),
        ("codec-unknown", patched(mid[0] + 4, bytes([0xEE])), "partial", first),
        ("checksum", flip(mid[0] + 24), "partial", first),
        ("header-version-999", patched(8, struct.pack("<H", 999)), "either", 0),
        ("header-bytes-huge", patched(10, struct.pack("<H", 0xFFFF)), "either", 0),
        ("header-bytes-zero", patched(10, struct.pack("<H", 0)), "either", 0),
        ("magic", flip(0), "either", 0),
        ("first-chunk-payload", flip(chunks[0][0] + CHUNK_HEADER + 2), "either", 0),
    ]
    rng = random.Random(20240601)
    for i in range(6):
        b = bytearray(blob)
        for _ in range(32):
            b[rng.randrange(HEADER, len(b))] = rng.randrange(256)
        cases.append((f"random-32-bytes-{i}", bytes(b), "either", 0))
    for name, data_, expect, minimum in cases:
        damaged_case(data_, name, expect, minimum)

    # One damaged trace among good ones: the good one is still analyzed in full.
    mixed = new_dir("mixed")
    ms, good_dir = traced([prog("robust_tiny")], "good")
    good = traces_in(good_dir)
    if ok(ms.rc == 0 and len(good) == 1, "a good trace to mix in"):
        shutil.copy(good[0], mixed)
        with open(os.path.join(mixed, "memscope.999999.mst"), "wb") as f:
            f.write(flip(mid_payload))
        r, data = analyze(mixed)
        ok(r.rc == 0 and data is not None, "directory with a good and a damaged trace: exit 0",
           r.describe())
        procs = (data or {}).get("processes", [])
        good_procs = [p for p in procs if p.get("total_allocations") == 3]
        ok(len(good_procs) == 1 and good_procs[0].get("complete") is True,
           "the good trace is analyzed in full next to the damaged one",
           f"{[(p.get('total_allocations'), p.get('complete')) for p in procs]}")


def case_analyze_garbage():
    d = new_dir("garbage")
    empty = os.path.join(d, "memscope.1.mst")
    open(empty, "wb").close()
    rnd = os.path.join(d, "memscope.2.mst")
    with open(rnd, "wb") as f:
        f.write(random.Random(7).randbytes(100000))
    magic_only = os.path.join(d, "memscope.3.mst")
    with open(magic_only, "wb") as f:
        f.write(b"MEMSCOPE")
    text = os.path.join(d, "notes.txt")
    with open(text, "w") as f:
        f.write("not a trace\n" * 100)
    for path, what in ((empty, "empty file"), (rnd, "100 KB of random bytes"),
                       (magic_only, "magic only"), (text, "a text file")):
        r, data = analyze(path, address_space=4 << 30)
        ok(r.rc in (0, 2), f"{what}: exit 0 or 2 (no crash, no hang)", r.describe())
        if r.rc == 2:
            ok(r.err.strip() != "", f"{what}: exit 2 comes with a message")
        elif r.rc == 0 and data is not None:
            ok(bool(data.get("errors")) or any(not p.get("complete")
                                               for p in data.get("processes", [])),
               f"{what}: exit 0 must report the problem, not an empty success",
               f"{json.dumps(data)[:400]}")
    for path, what in ((new_dir("empty-dir"), "a directory with no traces"),
                       (os.path.join(CTX.work, "no-such-dir"), "a path that does not exist")):
        r, data = analyze(path)
        ok(r.rc == 2 and r.err.strip() != "", f"{what}: exit 2 with a message", r.describe())
    r, _ = analyze(d)
    ok(r.rc in (0, 2), "the directory of garbage files: exit 0 or 2", r.describe())
    r = run([os.path.join(CTX.bin, "memscope-analyze")])
    ok(r.rc == 1, "no arguments: exit 1 (usage)", r.describe())
    r = run([os.path.join(CTX.bin, "memscope-analyze"), d, "--top", "banana"])
    ok(r.rc == 1, "--top banana: exit 1 (usage)", r.describe())


def case_analyze_non_utf8():
    """Names are bytes on Linux: argv and paths need not be UTF-8. The analysis (text and
    JSON) must still work; JSON must stay valid (escaped or replaced bytes)."""
    tiny = prog("robust_tiny")
    odd_dir = os.path.join(os.fsencode(CTX.work), b"dir-\xff\xfe")
    os.makedirs(odd_dir)
    odd_prog = os.path.join(odd_dir, b"tiny-caf\xe9")
    shutil.copy(tiny, odd_prog)
    for args, name in (([tiny, b"\xff\xfe caf\xe9"], "argv"),
                       ([odd_prog], "executable path")):
        native = run(args)
        ms, out = traced(args, f"trace-{name.replace(' ', '-')}")
        same_as_native(native, ms, f"non-UTF-8 {name}", compare_stderr=True)
        r = run([os.path.join(CTX.bin, "memscope-analyze"), out])
        ok(r.rc == 0, f"non-UTF-8 {name}: text analysis exits 0", r.describe())
        r, data = analyze(out)
        ok(r.rc == 0 and data is not None,
           f"non-UTF-8 {name}: JSON analysis exits 0 with valid JSON", r.describe())
        procs = (data or {}).get("processes", [])
        ok(len(procs) == 1 and procs[0].get("total_allocations") == 3,
           f"non-UTF-8 {name}: robust_tiny's 3 allocations",
           f"{[p.get('total_allocations') for p in procs]}")


# XXH64, to write chunks whose checksum is right, so the record decoder itself is fuzzed.
_P1, _P2, _P3, _P4, _P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                           0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)
_M = (1 << 64) - 1


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & _M


def _round(acc, lane):
    return (_rotl((acc + lane * _P2) & _M, 31) * _P1) & _M


def xxh64(data, seed):
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + _P1 + _P2) & _M, (seed + _P2) & _M, seed & _M, (seed - _P1) & _M]
        while i + 32 <= n:
            for j in range(4):
                v[j] = _round(v[j], int.from_bytes(data[i + 8 * j:i + 8 * j + 8], "little"))
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M
        for x in v:
            h = ((h ^ _round(0, x)) * _P1 + _P4) & _M
    else:
        h = (seed + _P5) & _M
    h = (h + n) & _M
    while i + 8 <= n:
        h ^= _round(0, int.from_bytes(data[i:i + 8], "little"))
        h = (_rotl(h, 27) * _P1 + _P4) & _M
        i += 8
    if i + 4 <= n:
        h ^= (int.from_bytes(data[i:i + 4], "little") * _P1) & _M
        h = (_rotl(h, 23) * _P2 + _P3) & _M
        i += 4
    while i < n:
        h ^= (data[i] * _P5) & _M
        h = (_rotl(h, 11) * _P1) & _M
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M
    h ^= h >> 29
    h = (h * _P3) & _M
    return h ^ (h >> 32)


def raw_chunk(payload, seq):
    return struct.pack("<IB3xIIQQ", CHUNK_MAGIC, 0, len(payload), len(payload), seq,
                       xxh64(payload, seq)) + payload


def case_analyze_fuzz_records():
    zstd = shutil.which("zstd")
    if not zstd:
        raise Skip("the zstd command is not installed (needed to decompress chunks)")
    ms, out = traced([prog("robust_forkexec"), prog("robust_tiny")], "source")
    files = traces_in(out)
    if not ok(ms.rc == 0 and files, "source traces written", ms.describe()):
        return
    with open(files[0], "rb") as f:
        blob = f.read()
    chunks = chunks_of(blob)
    ok(all(xxh64(blob[c[0] + CHUNK_HEADER:c[2]], c[1]["seq"]) == c[1]["checksum"]
           for c in chunks), "this script's XXH64 matches the trace's chunk checksums")
    payloads = []
    for off, h, end in chunks:
        stored = blob[off + CHUNK_HEADER:end]
        if h["codec"] == 0:
            payloads.append(stored)
            continue
        r = subprocess.run([zstd, "-d", "-c", "-q"], input=stored, capture_output=True)
        if not ok(r.returncode == 0 and len(r.stdout) == h["raw"],
                  f"chunk {h['seq']} decompresses with the zstd command"):
            return
        payloads.append(r.stdout)
    header = blob[:HEADER]
    # The same events re-encoded as raw (uncompressed) chunks must read the same.
    reencoded = header + b"".join(raw_chunk(p, s) for s, p in enumerate(payloads))
    ref_path = os.path.join(new_dir("fuzz"), "memscope.reference.mst")
    with open(ref_path, "wb") as f:
        f.write(reencoded)
    _, ref = analyze(ref_path)
    _, orig = analyze(files[0])
    key = ("total_allocations", "total_frees", "total_allocated_bytes", "leaked_bytes")

    def counts(d):
        return [tuple(p.get(k) for k in key) for p in (d or {}).get("processes", [])]

    if not ok(ref is not None and counts(ref) == counts(orig),
              "raw-codec re-encoding reads like the original (format understood)",
              f"{counts(ref)} vs {counts(orig)}"):
        return
    rng = random.Random(4242)
    failures_before = len(FAILURES)
    for i in range(60):
        mutated = []
        for p in payloads:
            b = bytearray(p)
            kind = rng.randrange(4)
            if kind == 0 and b:  # flip a few bytes
                for _ in range(rng.randrange(1, 6)):
                    b[rng.randrange(len(b))] = rng.randrange(256)
            elif kind == 1 and b:  # cut the payload short
                del b[rng.randrange(len(b)):]
            elif kind == 2:  # insert random bytes
                pos = rng.randrange(len(b) + 1)
                b[pos:pos] = rng.randbytes(rng.randrange(1, 16))
            elif kind == 3 and b:  # set bytes to varint-continuation 0xFF runs
                pos = rng.randrange(len(b))
                b[pos:pos + 10] = b"\xff" * 10
            mutated.append(bytes(b))
        data = header + b"".join(raw_chunk(p, s) for s, p in enumerate(mutated))
        path = os.path.join(CTX.work, "fuzz", f"memscope.{i}.mst")
        with open(path, "wb") as f:
            f.write(data)
        r, _ = analyze(path, address_space=4 << 30)
        good = ok(r.rc in (0, 2), f"fuzzed records #{i}: exit 0 or 2 (no crash, no hang)",
                  r.describe())
        if good:
            os.unlink(path)
        else:
            print(f"      kept {path}")
    if len(FAILURES) > failures_before:
        print("      fuzz seed 4242; the failing inputs are kept in the work directory")


# ---------------------------------------------------------------------------------------------
# MEMSCOPE_* nonsense


def case_env_nonsense():
    agent = os.path.join(CTX.lib, "libmemscope_agent.so")
    n = 1000
    args = [prog("robust_endings"), "return", str(n)]
    native = run(args)
    nonsense = {"MEMSCOPE_STACK_DEPTH": "abc", "MEMSCOPE_RING_SLOTS": "-5",
                "MEMSCOPE_STACKS": "maybe", "MEMSCOPE_FLUSH_MS": "99999999999999999999999",
                "MEMSCOPE_DROP_WHEN_FULL": "2", "MEMSCOPE_FOLLOW": ""}
    out = new_dir("direct")
    env = dict(nonsense, LD_PRELOAD=agent, MEMSCOPE_OUTPUT=out)
    r = run(args, env=env)
    ok(r.rc == 0 and r.out == native.out, "agent with nonsense values: the program runs "
       "normally", r.describe())
    for name in ("MEMSCOPE_STACK_DEPTH", "MEMSCOPE_RING_SLOTS", "MEMSCOPE_STACKS",
                 "MEMSCOPE_FLUSH_MS", "MEMSCOPE_DROP_WHEN_FULL"):
        ok(any("memscope" in line and "ignoring" in line and name in line
               for line in r.err.splitlines()),
           f"agent says 'memscope: ignoring ... {name}'", f"stderr {r.err!r}")
    files = traces_in(out)
    ok(len(files) == 1, "one trace file", f"{files}")
    data = analyze_ok(out, "nonsense env")
    procs = data.get("processes", [])
    if ok(len(procs) == 1, "one process"):
        ok(procs[0].get("complete") is True and procs[0]["total_allocations"] == n,
           f"valid, complete trace with exactly {n} allocations",
           f"{procs[0].get('complete')} {procs[0].get('total_allocations')}")

    # The same through memscope-run (which sets only what its options say).
    env = {k: v for k, v in nonsense.items() if k in ("MEMSCOPE_STACK_DEPTH",
                                                       "MEMSCOPE_RING_SLOTS",
                                                       "MEMSCOPE_FLUSH_MS")}
    ms, out = traced(args, "via-run", env=env)
    same_as_native(native, ms, "memscope-run with nonsense MEMSCOPE_* in the environment")
    ok("ignoring" in ms.err, "memscope-run: the agent says what it ignores",
       f"stderr {ms.err!r}")
    data = analyze_ok(out, "memscope-run with nonsense env")
    procs = data.get("processes", [])
    ok(len(procs) == 1 and procs[0]["total_allocations"] == n,
       f"memscope-run with nonsense env: exactly {n} allocations")
    # Out of range but numeric.
    out = new_dir("range")
    r = run(args, env={"LD_PRELOAD": agent, "MEMSCOPE_OUTPUT": out,
                       "MEMSCOPE_STACK_DEPTH": "100000", "MEMSCOPE_RING_SLOTS": "1",
                       "MEMSCOPE_FLUSH_MS": "0"})
    ok(r.rc == 0 and r.out == native.out, "out-of-range values: the program runs normally",
       r.describe())
    ok("ignoring" in r.err, "out-of-range values: the agent says it ignores them",
       f"stderr {r.err!r}")
    data = analyze_ok(out, "out-of-range env")
    ok([p["total_allocations"] for p in data.get("processes", [])] == [n],
       f"out-of-range values: exactly {n} allocations")


# ---------------------------------------------------------------------------------------------
# Real programs


def python3():
    for p in ("/usr/bin/python3", shutil.which("python3")):
        if p and os.path.exists(p):
            return os.path.realpath(p)
    raise Skip("no python3")


LEAK_KINDS = ("definitely_lost", "indirectly_lost", "possibly_lost", "reachable_at_exit")


def real_case(name, args, cwd=None, env=None, min_processes=1, timeout=None):
    native = run(args, cwd=cwd, env=env, timeout=timeout)
    ms, out = traced(args, name, cwd=cwd, env=env, timeout=timeout)
    what = f"{name}"
    same_as_native(native, ms, what, compare_stderr=True)
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    ok(len(procs) >= min_processes, f"{what}: at least {min_processes} processes traced",
       f"got {len(procs)}")
    bad = [(p.get("pid"), p.get("exe"), p.get("ended"), p.get("warning")) for p in procs
           if p.get("complete") is not True]
    ok(not bad, f"{what}: every process's trace is complete", f"incomplete: {bad}")
    noend = [(p.get("pid"), p.get("exe")) for p in procs
             if "no end recorded" in str(p.get("ended"))]
    ok(not noend, f"{what}: every process recorded its end", f"no end: {noend}")
    ok(all(p.get("dropped_events") == 0 for p in procs), f"{what}: no dropped events")
    ok(not data.get("errors"), f"{what}: no analysis errors", f"{data.get('errors')}")
    check_leak_kinds(procs, what)
    print(f"      {len(procs)} processes, native {native.seconds:.2f}s, "
          f"traced {ms.seconds:.2f}s")
    return native, ms, procs


def check_leak_kinds(procs, what):
    """Every process that ended normally carries the leak scan's four kinds (issue 14), fork
    children too."""
    ended_normally = [p for p in procs
                      if str(p.get("ended")) == "exit" or str(p.get("ended")).startswith("_exit")]
    unknown = [(p.get("pid"), p.get("exe"), p.get("leak_check", {}).get("status"))
               for p in ended_normally
               if any(p.get(f"{k}_bytes") is None for k in LEAK_KINDS)]
    ok(not unknown, f"{what}: leak kinds reported for the {len(ended_normally)} processes "
       "that ended normally", f"unknown: {unknown}")
    lost = sum(p.get("definitely_lost_bytes") or 0 for p in ended_normally)
    reachable = sum(p.get("reachable_at_exit_bytes") or 0 for p in ended_normally)
    print(f"      leak scan: {lost} B definitely lost, {reachable} B still reachable")


def case_real_python_threads():
    script = (
        "import threading, hashlib\n"
        "results = [None] * 8\n"
        "def work(i):\n"
        "    d = {}\n"
        "    for j in range(20000):\n"
        "        d[j] = str(i * j)\n"
        "    results[i] = hashlib.sha256(''.join(d.values()).encode()).hexdigest()[:12]\n"
        "ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]\n"
        "[t.start() for t in ts]\n"
        "[t.join() for t in ts]\n"
        "print(results)\n"
        "raise SystemExit(3)\n")
    _, _, procs = real_case("python3 threads", [python3(), "-c", script])
    ok(any(p.get("threads", 0) >= 9 for p in procs), "python3: 9 threads recorded",
       f"{[p.get('threads') for p in procs]}")


def case_real_python_subprocess():
    script = (
        "import subprocess\n"
        "p1 = subprocess.Popen(['seq', '1', '3000'], stdout=subprocess.PIPE)\n"
        "p2 = subprocess.Popen(['grep', '7'], stdin=p1.stdout, stdout=subprocess.PIPE)\n"
        "p1.stdout.close()\n"
        "p3 = subprocess.run(['sort', '-r'], stdin=p2.stdout, capture_output=True, text=True)\n"
        "p2.wait(); p1.wait()\n"
        "print(len(p3.stdout.splitlines()), p3.stdout.splitlines()[:3], p1.returncode,"
        " p2.returncode)\n"
        "print(subprocess.run(['sh', '-c', 'exit 4']).returncode)\n")
    real_case("python3 subprocess", [python3(), "-c", script], min_processes=5)


def case_real_git():
    git = shutil.which("git")
    if not git:
        raise Skip("git is not installed")
    env = {"GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": CTX.work, "LC_ALL": "C"}
    ident = ["-c", "user.name=Robust Test", "-c", "user.email=robust@example.org",
             "-c", "init.defaultBranch=main"]
    repos = {}
    for side in ("native", "traced"):
        repos[side] = new_dir(f"repo-{side}")
        with open(os.path.join(repos[side], "file.txt"), "w") as f:
            f.write("hello\n" * 100)
    steps = [[git, *ident, "init", "-q", "."],
             [git, *ident, "add", "file.txt"],
             [git, *ident, "commit", "-q", "-m", "first commit"],
             [git, *ident, "log", "--format=%H %an %s"],
             [git, *ident, "status", "--porcelain"],
             [git, *ident, "rev-parse", "--verify", "no-such-ref"]]
    for i, step in enumerate(steps):
        native = run(step, cwd=repos["native"], env=env)
        ms, out = traced(step, f"git-{i}", cwd=repos["traced"], env=env)
        what = f"git {step[len(ident) + 1]}"
        same_as_native(native, ms, what, compare_stderr=True)
        data = analyze_ok(out, what)
        procs = data.get("processes", [])
        ok(procs and all(p.get("complete") is True for p in procs),
           f"{what}: {len(procs)} processes, all complete",
           f"{[(p.get('exe'), p.get('complete'), p.get('warning')) for p in procs]}")


def case_real_bash_pipeline():
    bash = shutil.which("bash")
    script = ("seq 1 20000 | grep 7 | sort -rn | sed -n 1,5p; echo \"${PIPESTATUS[@]}\"; "
              "x=$(echo sub | tr a-z A-Z); echo \"$x\"; (exit 6); echo $?; exit 5")
    real_case("bash pipeline", [bash, "-c", script], min_processes=5)


def case_real_sort():
    sort = shutil.which("sort")
    data = os.path.join(CTX.work, "numbers.txt")
    rng = random.Random(99)
    with open(data, "w") as f:
        for _ in range(200000):
            f.write(f"{rng.randrange(10**9)} {rng.choice(['a', 'b', 'c'])}\n")
    native, ms, _ = real_case("sort", [sort, "-n", "-S", "4M", "-T", CTX.work, "--parallel=2",
                                       data], env={"LC_ALL": "C"})
    ok(len(native.out.splitlines()) == 200000, "sort printed all 200000 lines")


def tool(name):
    path = shutil.which(name)
    if not path:
        raise Skip(f"{name} is not installed")
    return path


def case_real_perl():
    script = ('my %h; $h{$_ % 997} .= "x$_" for 1..50000; my @k = sort { $a <=> $b } keys %h;'
              ' print scalar(@k), " ", length(join "", values %h), "\\n"; exit 7;')
    real_case("perl", [tool("perl"), "-e", script])


def case_real_gxx():
    src = os.path.join(CTX.work, "hello.cpp")
    with open(src, "w") as f:
        f.write("#include <iostream>\n#include <map>\n#include <string>\n"
                "int main() { std::map<std::string, int> m; m[\"memscope\"] = 1;\n"
                "  std::cout << m.size() << '\\n'; }\n")
    # Driver, cc1plus, as and collect2/ld: one trace per process. Each side writes its own
    # output file so the two runs do not share one.
    for side in ("native", "traced"):
        new_dir(f"gxx-{side}")
    gxx = tool("g++")
    native = run([gxx, "-O1", src, "-o", os.path.join(CTX.work, "gxx-native", "a.out")])
    ms, out = traced([gxx, "-O1", src, "-o", os.path.join(CTX.work, "gxx-traced", "a.out")],
                     "gxx-trace")
    same_as_native(native, ms, "g++", compare_stderr=True)
    data = analyze_ok(out, "g++")
    procs = data.get("processes", [])
    names = sorted(os.path.basename(str(p.get("exe"))) for p in procs)
    ok(any("cc1plus" in n for n in names) and any(n in ("as", "x86_64-linux-gnu-as") for n in names)
       and len(procs) >= 4, "g++: driver, cc1plus, as and the linker each traced", f"{names}")
    ok(all(p.get("complete") is True for p in procs), "g++: every trace complete")
    built = run([os.path.join(CTX.work, "gxx-traced", "a.out")])
    ok(built.rc == 0 and built.out == "1\n", "g++: the program compiled under memscope runs",
       built.describe())


GXX_LARGE_SOURCE = """#include <bits/stdc++.h>
#include <regex>
std::map<std::string, std::vector<int>> table;
int main(int argc, char** argv) {
  std::regex re(argv[0]);
  std::smatch match;
  std::string s = argv[0];
  std::unordered_map<std::string, double> u;
  u[s] = 1;
  std::vector<std::string> v(argv, argv + argc);
  std::sort(v.begin(), v.end());
  if (std::regex_search(s, match, re)) std::cout << match.size() << "\\n";
  std::ostringstream o;
  o << u.size() << std::setw(4) << std::quoted(s);
  std::cout << o.str();
  return static_cast<int>(table.size());
}
"""


def case_real_gxx_large():
    src = os.path.join(CTX.work, "large.cpp")
    with open(src, "w") as f:
        f.write(GXX_LARGE_SOURCE)
    gxx = tool("g++")
    objects = {side: os.path.join(CTX.work, f"large-{side}.o") for side in ("native", "traced")}
    native = run([gxx, "-O2", "-c", src, "-o", objects["native"]])
    out = os.path.join(CTX.work, "gxx-large-trace")
    ms = run([memscope_run(), "-o", out, "--", gxx, "-O2", "-c", src, "-o", objects["traced"]])
    ok(ms.rc == native.rc == 0, "g++ -O2 large TU: exit 0 natively and traced", ms.describe())
    same = all(os.path.exists(o) for o in objects.values()) and \
        open(objects["native"], "rb").read() == open(objects["traced"], "rb").read()
    ok(same, "g++ -O2 large TU: the object file is the native one, byte for byte")
    lines = [l for l in ms.err.splitlines() if l.startswith("memscope-run: pid ")]
    ok(any(" (cc1plus, " in l for l in lines), "g++ -O2 large TU: cc1plus traced", "\n".join(lines))
    bad = [l for l in lines if ", exit)" not in l or "incomplete" in l]
    ok(lines and not bad, "g++ -O2 large TU: every process ended by exit, its trace complete",
       "\n".join(bad or lines))


def case_real_cmake():
    project = new_dir("cmake-project")
    with open(os.path.join(project, "CMakeLists.txt"), "w") as f:
        f.write("cmake_minimum_required(VERSION 3.20)\nproject(tiny C)\n"
                "add_executable(tiny main.c)\n")
    with open(os.path.join(project, "main.c"), "w") as f:
        f.write("int main(void) { return 0; }\n")
    cmake = tool("cmake")
    results = {}
    for side in ("native", "traced"):
        build = new_dir(f"cmake-build-{side}")
        args = [cmake, "-S", project, "-B", build]
        results[side] = run(args) if side == "native" else \
            traced(args, "cmake-trace")
    ms, out = results["traced"]
    native = results["native"]
    # The build directory's path is in cmake's output: compare with it replaced.
    norm = lambda text, side: text.replace(os.path.join(CTX.work, f"cmake-build-{side}"), "BUILD")
    ok(ms.status == native.status and norm(ms.out, "traced") == norm(native.out, "native"),
       "cmake: same exit status and output (build directory normalised)",
       f"native {native.status} {native.out[-300:]!r}; traced {ms.status} {ms.out[-300:]!r}")
    data = analyze_ok(out, "cmake")
    procs = data.get("processes", [])
    ok(len(procs) >= 3 and all(p.get("complete") is True for p in procs),
       "cmake: the configure step and the compilers it ran traced, all complete",
       f"{len(procs)} processes")


def case_real_node():
    script = ("const { Worker } = require('worker_threads');"
              "const w = new Worker('const { parentPort } = require(\"worker_threads\");"
              " let a = []; for (let i = 0; i < 100000; i++) a.push({i, s: String(i)});"
              " parentPort.postMessage(a.length);', { eval: true });"
              "w.on('message', n => { console.log('worker', n); process.exitCode = 4; });")
    _, _, procs = real_case("node", [tool("node"), "-e", script])
    ok(any(p.get("threads", 0) >= 5 for p in procs), "node: V8's own threads recorded",
       f"{[p.get('threads') for p in procs]}")


def case_real_java():
    javac, java = tool("javac"), tool("java")
    src_dir = new_dir("java-src")
    with open(os.path.join(src_dir, "Hello.java"), "w") as f:
        f.write("import java.util.*;\npublic class Hello { public static void main(String[] a)"
                " throws Exception { List<String> l = new ArrayList<>();"
                " for (int i = 0; i < 100000; i++) l.add(\"s\" + i);"
                " Thread t = new Thread(() -> System.out.println(\"thread \" + l.size()));"
                " t.start(); t.join(); System.exit(9); } }\n")
    compiled = run([javac, "-d", src_dir, os.path.join(src_dir, "Hello.java")])
    if compiled.rc != 0:
        raise Skip(f"javac failed: {compiled.err[-300:]}")
    _, _, procs = real_case("java", [java, "-Xshare:off", "-cp", src_dir, "Hello"])
    ok(any(p.get("threads", 0) >= 10 for p in procs), "java: the JVM's threads recorded",
       f"{[p.get('threads') for p in procs]}")


def case_real_sqlite3():
    script = ("create table t(a integer primary key, b text);"
              "with recursive c(x) as (select 1 union all select x + 1 from c where x < 20000)"
              " insert into t select x, printf('row %d', x) from c;"
              "select count(*), sum(length(b)) from t; select b from t where a % 5000 = 0;")
    real_case("sqlite3", [tool("sqlite3"), ":memory:", script])


# ---------------------------------------------------------------------------------------------
# Many threads


def threads_case(mode, count, k=5):
    args = [prog("robust_threads"), mode, str(count), str(k)]
    native = run(args)
    ms, out = traced(args, "trace")
    what = f"robust_threads {mode} {count}"
    same_as_native(native, ms, what)
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, f"{what}: one process"):
        return None
    p = procs[0]
    ok(p.get("complete") is True and p.get("dropped_events") == 0,
       f"{what}: complete, nothing dropped")
    ok(p.get("threads") == count + 1, f"{what}: {count + 1} threads recorded",
       f"got {p.get('threads')}")
    main = main_thread(p)
    workers = [t for t in p.get("threads_detail", []) if t is not main]
    nbytes = sum(40 + i for i in range(k))
    # A detached thread releases its own stack when it exits, and glibc then trims its stack
    # cache, freeing the DTVs of older cached stacks on that thread: frees may exceed k there.
    wrong = [(t.get("tid"), t["allocations"], t["frees"], t["allocated_bytes"]) for t in workers
             if t["allocations"] != k or t["allocated_bytes"] != nbytes or t["frees"] < k
             or (mode == "joined" and t["frees"] != k)]
    ok(len(workers) == count and not wrong,
       f"{what}: every worker thread has exactly {k} allocations of {nbytes} bytes and "
       f"{'exactly' if mode == 'joined' else 'at least'} {k} frees",
       f"{len(workers)} workers; wrong (tid, allocs, frees, bytes): {wrong[:10]}")
    ok(p["total_allocations"] == (main["allocations"] if main else 0) + count * k,
       f"{what}: process total == main thread's + {count * k}",
       f"total {p['total_allocations']}, main {main and main['allocations']}")
    return p, workers


def case_threads_joined_1000():
    res = threads_case("joined", 1000)
    if res:
        p, workers = res
        ok(all(t.get("end_ns") is not None for t in workers),
           "every joined thread's end was recorded",
           f"{sum(t.get('end_ns') is None for t in workers)} without an end")
        # What stays live: the DTVs of the thread stacks glibc keeps in its cache, made by
        # the main thread (pthread_create), at most one per stack alive at once (8).
        ok(p["leaked_allocations"] <= 8, "at most 8 blocks (cached stacks' DTVs) live at exit",
           f"got {p['leaked_allocations']}")


def case_threads_detached():
    threads_case("detached", 300)


# ---------------------------------------------------------------------------------------------
# Descriptors: the program owns the lowest free descriptor


def trace_complete(out, what):
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    ok(procs and all(p.get("complete") is True for p in procs),
       f"{what}: {len(procs)} traces, all complete",
       f"{[(p.get('pid'), p.get('warning')) for p in procs]}")
    return procs


# What the agent still puts in the program's link map (docs/reliability.md, README
# Limitations): nothing. libunwind.so.8 and its liblzma.so.5, which the agent loaded until it
# unwound with the static libgcc, libmimalloc.so.2, until it had its own allocator
# (agent/private_heap.hpp), and libm, which it needed until it linked its few functions in, must
# not come back (NEVER_LOADED), and nothing else may appear.
AGENT_STILL_LOADS = set()
NEVER_LOADED = {"libunwind.so.8", "liblzma.so.5", "libm.so.6", "libmimalloc.so.2"}


def link_map_answers(out):
    """robust_linkmap's output as (loaded set, {library: 'already loaded' | 'not loaded'})."""
    loaded, before = set(), {}
    for line in out.splitlines():
        if line.startswith("loaded: "):
            loaded.add(line[len("loaded: "):])
        elif line.endswith((": already loaded", ": not loaded")):
            name, answer = line.split(": ", 1)
            before[name] = answer
    return loaded, before


def case_loader_link_map():
    args = [prog("robust_linkmap")]
    native = run(args)
    ms, out = traced(args, "trace")
    ok(native.rc == 0 and ms.rc == 0, "robust_linkmap exits 0 natively and traced",
       f"native: {native.describe()}\n      traced: {ms.describe()}")
    native_loaded, native_before = link_map_answers(native.out)
    traced_loaded, traced_before = link_map_answers(ms.out)
    extra = traced_loaded - native_loaded - {"libmemscope_agent.so"}
    ok(extra == AGENT_STILL_LOADS,
       "traced link map = native + the agent alone",
       f"native {sorted(native_loaded)}\n      traced {sorted(traced_loaded)}")
    ok(not (traced_loaded & NEVER_LOADED) and
       all(traced_before.get(name) == "not loaded" for name in NEVER_LOADED),
       "traced: libunwind, liblzma, libm and libmimalloc are not in the link map before the "
       "program's dlopen", f"traced {sorted(traced_loaded)}\n      {traced_before}")
    ok(native_loaded <= traced_loaded, "everything the program loads natively is loaded traced",
       f"missing {sorted(native_loaded - traced_loaded)}")
    ok(set(native_before.values()) == {"not loaded"} and len(native_before) == 5,
       "natively none of the five libraries is loaded before the program's dlopen",
       f"{native_before}")
    expected = {name: "already loaded" if name in AGENT_STILL_LOADS else "not loaded"
                for name in native_before}
    ok(traced_before == expected,
       "traced: liblzma, libm, libunwind, libmimalloc and libz are loaded by the program's own "
       "dlopen",
       f"{traced_before}")
    trace_complete(out, "robust_linkmap")


def case_fd_lowest_loop():
    args = [prog("robust_lowfd"), "loop", "3000"]
    native = run(args)
    ms, out = traced(args, "trace")
    same_as_native(native, ms, "close(0); open() x 3000")
    ok(native.out == "not 0: 0\n", "natively open() always returned 0", native.out)
    trace_complete(out, "close(0); open() x 3000")


def case_fd_lowest_forks():
    args = [prog("robust_lowfd"), "forks", "100"]
    native = run(args)
    ms, out = traced(args, "trace")
    same_as_native(native, ms, "100 fork children looping close(0); open()")
    ok(native.out == "children not 0: 0\n", "natively every child's open() returned 0",
       native.out)
    procs = trace_complete(out, "100 fork children")
    ok(len(procs) == 101, "101 traces (the parent and each child)", f"{len(procs)}")


def case_fd_closeall_reopen():
    results = {}
    for side in ("native", "traced"):
        path = os.path.join(CTX.work, f"closeall-{side}.txt")
        args = [prog("robust_lowfd"), "closeall", path]
        results[side] = run(args) if side == "native" else traced(args, "trace")[0]
        text = open(path).read() if os.path.exists(path) else ""
        results[side + "-text"] = text.replace(path, "OUT")
    same_as_native(results["native"], results["traced"], "close all, reopen 0, 1, 2")
    expected = "fd 0\n/dev/null\nfd 1\n/dev/null\nfd 2\n/dev/null\nfd 3\nOUT\n"
    ok(results["native-text"] == expected, "natively 0, 1, 2 are /dev/null and OUT is 3",
       results["native-text"])
    ok(results["traced-text"] == results["native-text"],
       "traced: 0, 1, 2 are /dev/null and OUT is 3, as natively", results["traced-text"])
    trace_complete(os.path.join(CTX.work, "trace"), "close all, reopen")


def case_fd_unwinder_pipe():
    content = "the program's own data, which nobody else writes\n"
    outputs = {}
    for side in ("native", "traced"):
        data, out = (os.path.join(CTX.work, f"{name}-{side}.txt") for name in ("data", "out"))
        with open(data, "w") as f:
            f.write(content)
        args = [prog("robust_probepipe"), data, out]
        r = run(args) if side == "native" else traced(args, "trace")[0]
        outputs[side] = r
        outputs[side + "-out"] = open(out).read() if os.path.exists(out) else ""
        outputs[side + "-data"] = open(data).read()
    same_as_native(outputs["native"], outputs["traced"], "probe pipe")
    expected = "".join(f"fd {n}\nok\n" for n in range(16))
    ok(outputs["native-out"] == expected, "natively every file and pipe is untouched",
       outputs["native-out"])
    ok(outputs["traced-out"] == expected,
       "traced: every file at offset 0 with its content, every pipe empty, no hang",
       outputs["traced-out"])
    ok(outputs["traced-data"] == content, "traced: the data file is unchanged on disk",
       repr(outputs["traced-data"]))
    trace_complete(os.path.join(CTX.work, "trace"), "probe pipe")


def case_fd_count_300_threads():
    """The bound: memscope holds no descriptor in the program's table whatever the thread
    count (stack capture opens nothing; libunwind's probe pipe held 2 until the agent dropped
    it); the sidecar's are in its own table."""
    args = [prog("robust_fdcount"), "300"]
    native = run(args)
    ms, out = traced(args, "trace")
    ok(native.status == 0 and ms.status == 0, "300 threads: exit 0 both", ms.describe())
    counts = [int(r.out.split(":")[1]) if r.out.startswith("descriptors:") else None
              for r in (native, ms)]
    ok(None not in counts and counts[1] == counts[0],
       f"300 threads alive: traced {counts[1]} descriptors, native {counts[0]} (the same)",
       f"{native.out!r} {ms.out!r}")
    trace_complete(out, "300 threads")


# System calls that give a process a new descriptor number (the lowest free one, or one asked
# for), as strace names them.
DESCRIPTOR_CALLS = ("open", "openat", "openat2", "creat", "dup", "dup2", "dup3", "fcntl",
                    "pipe", "pipe2", "socket", "socketpair", "accept", "accept4",
                    "perf_event_open", "pidfd_open", "pidfd_getfd", "memfd_create", "eventfd2",
                    "signalfd4", "timerfd_create", "epoll_create1", "inotify_init1")


def descriptors_made_after_start(strace_log, program):
    """memscope's descriptor-making calls in `strace_log` (strace -f) once `program`'s main
    thread has opened /dev/null for the first time (robust_lowfd loop): every other call from
    then on, from any thread, is memscope's. Returns (calls after, F_DUPFD moves before)."""
    lines = open(strace_log).read().splitlines()
    pid = next(l.split()[0] for l in lines if re.search(r'execve\("[^"]*' + program, l))
    own = re.compile(r'^' + pid + r' +open(at)?\((AT_FDCWD, )?"/dev/null", O_RDONLY')
    start = next(i for i, l in enumerate(lines) if own.search(l))
    # A call interrupted by another thread's is counted on its first line ("<unfinished ...>").
    call = re.compile(r'^\d+ +(' + "|".join(DESCRIPTOR_CALLS) + r')\(')
    after = [l for l in lines[start:]
             if call.search(l) and not own.search(l) and "F_GETF" not in l
             and "F_SETF" not in l]
    moves = sum(1 for l in lines[:start] if "F_DUPFD_CLOEXEC" in l)
    return after, moves


def case_fd_shared_table():
    """Where the system refuses the sidecar a descriptor table of its own (unshare and
    close_range fail with EPERM, as under container seccomp profiles), the sidecar opens what it
    keeps before the program runs, above the floor, and nothing after (own_descriptors.hpp):
    strace of a traced close(0)/open() loop shows descriptors moved above the floor before the
    program's first open and no descriptor made by memscope after it; the loop (3000 times)
    and 30 fork children running it 200 times each see 0 every time, as natively; the traces
    are complete; the program's table holds at most fds::kReserved (128) more descriptors with
    300 threads, and in the last of 8 nested fork children (each child closes its copies of
    its parent's memscope descriptors); closing everything then opening gives 0, 1, 2."""
    wrap = [prog("robust_seccomp_open"), "no-unshare", memscope_run(), "-q"]
    lowfd = prog("robust_lowfd")
    for name, args, want in (("loop", ["loop", "3000"], "not 0: 0"),
                             ("forks", ["forks", "30"], "children not 0: 0")):
        native = run([lowfd, *args])
        out = os.path.join(CTX.work, name)
        r = run([*wrap, "-o", out, "--", lowfd, *args])
        if r.status == 3:
            raise Skip("this system refuses seccomp filters")
        ok(native.out.strip() == want and r.status == 0 and r.out.strip() == want,
           f"shared table: lowfd {name} prints {want!r} as natively", f"{native.out!r} {r.describe()}")
        trace_complete(out, f"shared table, lowfd {name}")
    strace = shutil.which("strace")
    if strace:
        log = os.path.join(CTX.work, "strace.log")
        r = run([strace, "-f", "-qq", "-o", log, *wrap, "-o", os.path.join(CTX.work, "st"), "--",
                 lowfd, "loop", "300"])
        after, moves = descriptors_made_after_start(log, "robust_lowfd")
        ok(r.status == 0 and moves > 0, "shared table under strace: memscope's descriptors "
           f"moved above the floor before the program's first open ({moves} moves)", r.describe())
        ok(not after, f"shared table: no descriptor made by memscope once the program runs "
           f"({len(after)})", "\n".join(after[:5]))
    else:
        print("info: strace is not installed; the descriptor calls were not traced")
    path = os.path.join(CTX.work, "closeall.txt")
    r = run([*wrap, "-o", os.path.join(CTX.work, "closeall"), "--", lowfd, "closeall", path])
    text = open(path).read().replace(path, "OUT") if os.path.exists(path) else ""
    ok(r.status == 0 and text == "fd 0\n/dev/null\nfd 1\n/dev/null\nfd 2\n/dev/null\nfd 3\nOUT\n",
       "shared table: close all, 0, 1, 2 reopened on /dev/null", text)
    # A chain of 8 forks without exec: each child closes its copies of its parent's memscope
    # descriptors, so the last one holds one set, not eight (which outgrew the 128 reserved).
    native = run([lowfd, "nested", "8"])
    out = os.path.join(CTX.work, "nested")
    ms = run([*wrap, "-o", out, "--", lowfd, "nested", "8"])
    counts = [int(x.out.split(":")[1]) if x.out.startswith("descriptors:") else None
              for x in (native, ms)]
    ok(native.status == 0 and ms.status == 0 and None not in counts and
       0 <= counts[1] - counts[0] <= 128 and "Too many open files" not in ms.err,
       f"shared table, 8 nested forks: the last holds {counts[1]} descriptors, natively "
       f"{counts[0]} (at most 128 more)", f"{native.out!r} {ms.describe()}")
    ok(len(trace_complete(out, "shared table, 8 nested forks")) == 9,
       "shared table, 8 nested forks: 9 traces")
    native = run([prog("robust_fdcount"), "300"])
    ms = run([*wrap, "-o", os.path.join(CTX.work, "count"), "--", prog("robust_fdcount"), "300"])
    counts = [int(x.out.split(":")[1]) if x.out.startswith("descriptors:") else None
              for x in (native, ms)]
    ok(None not in counts and 0 <= counts[1] - counts[0] <= 128,
       f"shared table, 300 threads: traced {counts[1]} descriptors, native {counts[0]} "
       "(at most 128 more)", f"{native.out!r} {ms.out!r}")


def seccomp_case(mode):
    args = [prog("robust_seccomp_open"), mode]
    native = run(args)
    if native.status == 3:
        raise Skip("this system refuses seccomp filters: " + native.err.strip())
    ms, out = traced(args, "trace")
    same_as_native(native, ms, f"seccomp filter ({mode} on open) installed in main")
    ok("installed a seccomp filter; memscope opens no more files" in ms.err,
       "memscope says it opens no more files", ms.err[-400:])
    trace_complete(out, f"seccomp {mode}")


def case_real_tar_repeated(runs=60):
    """tar czf forks gzip: the child closes 0 and dups the pipe into it; memscope's sidecar in
    the child must not take 0 meanwhile. Every run's archive equals the native one."""
    tar = tool("tar")
    tree = os.path.join(CTX.work, "tree")
    os.makedirs(os.path.join(tree, "sub"))
    rng = random.Random(5)
    for i in range(30):
        with open(os.path.join(tree, f"file{i}"), "wb") as f:
            f.write(bytes(rng.randrange(256) for _ in range(500 * i)))
    with open(os.path.join(tree, "sub", "lines"), "w") as f:
        f.write("".join(f"{i}\n" for i in range(20000)))
    for path in [tree, *(os.path.join(tree, p) for p in os.listdir(tree))]:
        os.utime(path, (1700000000, 1700000000))
    native_archive = os.path.join(CTX.work, "native.tgz")
    native = run([tar, "czf", native_archive, "-C", tree, "."])
    ok(native.status == 0, "tar czf natively exits 0", native.describe())
    expected = open(native_archive, "rb").read()
    differing = []
    for i in range(runs):
        archive = os.path.join(CTX.work, "traced.tgz")
        ms, out = traced([tar, "czf", archive, "-C", tree, "."], f"trace{i}")
        same = os.path.exists(archive) and open(archive, "rb").read() == expected
        if ms.status != 0 or ms.err != native.err or not same:
            differing.append((i, ms.status, ms.err[-200:], same))
        shutil.rmtree(out, ignore_errors=True)
    ok(not differing, f"{runs} traced runs of tar czf: exit 0 and the native archive each time",
       f"{differing[:5]}")


# ---------------------------------------------------------------------------------------------
# The main thread leaves first, raw clone children, allocating signal handlers (issue 11 hangs)


def mainexit_case(mode, ended, *extra, pairs=20000):
    args = [prog("robust_mainexit"), mode, str(pairs), *extra]
    native = run(args)
    ms, out = traced(args, f"trace-{mode}-{'-'.join(extra)}")
    what = f"robust_mainexit {mode} {' '.join(extra)}".strip()
    same_as_native(native, ms, what)
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, f"{what}: one process", f"{len(procs)}"):
        return None
    p = procs[0]
    ok(p.get("ended") == ended, f"{what}: ended == {ended!r}", f"got {p.get('ended')!r}")
    ok(p.get("complete") is True and p.get("dropped_events") == 0,
       f"{what}: trace complete, nothing dropped",
       f"complete={p.get('complete')} dropped={p.get('dropped_events')}")
    workers = [t for t in p.get("threads_detail", []) if t["allocations"] == pairs]
    ok(len(workers) == 3 and all(t["frees"] >= pairs for t in workers),
       f"{what}: three workers with exactly {pairs} allocations and their frees",
       f"{[(t['tid'], t['allocations'], t['frees']) for t in p.get('threads_detail', [])]}")
    return p


def case_threads_main_pthread_exit():
    p = mainexit_case("pthread_exit", "exit")
    if p:
        ok(p["total_allocated_bytes"] >= 77777 and p["leaked_bytes"] < 77777,
           "robust_mainexit pthread_exit: the atexit handler's free of the 77777-byte block "
           "is recorded", f"leaked_bytes {p['leaked_bytes']}")


def sigterm_when_ready(cmd):
    """Runs cmd, sends SIGTERM to it once it printed "ready"; returns (status, stdout)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         preexec_fn=_limits(), start_new_session=True)
    try:
        line = p.stdout.readline().decode()
        if line == "ready\n":
            p.send_signal(signal.SIGTERM)
        out = line + p.stdout.read().decode()
        rc = p.wait(timeout=HANG_S)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        return None, ""
    return native_status(rc), out


def case_threads_main_pthread_exit_sigterm():
    args = [prog("robust_mainexit"), "pthread_exit_wait", "1000"]
    native = sigterm_when_ready(args)
    out = os.path.join(CTX.work, "trace")
    ms = sigterm_when_ready([memscope_run(), "-q", "-o", out, "--", *args])
    what = "robust_mainexit pthread_exit_wait + SIGTERM"
    ok(native[0] == 143 and ms == native, f"{what}: status 143 and the same stdout as natively",
       f"native {native}, traced {ms}")
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    ok(len(procs) == 1 and procs[0].get("ended") == "signal 15 (SIGTERM)",
       f"{what}: the trace says SIGTERM ended it", f"{[q.get('ended') for q in procs]}")


def case_threads_main_seccomp():
    mainexit_case("seccomp", "last thread exited (0)", "0")
    # glibc threads leave with 0 and the kernel reports the last thread's status: 0, not 3.
    mainexit_case("seccomp", "last thread exited (0)", "3")


def case_threads_main_seccomp_kill():
    args = [prog("robust_mainexit"), "seccomp_kill"]
    native = run(args)
    ms, out = traced(args, "trace")
    what = "robust_mainexit seccomp_kill"
    same_as_native(native, ms, what)
    ok(native.status == 137 and native.out == "atexit\n", f"{what}: natively SIGKILL after atexit",
       native.describe())
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    ok(len(procs) == 1 and procs[0].get("ended") == "signal 9 (SIGKILL)"
       and procs[0].get("complete") is True,
       f"{what}: the trace is complete and says SIGKILL ended it",
       f"{[(q.get('ended'), q.get('complete')) for q in procs]}")


def case_threads_raw_clone():
    args = [prog("robust_rawclone"), "100000"]
    native = run(args)
    ms, out = traced(args, "trace")
    what = "robust_rawclone 100000"
    same_as_native(native, ms, what)
    files = traces_in(out)
    ok(len(files) == 1, f"{what}: one trace (the raw clone child runs untraced)", f"{files}")
    data = analyze_ok(out, what)
    procs = data.get("processes", [])
    if not ok(len(procs) == 1, f"{what}: one process"):
        return
    t = main_thread(procs[0])
    ok(procs[0].get("ended") == "exit" and procs[0].get("complete") is True,
       f"{what}: complete, ended by exit")
    ok(t is not None and (t["allocations"], t["frees"]) == (200, 200),
       f"{what}: main thread exactly 200 allocations and frees",
       f"got {t and (t['allocations'], t['frees'])}")


def case_sigalloc_storm():
    n, h = 300000, 500
    args = [prog("robust_sigstorm"), str(n), str(h)]
    native = run(args)
    for options in ((), ("--ring-slots", "1024")):
        ms, out = traced(args, f"trace{len(options)}", options=options)
        what = f"robust_sigstorm {n} {h} {' '.join(options)}".strip()
        same_as_native(native, ms, what)
        calls = None
        if ms.err.startswith("handler="):
            calls = int(ms.err.split("=")[1])
        if not ok(calls is not None and calls > 0, f"{what}: the handler ran", f"{ms.err!r}"):
            continue
        data = analyze_ok(out, what)
        procs = data.get("processes", [])
        if not ok(len(procs) == 1, f"{what}: one process"):
            continue
        p = procs[0]
        ok(p.get("complete") is True and p.get("dropped_events") == 0,
           f"{what}: complete, nothing dropped", f"dropped {p.get('dropped_events')}")
        expect = 2 * n + h * calls + 2  # each realloc is an allocation and a free
        t = main_thread(p)
        ok(t is not None and (t["allocations"], t["frees"]) == (expect, expect),
           f"{what}: main thread exactly {expect} allocations and frees ({calls} handler calls)",
           f"got {t and (t['allocations'], t['frees'])}")


def case_sigalloc_wild_pc():
    args = [prog("robust_sigwild")]
    native = run(args)
    ms, out = traced(args, "trace")
    same_as_native(native, ms, "robust_sigwild")
    ok(native.status == 3 and native.out == "handler\n", "natively the handler ran and left",
       native.describe())
    procs = trace_complete(out, "robust_sigwild")
    p = procs[0] if len(procs) == 1 else {}
    ok(p.get("leaked_bytes") == 4242 and p.get("leaked_allocations") == 1,
       "robust_sigwild: the handler's 4242 bytes are the one block left",
       f"{p.get('leaked_allocations')} blocks, {p.get('leaked_bytes')} B")


# ---------------------------------------------------------------------------------------------

CASES = {
    "endings_exit": lambda: case_simple_ending("exit", "exit"),
    "endings__exit": lambda: case_simple_ending("_exit", "_exit(3)"),
    "endings_return_threads": case_endings_return_threads,
    "endings_abort": lambda: case_simple_ending("abort", "signal 6 (SIGABRT)"),
    "endings_segv": lambda: case_simple_ending("segv", "signal 11 (SIGSEGV)"),
    "endings_sigterm": lambda: case_simple_ending("term", "signal 15 (SIGTERM)"),
    "endings_cxx_exception": case_endings_cxx_exception,
    "endings_sigkill": case_endings_sigkill,
    "endings__Exit": lambda: case_simple_ending("_Exit", "_exit(6)"),
    "endings_quick_exit": case_endings_quick_exit,
    "endings_exit_group": lambda: case_simple_ending("exit_group", "_exit(8)"),
    "endings_sys_execve": lambda: case_exec_ending("sys_execve"),
    "endings_execveat": lambda: case_exec_ending("execveat"),
    "endings_sigpipe": case_endings_sigpipe,
    "endings_sighup": lambda: case_simple_ending("hup", "signal 1 (SIGHUP)"),
    "endings_sigusr1": lambda: case_simple_ending("usr1", "signal 10 (SIGUSR1)"),
    "endings_sigrtmin": lambda: case_simple_ending("rtmin", "signal 34 (SIGRTMIN)"),
    "endings_redefault": lambda: case_simple_ending("redefault", "signal 15 (SIGTERM)"),
    "endings_kill_sighup": lambda: case_endings_kill(signal.SIGHUP, "signal 1 (SIGHUP)"),
    "endings_kill_sigterm": lambda: case_endings_kill(signal.SIGTERM, "signal 15 (SIGTERM)"),
    "endings_dispositions": case_endings_dispositions,
    "endings__Exit_leak_gate": case_endings_exit_leak_gate,
    "trace_size_limit": case_trace_size_limit,
    "glibc_provider": case_glibc_provider,
    "sampled_failed_realloc": case_sampled_failed_realloc,
    "mimalloc_provider": case_mimalloc_provider,
    "no_follow": case_no_follow,
    "bad_missing_program": case_bad_missing_program,
    "bad_not_executable": case_bad_not_executable,
    "bad_static": case_bad_static,
    "bad_unwritable_output": case_bad_unwritable_output,
    "bad_unknown_option": case_bad_unknown_option,
    "bad_agent_path": case_bad_agent_path,
    "bad_32bit": case_bad_32bit,
    "runner_rerun_summary": case_runner_rerun_summary,
    "runner_root_output_dir": case_runner_root_output_dir,
    "runner_sigkill": case_runner_sigkill,
    "agent_symlink": case_agent_symlink,
    "trace_mode_0600": case_trace_mode_0600,
    "analyze_truncated": case_analyze_truncated,
    "analyze_corrupted": case_analyze_corrupted,
    "analyze_garbage": case_analyze_garbage,
    "analyze_fuzz_records": case_analyze_fuzz_records,
    "analyze_non_utf8": case_analyze_non_utf8,
    "env_nonsense": case_env_nonsense,
    "real_python_threads": case_real_python_threads,
    "real_python_subprocess": case_real_python_subprocess,
    "real_git": case_real_git,
    "real_bash_pipeline": case_real_bash_pipeline,
    "real_sort": case_real_sort,
    "real_perl": case_real_perl,
    "real_gxx": case_real_gxx,
    "real_gxx_large": case_real_gxx_large,
    "real_cmake": case_real_cmake,
    "real_node": case_real_node,
    "real_java": case_real_java,
    "real_sqlite3": case_real_sqlite3,
    "threads_joined_1000": case_threads_joined_1000,
    "threads_detached": case_threads_detached,
    "fd_lowest_loop": case_fd_lowest_loop,
    "fd_lowest_forks": case_fd_lowest_forks,
    "fd_closeall_reopen": case_fd_closeall_reopen,
    "fd_unwinder_pipe": case_fd_unwinder_pipe,
    "fd_count_300_threads": case_fd_count_300_threads,
    "fd_shared_table": case_fd_shared_table,
    "seccomp_open_kill": lambda: seccomp_case("kill"),
    "seccomp_open_errno": lambda: seccomp_case("errno"),
    "real_tar_repeated": case_real_tar_repeated,
    "threads_main_pthread_exit": case_threads_main_pthread_exit,
    "threads_main_pthread_exit_sigterm": case_threads_main_pthread_exit_sigterm,
    "threads_main_seccomp": case_threads_main_seccomp,
    "threads_main_seccomp_kill": case_threads_main_seccomp_kill,
    "threads_raw_clone": case_threads_raw_clone,
    "threads_unseen": case_threads_unseen,
    "process_name_symlink": case_process_name_symlink,
    "real_tar_spawn_names": case_real_tar_spawn_names,
    "sigalloc_storm": case_sigalloc_storm,
    "sigalloc_wild_pc": case_sigalloc_wild_pc,
    "loader_link_map": case_loader_link_map,
}


def finish():
    if FAILURES:
        print(f"\n{len(FAILURES)} check(s) failed; work directory kept: {CTX.work}")
        return 1
    if not CTX.keep:
        shutil.rmtree(CTX.work, ignore_errors=True)
    else:
        print(f"work directory kept: {CTX.work}")
    return 0


def main():
    global CTX
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--mimalloc", default="")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("case", choices=sorted(CASES))
    CTX = ap.parse_args()
    CTX.bin, CTX.lib = os.path.abspath(CTX.bin), os.path.abspath(CTX.lib)
    CTX.work = tempfile.mkdtemp(prefix=f"memscope-robust-{CTX.case}.")
    # memscope-run's own environment must not leak in from the caller.
    for k in list(os.environ):
        if k.startswith("MEMSCOPE_") or k == "LD_PRELOAD":
            del os.environ[k]
    try:
        CASES[CTX.case]()
    except Skip as e:
        print(f"skip: {e}")
        shutil.rmtree(CTX.work, ignore_errors=True)
        return 77
    return finish()


if __name__ == "__main__":
    sys.exit(main())
