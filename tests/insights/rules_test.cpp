// Unit tests of the bottleneck rules, scores and heap alignment on synthetic inputs: each
// verdict fires from its own figures, the priority order holds, and absent figures decide
// nothing.
#include <doctest/doctest.h>

#include "analyzer/insights/aligned.hpp"
#include "analyzer/insights/bottleneck.hpp"

using namespace memscope::analyzer;
using namespace memscope::analyzer::insights;

namespace {

// A quiet process: two threads mostly on CPU half the time, nothing saturated.
ProcessFigures quiet() {
  ProcessFigures f;
  f.samples = 30;
  f.window_s = 3;
  f.online_cores = 2;
  f.usable_cores = 2;
  f.process_cpu_cores = 0.5;
  f.cpu_utilization = 0.25;
  f.on_cpu_share = 0.5;
  f.run_queue_wait_share = 0.02;
  f.off_cpu_share = 0.48;
  f.cpu_busy_share = 0.5 / 0.98;
  f.voluntary_switches_per_thread_sec = 5;
  f.active_busy_share = 0.5 / 0.98;
  f.active_voluntary_switches_per_sec = 5;
  f.active_threads = 2;
  f.system_cpu_share = 0.1;
  f.minor_faults_per_cpu_second = 2000;
  f.profiler_wait_share = 0.01;
  f.iowait_percent = 0.5;
  f.psi_io_some_percent = 0.5;
  f.psi_memory_some_percent = 0;
  f.process_io_bytes_per_sec = 4096;
  f.major_faults_per_sec = 0;
  f.heap_ops_per_cpu_second = 1000;
  f.threads.resize(2);
  return f;
}

bool has(const Verdict& v, const std::string& name) {
  for (const Evidence& e : v.evidence)
    if (e.name == name) return true;
  return false;
}

}  // namespace

TEST_CASE("nothing over a threshold is Balanced, with the checked figures as evidence") {
  Verdict v = decide_bottleneck(quiet());
  CHECK(v.bottleneck == "Balanced");
  CHECK(has(v, "active_busy_share"));
  for (const Evidence& e : v.evidence)
    if (e.name == "active_busy_share" || e.name == "active_voluntary_switches_per_sec")
      CHECK_FALSE(e.met);
  CHECK_FALSE(has(v, "profiler_wait_share"));  // memscope's cost below its caveat threshold
}

TEST_CASE("each rule fires on its own figures") {
  ProcessFigures cpu = quiet();
  cpu.on_cpu_share = 0.9, cpu.active_busy_share = 0.95, cpu.active_voluntary_switches_per_sec = 1;
  CHECK(decide_bottleneck(cpu).bottleneck == "CpuBound");

  ProcessFigures mem = cpu;
  mem.heap_ops_per_cpu_second = 1e7;
  mem.heap_ops_per_sec = 1e3;  // a program that hardly runs is not limited by its allocator
  CHECK(decide_bottleneck(mem).bottleneck == "CpuBound");
  mem.heap_ops_per_sec = 5e6;
  Verdict vm = decide_bottleneck(mem);
  CHECK(vm.bottleneck == "MemoryBound");  // checked before CPU: the allocator burns the CPU
  CHECK(has(vm, "heap_ops_per_cpu_second"));

  ProcessFigures lock = quiet();
  lock.active_threads = 16;
  lock.active_busy_share = 0.2, lock.active_voluntary_switches_per_sec = 3000;
  CHECK(decide_bottleneck(lock).bottleneck == "ContentionBound");

  ProcessFigures io = lock;  // IO-blocked threads also switch voluntarily: IO is tried first
  io.process_io_bytes_per_sec = 50e6, io.psi_io_some_percent = 60;
  CHECK(decide_bottleneck(io).bottleneck == "IoBound");

  ProcessFigures gpu = io;
  gpu.gpu_percent = 95;
  CHECK(decide_bottleneck(gpu).bottleneck == "GpuBound");
}

TEST_CASE("a single thread cannot be contended, and IO needs a stall figure") {
  ProcessFigures f = quiet();
  f.active_threads = 1;
  f.active_busy_share = 0.1, f.active_voluntary_switches_per_sec = 5000;
  CHECK(decide_bottleneck(f).bottleneck == "Balanced");
  f.process_io_bytes_per_sec = 50e6;
  f.psi_io_some_percent.reset(), f.iowait_percent.reset();
  CHECK(decide_bottleneck(f).bottleneck == "Balanced");
}

TEST_CASE("a lock convoy is contention though its threads queue rather than block") {
  // lock_contended on a quiet 2-core machine: 16 threads, mostly runnable, thousands of
  // voluntary switches a second each, blocked only a third of the time they are not queued.
  ProcessFigures f = quiet();
  f.active_threads = 16, f.on_cpu_share = 0.11, f.run_queue_wait_share = 0.78;
  f.active_busy_share = 0.68, f.cpu_utilization = 0.96;
  f.active_voluntary_switches_per_sec = 2400;
  CHECK(decide_bottleneck(f).bottleneck == "ContentionBound");
  f.active_voluntary_switches_per_sec = 330;  // a busy pool that is preempted, not handing off
  CHECK(decide_bottleneck(f).bottleneck == "CpuBound");
  f.active_voluntary_switches_per_sec = 2400, f.on_cpu_share = 0.96;  // on a CPU nearly always
  CHECK(decide_bottleneck(f).bottleneck == "CpuBound");
}

TEST_CASE("no figures at all decide no verdict") {
  CHECK(decide_bottleneck(ProcessFigures{}).bottleneck.empty());
  Scores s = efficiency_scores(ProcessFigures{});
  CHECK_FALSE(s.cpu);
  CHECK_FALSE(s.memory);
  CHECK_FALSE(s.io);
}

