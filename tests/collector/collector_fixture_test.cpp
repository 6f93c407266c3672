// Fixture tests of the Linux backend: three machines written from the kernel's documented
// formats (a server with cpufreq, coretemp, PSI, cgroup v2 and an AMD GPU; a laptop with
// thermal zones, cgroup v1 and an Intel GPU; a bare VM), each read at two snapshots one
// (fake) second apart so that every rate and percentage is checked against a hand computation.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>

#include "collector/linux/process_reader.hpp"
#include "fixture_root.hpp"
#include "memscope/collector.hpp"

using memscope::CollectorOptions;
using memscope::PlatformMetrics;
using memscope::PlatformResourceCollector;
using memscope::testing::fixture_options;
using memscope::testing::FixtureRoot;

namespace {

// The collector reads t0 as its baseline when built; its first sample then reads t1.
struct Sampled {
  std::unique_ptr<PlatformResourceCollector> collector;
  PlatformMetrics m;
};
Sampled two_snapshots(FixtureRoot& root, pid_t pid) {
  auto collector = std::make_unique<PlatformResourceCollector>(fixture_options(root, pid));
  root.advance();
  PlatformMetrics m = collector->collect_metrics();
  return {std::move(collector), std::move(m)};
}

const memscope::ThreadResourceMetrics* thread(const PlatformMetrics& m, int tid) {
  auto it = std::find_if(m.threads.begin(), m.threads.end(),
                         [tid](const auto& t) { return t.thread_id == tid; });
  return it == m.threads.end() ? nullptr : &*it;
}

// The server's /proc/1234/stat with `threads` threads (field 20).
std::string process_stat(int threads) {
  return "1234 (server app) S 1 1234 1234 0 -1 4194304 5000 0 7 0 150 50 0 0 20 0 " +
         std::to_string(threads) +
         " 0 100 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
}

// A collector on `root` whose clock advances 100 ms per reading (the baseline at 1.1 s), with
// the default slow period of 1 s.
std::unique_ptr<PlatformResourceCollector> ten_hz(const FixtureRoot& root) {
  CollectorOptions options = fixture_options(root, 1234);
  auto now = std::make_shared<uint64_t>(1'000'000'000);
  options.clock = [now] { return *now += 100'000'000; };
  return std::make_unique<PlatformResourceCollector>(options);
}

std::string status_with(int voluntary, int involuntary) {
  return "Name:\tworker (1)\nvoluntary_ctxt_switches:\t" + std::to_string(voluntary) +
         "\nnonvoluntary_ctxt_switches:\t" + std::to_string(involuntary) + "\n";
}

uint64_t ticks_ns(uint64_t ticks) {
  return ticks * (1'000'000'000ull / static_cast<uint64_t>(sysconf(_SC_CLK_TCK)));
}

}  // namespace

TEST_CASE("server: CPU split, per-core usage, counters and load from two /proc/stat snapshots") {
  FixtureRoot root("server");
  PlatformMetrics m = two_snapshots(root, 1234).m;
  CHECK(m.errors.empty());
  CHECK(m.interval_ns == 1'000'000'000u);
  // Deltas: user 200, system 100, idle 600, iowait 50, irq 25, softirq 25 of 1000 ticks.
  CHECK(m.cpu.overall_usage_percent == doctest::Approx(35.0));
  CHECK(m.cpu.user_percent == doctest::Approx(20.0));
  CHECK(m.cpu.system_percent == doctest::Approx(10.0));
  CHECK(m.cpu.iowait_percent == doctest::Approx(5.0));
  CHECK(m.cpu.irq_percent == doctest::Approx(5.0));
  CHECK(m.cpu.steal_percent == doctest::Approx(0.0));
  CHECK(m.cpu.idle_percent == doctest::Approx(60.0));
  // cpu1 went offline between the snapshots: its slot stays, empty.
  REQUIRE(m.cpu.per_core_usage.size() == 4);
  CHECK(m.cpu.per_core_usage[0] == doctest::Approx(100.0));
  CHECK_FALSE(m.cpu.per_core_usage[1].has_value());
  CHECK(m.cpu.per_core_usage[2] == doctest::Approx(20.0));
  CHECK(m.cpu.per_core_usage[3] == doctest::Approx(0.0));
  CHECK(m.cpu.online_cores == 3u);
  CHECK(m.cpu.context_switches_per_sec == doctest::Approx(2000.0));
  CHECK(m.cpu.interrupts_per_sec == doctest::Approx(1000.0));
  CHECK(m.cpu.procs_running == 5u);
  REQUIRE(m.cpu.load_average);
  CHECK((*m.cpu.load_average)[0] == doctest::Approx(1.5));
  CHECK((*m.cpu.load_average)[2] == doctest::Approx(0.9));
}

TEST_CASE("server: frequencies, labelled coretemp sensors and PSI from total deltas") {
  FixtureRoot root("server");
  auto [collector, m] = two_snapshots(root, 1234);
  REQUIRE(m.cpu.frequency_mhz.size() == 4);
  CHECK(m.cpu.frequency_mhz[0] == doctest::Approx(2400.0));
  CHECK(m.cpu.frequency_mhz[3] == doctest::Approx(2700.0));
  REQUIRE(m.cpu.temperature_celsius.size() == 2);
  CHECK(m.cpu.temperature_celsius[0].label == "coretemp/Package id 0");
  CHECK(m.cpu.temperature_celsius[0].celsius == doctest::Approx(45.0));
  CHECK(m.cpu.temperature_celsius[1].label == "coretemp/Core 0");
  CHECK(m.cpu.temperature_celsius[1].celsius == doctest::Approx(43.5));
  REQUIRE(m.cpu.psi_cpu);
  CHECK(m.cpu.psi_cpu->some_avg10 == doctest::Approx(2.5));
  CHECK(m.cpu.psi_cpu->some_total_us == 1'250'000u);
  CHECK(m.cpu.psi_cpu->some_percent == doctest::Approx(25.0));  // 250 ms stalled of 1 s
  CHECK(m.cpu.psi_cpu->full_percent == doctest::Approx(0.0));
  REQUIRE(m.cpu.psi_io);
  CHECK(m.cpu.psi_io->full_total_us == 40'000u);
  const auto& caps = collector->capabilities();
  CHECK(caps.cpufreq);
  CHECK(caps.hwmon);
  CHECK_FALSE(caps.thermal_zones);
  CHECK(caps.psi);
  CHECK(caps.cgroup_version == 2);
  CHECK(caps.schedstat);
  CHECK(caps.diskstats);
  CHECK(caps.net_dev);
  CHECK(caps.amd_gpu);
  CHECK_FALSE(caps.intel_gpu);
  CHECK_FALSE(caps.nvml);
}

TEST_CASE("server: whole disks only, interfaces without lo, process IO rates") {
  FixtureRoot root("server");
  PlatformMetrics m = two_snapshots(root, 1234).m;
  // sda1 is a partition, dm-0 is stacked on it, loop0 re-counts file IO: only sda counts.
  REQUIRE(m.io.disks.size() == 1);
  const auto& sda = m.io.disks[0];
  CHECK(sda.device == "sda");
  CHECK(sda.read_ops_per_sec == doctest::Approx(100.0));
  CHECK(sda.read_bytes_per_sec == doctest::Approx(2048.0 * 512));
  CHECK(sda.write_ops_per_sec == doctest::Approx(50.0));
  CHECK(sda.write_bytes_per_sec == doctest::Approx(4096.0 * 512));
  REQUIRE(m.io.networks.size() == 1);
  CHECK(m.io.networks[0].interface == "eth0");
  CHECK(m.io.networks[0].rx_bytes_per_sec == doctest::Approx(500000.0));
  CHECK(m.io.networks[0].rx_packets_per_sec == doctest::Approx(500.0));
  CHECK(m.io.networks[0].tx_bytes_per_sec == doctest::Approx(100000.0));
  CHECK(m.io.networks[0].tx_packets_per_sec == doctest::Approx(100.0));
  CHECK(m.io.process_read_bytes == 413696u);
  CHECK(m.io.process_write_bytes == 827392u);
  CHECK(m.io.process_read_bytes_per_sec == doctest::Approx(409600.0));
  CHECK(m.io.process_write_bytes_per_sec == doctest::Approx(819200.0));
  // (The worker has no io file, so the threads' own IO is unknown: /proc/<pid>/io is used.)
}

TEST_CASE("server: process memory and the cgroup v2 limits, tightest ancestor first") {
  FixtureRoot root("server");
  PlatformMetrics m = two_snapshots(root, 1234).m;
  // From statm (pages): the same counters as status's VmRSS 12288 kB and VmSize 102400 kB.
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  CHECK(m.memory.process_rss_bytes == 3072u * page);
  CHECK(m.memory.process_virtual_bytes == 25600u * page);
  CHECK(m.memory.process_minor_faults == 5000u);
  CHECK(m.memory.process_major_faults == 7u);
  CHECK(m.memory.machine_total_bytes == 16384000ull * 1024);
  CHECK(m.memory.machine_available_bytes == 8192000ull * 1024);
  CHECK(m.cgroup.version == 2);
  CHECK(m.cgroup.path == "/app.slice/svc");
  CHECK(m.cgroup.cpu_quota_cores == doctest::Approx(2.0));  // svc: 2 cores, app.slice: 4
  CHECK(m.cgroup.cpu_periods == 500u);
  CHECK(m.cgroup.cpu_throttled_periods == 20u);
  CHECK(m.cgroup.cpu_throttled_usec == 123456u);
  CHECK(m.cgroup.memory_limit_bytes == 1073741824u);  // app.slice: max
  CHECK(m.cgroup.memory_usage_bytes == 52428800u);
}

TEST_CASE("server: threads with tick conversion, schedstat CPU %, names with parentheses") {
  FixtureRoot root("server");
  PlatformMetrics m = two_snapshots(root, 1234).m;
  CHECK(m.thread_count == 3u);
  REQUIRE(m.threads.size() == 3);
  const auto* main_thread = thread(m, 1234);
  REQUIRE(main_thread);
  CHECK(main_thread->thread_name == "server app");
  CHECK(main_thread->cpu_time_user_ns == ticks_ns(150));
  CHECK(main_thread->cpu_time_kernel_ns == ticks_ns(40));
  CHECK(main_thread->cpu_time_total_ns == 1'800'000'000u);
  CHECK(main_thread->cpu_usage_percent == doctest::Approx(50.0));  // 500 ms of 1 s
  CHECK(main_thread->run_queue_wait_ns == 6'000'000u);
  CHECK(main_thread->voluntary_context_switches == 10u);
  CHECK(main_thread->involuntary_context_switches == 2u);
  CHECK(main_thread->io_read_bytes == 4096u);
  CHECK(main_thread->io_write_bytes == 0u);
  CHECK_FALSE(main_thread->live_heap_bytes.has_value());
  const auto* worker = thread(m, 1240);
  REQUIRE(worker);
  CHECK(worker->thread_name == "worker (1)");
  CHECK(worker->cpu_usage_percent == doctest::Approx(75.0));
  CHECK(worker->involuntary_context_switches == 40u);
  CHECK_FALSE(worker->io_read_bytes.has_value());  // no io file: absent, not 0
  const auto* late = thread(m, 1250);              // born between the snapshots
  REQUIRE(late);
  CHECK(late->cpu_usage_percent == doctest::Approx(10.0));
}

TEST_CASE("server: amdgpu sysfs, connectors skipped") {
  FixtureRoot root("server");
  PlatformMetrics m = two_snapshots(root, 1234).m;
  REQUIRE(m.gpu);
  REQUIRE(m.gpu->size() == 1);
  const auto& gpu = m.gpu->front();
  CHECK(gpu.vendor == memscope::GpuVendor::kAmd);
  CHECK(gpu.device_name == "AMD Radeon RX 7600");
  CHECK(gpu.compute_usage_percent == doctest::Approx(37.0));
  CHECK(gpu.memory_used_bytes == 2147483648u);
  CHECK(gpu.memory_total_bytes == 8589934592u);
  CHECK(gpu.memory_usage_percent == doctest::Approx(25.0));
  CHECK(gpu.temperature_celsius == doctest::Approx(52.0));
  CHECK(gpu.power_usage_watts == doctest::Approx(45.0));
  CHECK(gpu.frequency_mhz == doctest::Approx(1800.0));
  CHECK(gpu.processes.empty());
}

TEST_CASE("laptop: cpuinfo frequencies, thermal zones, cgroup v1, Intel busyness from RC6") {
  FixtureRoot root("laptop");
  auto [collector, m] = two_snapshots(root, 4321);
  CHECK(m.errors.empty());
  CHECK(m.cpu.overall_usage_percent == doctest::Approx(50.0));
  REQUIRE(m.cpu.frequency_mhz.size() == 2);
  CHECK(m.cpu.frequency_mhz[0] == doctest::Approx(1800.0));
  CHECK(m.cpu.frequency_mhz[1] == doctest::Approx(2100.5));
  REQUIRE(m.cpu.temperature_celsius.size() == 2);
  CHECK(m.cpu.temperature_celsius[0].label == "thermal/x86_pkg_temp");
  CHECK(m.cpu.temperature_celsius[0].celsius == doctest::Approx(55.0));
  CHECK(m.cpu.temperature_celsius[1].label == "thermal/acpitz");
  CHECK_FALSE(m.cpu.psi_cpu.has_value());
  CHECK(m.cgroup.version == 1);
  CHECK(m.cgroup.cpu_quota_cores == doctest::Approx(1.5));
  CHECK(m.cgroup.cpu_throttled_periods == 5u);
  CHECK(m.cgroup.cpu_throttled_usec == 2500u);
  CHECK_FALSE(m.cgroup.memory_limit_bytes.has_value());  // v1's LONG_MAX means no limit
  CHECK(m.cgroup.memory_usage_bytes == 104857600u);
  CHECK_FALSE(m.io.process_read_bytes.has_value());
  REQUIRE(m.gpu);
  REQUIRE(m.gpu->size() == 1);
  const auto& gpu = m.gpu->front();
  CHECK(gpu.vendor == memscope::GpuVendor::kIntel);
  CHECK(gpu.frequency_mhz == doctest::Approx(1100.0));
  CHECK(gpu.compute_usage_percent == doctest::Approx(30.0));  // idle 700 ms of 1 s
  CHECK_FALSE(gpu.memory_total_bytes.has_value());
  CHECK_FALSE(gpu.temperature_celsius.has_value());
  const auto& caps = collector->capabilities();
  CHECK(caps.cpuinfo_frequency);
  CHECK_FALSE(caps.cpufreq);
  CHECK(caps.thermal_zones);
  CHECK(caps.cgroup_version == 1);
  CHECK(caps.intel_gpu);
}

TEST_CASE("vm: every source the machine lacks is absent, never zero") {
  FixtureRoot root("vm");
  auto [collector, m] = two_snapshots(root, 99);
  CHECK(m.errors.empty());
  CHECK(m.cpu.overall_usage_percent == doctest::Approx(10.0));
  CHECK(m.cpu.frequency_mhz.empty());
  CHECK(m.cpu.temperature_celsius.empty());
  CHECK_FALSE(m.cpu.psi_cpu.has_value());
  CHECK_FALSE(m.cpu.psi_memory.has_value());
  CHECK_FALSE(m.gpu.has_value());
  CHECK(m.io.disks.empty());
  CHECK(m.io.networks.empty());
  CHECK_FALSE(m.io.process_read_bytes.has_value());
  CHECK(m.cgroup.version == 0);
  CHECK_FALSE(m.cgroup.cpu_quota_cores.has_value());
  REQUIRE(m.threads.size() == 1);
  CHECK(m.threads[0].thread_name == "tiny");
  CHECK_FALSE(m.threads[0].run_queue_wait_ns.has_value());
  CHECK_FALSE(m.threads[0].voluntary_context_switches.has_value());
  const auto& caps = collector->capabilities();
  CHECK_FALSE(caps.psi);
  CHECK_FALSE(caps.hwmon);
  CHECK_FALSE(caps.thermal_zones);
  CHECK_FALSE(caps.schedstat);
  CHECK_FALSE(caps.amd_gpu);
  CHECK(caps.cgroup_version == 0);
}

TEST_CASE("parse errors name the file and the line; the rest of the sample survives") {
  FixtureRoot root("vm");
  root.write("proc/stat", "cpu  1 2 3 4 0 0 0 0 0 0\ncpu0 1 x 3 4\nctxt 5\n");
  root.write("proc/loadavg", "high\n");
  PlatformResourceCollector collector(fixture_options(root, 99));
  PlatformMetrics m = collector.collect_metrics();
  auto has = [&](const std::string& what) {
    return std::any_of(m.errors.begin(), m.errors.end(),
                       [&](const std::string& e) { return e.find(what) != std::string::npos; });
  };
  CHECK(has("proc/stat:2: bad cpu line"));
  CHECK(has("proc/loadavg:1:"));
  CHECK(m.memory.process_rss_bytes == 400u * 1024);
}

TEST_CASE("a thread that ends is no longer listed") {
  FixtureRoot root("server");
  PlatformResourceCollector collector(fixture_options(root, 1234));
  // As in /proc, the thread's directory goes (its kept-open files would still read here) and
  // the process's thread count drops: the count that no longer matches makes the collector
  // list the task directory again.
  root.end_thread(1234, 1240);
  root.write("proc/1234/stat", process_stat(1));
  PlatformMetrics m = collector.collect_metrics();
  CHECK(thread(m, 1240) == nullptr);  // the thread ended
  CHECK(thread(m, 1234) != nullptr);
}

TEST_CASE("status and io of a running thread are read at most once per slow period") {
  FixtureRoot root("server");
  auto collector = ten_hz(root);  // baseline at 1.1 s: both threads' status and io read
  const std::string worker = "proc/1234/task/1240/";
  // The worker runs in every interval (schedstat moves) and its switch counts move too; the
  // main thread does not run (its schedstat stays), so its counters cannot move.
  uint64_t run = 700'000'000;
  std::vector<uint64_t> involuntary;
  for (int i = 1; i <= 12; ++i) {  // samples at 1.2 ... 2.3 s
    run += 50'000'000;
    root.write(worker + "schedstat", std::to_string(run) + " 1000000 " + std::to_string(50 + i));
    root.write(worker + "status", status_with(3, 40 + i));
    PlatformMetrics m = collector->collect_metrics();
    const auto* w = thread(m, 1240);
    REQUIRE(w);
    CHECK(w->cpu_time_total_ns == run);  // schedstat and stat: every sample
    involuntary.push_back(w->involuntary_context_switches.value_or(0));
    if (i == 12) {
      const auto* main_thread = thread(m, 1234);
      REQUIRE(main_thread);
      CHECK(main_thread->involuntary_context_switches == 2u);  // exact: it has not run
    }
  }
  // Tid 1240 is read one full period after its first reading (tid % 10 = 0 sets its phase):
  // kept at the baseline's 40 until 2.1 s (sample 10), then the status of that moment.
  std::vector<uint64_t> expected = {40, 40, 40, 40, 40, 40, 40, 40, 40, 50, 50, 50};
  CHECK(involuntary == expected);
}

TEST_CASE("a running thread's io is read when the process's storage IO moved") {
  FixtureRoot root("server");
  auto collector = ten_hz(root);  // baseline: the main thread read 4096 bytes, the process too
  const std::string main_thread = "proc/1234/task/1234/";
  auto io = [](uint64_t read_bytes) {
    return "read_bytes: " + std::to_string(read_bytes) + "\nwrite_bytes: 8192\n";
  };
  auto sample = [&](uint64_t run, uint64_t process_read, uint64_t thread_read) {
    root.write(main_thread + "schedstat", std::to_string(run) + " 5000000 100\n");
    root.write("proc/1234/io", io(process_read));
    root.write(main_thread + "io", io(thread_read));
    return thread(collector->collect_metrics(), 1234)->io_read_bytes.value_or(0);
  };
  // The process's counters stood still: no thread's can have moved, the file is not read (this
  // fixture's thread file says otherwise, which the kernel never would).
  CHECK(sample(1'400'000'000, 4096, 8192) == 4096u);
  // They moved, and the thread ran since its last reading: read.
  CHECK(sample(1'500'000'000, 8192, 8192) == 8192u);
  // They moved, but this thread has not run since: its counters are exact as kept.
  CHECK(sample(1'500'000'000, 12288, 12288) == 8192u);
  // It ran again while the process read more: read.
  CHECK(sample(1'600'000'000, 16384, 12288) == 12288u);
}

TEST_CASE("a thread that stopped running has status read at its next due time") {
  FixtureRoot root("server");
  auto collector = ten_hz(root);
  const std::string worker = "proc/1234/task/1240/";
  root.write(worker + "schedstat", "750000000 1000000 51\n");  // ran in the first interval
  root.write(worker + "status", status_with(4, 47));           // and switched (kept: not due)
  CHECK(thread(collector->collect_metrics(), 1240)->involuntary_context_switches == 40u);
  // From then on it sleeps: schedstat stays. Its counters are read once, at 2.1 s, and then
  // stay exact without further reads (a later change of the file would not be seen).
  std::vector<uint64_t> seen;
  for (int i = 2; i <= 12; ++i) {
    if (i == 11) root.write(worker + "status", status_with(4, 99));
    seen.push_back(*thread(collector->collect_metrics(), 1240)->involuntary_context_switches);
  }
  std::vector<uint64_t> expected = {40, 40, 40, 40, 40, 40, 40, 40, 47, 47, 47};
  CHECK(seen == expected);
}

TEST_CASE("the task directory is listed again only when the thread count changes") {
  FixtureRoot root("server");
  auto collector = ten_hz(root);
  // A thread appears; until stat's thread count says so, the known threads are read.
  root.write("proc/1234/task/1260/stat",
             "1260 (late) S 1 1234 1234 0 -1 4194368 0 0 0 0 1 0 0 0 20 0 3 0 120 0 0\n");
  root.write("proc/1234/task/1260/schedstat", "10000000 0 1\n");
  PlatformMetrics m = collector->collect_metrics();
  CHECK(m.threads.size() == 2);
  CHECK(thread(m, 1260) == nullptr);
  root.write("proc/1234/stat", process_stat(3));
  m = collector->collect_metrics();
  CHECK(m.thread_count == 3u);
  REQUIRE(m.threads.size() == 3);
  REQUIRE(thread(m, 1260) != nullptr);
  CHECK(thread(m, 1260)->thread_name == "late");
  // A thread whose files stop reading makes the collector list the directory too.
  root.end_thread(1234, 1260);
  root.write("proc/1234/task/1270/stat",
             "1270 (later) S 1 1234 1234 0 -1 4194368 0 0 0 0 1 0 0 0 20 0 3 0 130 0 0\n");
  m = collector->collect_metrics();
  CHECK(thread(m, 1260) != nullptr);  // a fixture file stays readable while kept open
  CHECK(thread(m, 1270) == nullptr);  // count unchanged (3): not listed
}

TEST_CASE("cgroup limits are read at most once per slow period; usage every sample") {
  FixtureRoot root("server");
  auto collector = ten_hz(root);  // baseline at 1.1 s reads the limits: svc's 2 cores
  root.write("sys/fs/cgroup/app.slice/svc/cpu.max", "max 100000\n");
  root.write("sys/fs/cgroup/app.slice/svc/memory.current", "60000000\n");
  std::vector<double> quota;
  for (int i = 1; i <= 10; ++i) {  // 1.2 ... 2.1 s
    PlatformMetrics m = collector->collect_metrics();
    CHECK(m.cgroup.memory_usage_bytes == 60000000u);
    quota.push_back(m.cgroup.cpu_quota_cores.value_or(0));
  }
  // Kept until a period after the baseline (2.1 s), then app.slice's 4 cores apply.
  std::vector<double> expected = {2, 2, 2, 2, 2, 2, 2, 2, 2, 4};
  CHECK(quota == expected);
}

TEST_CASE("stat lines: the name ends at the last ')', fields by number, bad lines refused") {
  memscope::collector::ProcStat st;
  REQUIRE(memscope::collector::parse_proc_stat(
      "77 (a) b (c)) R 1 77 77 0 -1 4194304 11 0 12 0 13 14 0 0 20 0 65 0 100 4096 2\n", st));
  CHECK(st.comm == "a) b (c)");
  CHECK(st.minflt == 11u);
  CHECK(st.majflt == 12u);
  CHECK(st.utime == 13u);
  CHECK(st.stime == 14u);
  CHECK(st.num_threads == 65u);
  CHECK(st.vsize == 4096u);
  CHECK(memscope::collector::parse_proc_stat(
      "1 (x) S 1 1 1 0 -1 0 18446744073709551615 0 0 0 0 0 0 0 20 0 1 0 0 0 0", st));
  CHECK(st.minflt == 18446744073709551615u);
  using memscope::collector::parse_proc_stat;
  CHECK_FALSE(parse_proc_stat("1 (x) S 1 1 1 0 -1 0 5 0 7 0 1 2 0 0 20 0 1 0 0\n", st));  // short
  CHECK_FALSE(parse_proc_stat("1 (x) S 1 1 1 0 -1 0 5x 0 7 0 1 2 0 0 20 0 1 0 0 9 0", st));
  CHECK_FALSE(
      parse_proc_stat("1 (x) S 1 1 1 0 -1 0 18446744073709551616 0 0 0 0 0 0 0 20 0 1 0 "
                      "0 0 0",
                      st));  // overflows
  CHECK_FALSE(parse_proc_stat("1 x S 1", st));
}

TEST_CASE("the process's storage IO is its own threads', not that of the children it reaped") {
  FixtureRoot root("server");
  const std::string task = "proc/1234/task/";
  auto io = [](uint64_t read_bytes, uint64_t write_bytes) {
    return "read_bytes: " + std::to_string(read_bytes) +
           "\nwrite_bytes: " + std::to_string(write_bytes) + "\n";
  };
  root.write(task + "1240/io", io(0, 8192));  // the main thread's file says 4096 read, 0 written
  auto collector = ten_hz(root);              // baseline: the threads' sum is 4096 + 8192
  // Both threads run and write 4096 bytes each; meanwhile a reaped child's 50 MB land in the
  // process's file (as the kernel adds them at wait()), which the threads' files never see.
  root.write(task + "1234/schedstat", "1400000000 5000000 101\n");
  root.write(task + "1240/schedstat", "800000000 1000000 51\n");
  root.write(task + "1234/io", io(4096, 4096));
  root.write(task + "1240/io", io(0, 12288));
  root.write("proc/1234/io", io(4096, 50'000'000));
  PlatformMetrics m = collector->collect_metrics();  // 100 ms later
  CHECK(m.io.process_read_bytes == 4096u);
  CHECK(m.io.process_write_bytes == 16384u);
  CHECK(m.io.process_read_bytes_per_sec == doctest::Approx(0.0));
  CHECK(m.io.process_write_bytes_per_sec == doctest::Approx(81920.0));  // 8192 B in 0.1 s
  // Per thread, the page faults of its stat line.
  const auto* main_thread = thread(m, 1234);
  REQUIRE(main_thread);
  CHECK(main_thread->minor_faults == 4000u);
  CHECK(main_thread->major_faults == 5u);
}