TEST_CASE("scores follow the documented formulas") {
  ProcessFigures f = quiet();
  f.heap_ops_per_cpu_second = threshold::kHeapOpsPerCpuSecond;
  f.psi_memory_some_percent = 10;
  Scores s = efficiency_scores(f);
  CHECK(*s.cpu == doctest::Approx(50));
  CHECK(*s.memory == doctest::Approx(50 * 0.9));
  CHECK(*s.io == doctest::Approx(99.5));
  f.process_io_bytes_per_sec = 0;
  CHECK(*efficiency_scores(f).io == doctest::Approx(100));
}

TEST_CASE("threads are ranked by on-CPU share") {
  ProcessFigures f;
  ThreadFigures idle, busy;
  idle.tid = 1, idle.name = "idle", idle.span_s = 2.0, idle.cpu_s = 0.2, idle.off_cpu_s = 1.8;
  busy.tid = 2, busy.name = "busy", busy.span_s = 2.0, busy.cpu_s = 1.8, busy.off_cpu_s = 0.1;
  f.threads = {idle, busy};
  auto r = rank_threads(f);
  REQUIRE(r.size() == 2);
  CHECK(r[0].figures->name == "busy");
  CHECK(r[0].efficiency_score == doctest::Approx(90));
  CHECK(r[1].efficiency_score == doctest::Approx(10));
}

TEST_CASE("page-fault-bound work is MemoryBound, and needs both figures") {
  ProcessFigures f = quiet();
  f.active_busy_share = 0.95;  // it is also busy: the fault path is checked before CPU
  f.minor_faults_per_cpu_second = 600'000, f.system_cpu_share = 0.9;
  Verdict v = decide_bottleneck(f);
  CHECK(v.bottleneck == "MemoryBound");
  CHECK(has(v, "minor_faults_per_cpu_second"));
  f.system_cpu_share = 0.2;  // many faults, but the CPU goes to the program's own code
  CHECK(decide_bottleneck(f).bottleneck == "CpuBound");
}

TEST_CASE("memscope's own cost is a caveat on the verdict, not a condition of it") {
  ProcessFigures f = quiet();
  f.profiler_wait_share = 0.3, f.profiler_cpu_share_of_usable_cores = 0.25;
  Verdict v = decide_bottleneck(f);
  CHECK(v.bottleneck == "Balanced");
  int caveats = 0;
  for (const Evidence& e : v.evidence) caveats += e.caveat && e.met;
  CHECK(caveats == 2);
}

TEST_CASE("heap buckets are spread over sample intervals by overlap") {
  std::vector<HeapBucket> b(2);
  b[0] = {0, 10, 0, 1000, 0, 100, 100};
  b[1] = {100, 20, 4, 2000, 0, 50, 120};
  HeapWindow w = heap_in_window(b, 100, 50, 150);
  CHECK(w.allocations == doctest::Approx(15));
  CHECK(w.frees == doctest::Approx(2));
  CHECK(w.allocated_bytes == doctest::Approx(1500));
  CHECK(w.live_bytes == doctest::Approx(50));
  HeapWindow after = heap_in_window(b, 100, 150, 400);  // past the last bucket: carried forward
  CHECK(after.allocations == doctest::Approx(10));
  CHECK(after.live_bytes == doctest::Approx(50));
  HeapWindow none = heap_in_window({}, 100, 0, 100);
  CHECK(none.allocations == 0);
}

namespace {

// Busy on the CPU (CpuBound without counters), with the given hardware figures.
ProcessFigures busy_with_counters(double cpi, double mpki) {
  ProcessFigures f = quiet();
  f.active_busy_share = 0.95;
  f.cpu_utilization = 0.9;
  f.hardware.available = true;
  f.hardware.cycles_per_instruction = cpi;
  f.hardware.ipc = 1 / cpi;
  f.hardware.llc_misses_per_kilo_instruction = mpki;
  return f;
}

}  // namespace

TEST_CASE("low IPC with many last-level cache misses is MemoryBound") {
  Verdict v = decide_bottleneck(busy_with_counters(2.5, 25));
  CHECK(v.bottleneck == "MemoryBound");
  CHECK(has(v, "cycles_per_instruction"));
  CHECK(has(v, "llc_misses_per_kilo_instruction"));
  // Few misses, or a high IPC: the CPU itself is the limit.
  CHECK(decide_bottleneck(busy_with_counters(2.5, 2)).bottleneck == "CpuBound");
  CHECK(decide_bottleneck(busy_with_counters(0.5, 25)).bottleneck == "CpuBound");
  // At the thresholds exactly: IPC 1, 10 misses per kilo-instruction.
  CHECK(decide_bottleneck(busy_with_counters(1.0, 10)).bottleneck == "MemoryBound");
}

TEST_CASE("cache misses alone do not make an idle program MemoryBound") {
  ProcessFigures f = quiet();
  f.hardware.available = true;
  f.hardware.cycles_per_instruction = 3;
  f.hardware.llc_misses_per_kilo_instruction = 40;
  Verdict v = decide_bottleneck(f);
  CHECK(v.bottleneck == "Balanced");
  CHECK(has(v, "cycles_per_instruction"));  // checked, and listed among the Balanced evidence
}

TEST_CASE("without hardware counters the cache rule decides nothing") {
  ProcessFigures f = busy_with_counters(2.5, 25);
  f.hardware = {};
  Verdict v = decide_bottleneck(f);
  CHECK(v.bottleneck == "CpuBound");
  CHECK_FALSE(has(v, "cycles_per_instruction"));
}
