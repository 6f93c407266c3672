// Fixture tests of the Linux backend: three machines written from the kernel's documented
// formats (a server with cpufreq, coretemp, PSI, cgroup v2 and an AMD GPU; a laptop with
// thermal zones, cgroup v1 and an Intel GPU; a bare VM), each read at two snapshots one
// (fake) second apart so that every rate and percentage is checked against a hand computation.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>

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
}

TEST_CASE("server: process memory and the cgroup v2 limits, tightest ancestor first") {
  FixtureRoot root("server");
  PlatformMetrics m = two_snapshots(root, 1234).m;
  CHECK(m.memory.process_rss_bytes == 12288u * 1024);
  CHECK(m.memory.process_virtual_bytes == 102400u * 1024);
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
  // As in /proc, the thread's directory goes (its kept-open files would still read here).
  std::filesystem::remove_all(root.path() + "/proc/1234/task/1240");
  PlatformMetrics m = collector.collect_metrics();
  CHECK(thread(m, 1240) == nullptr);  // the thread ended
  CHECK(thread(m, 1234) != nullptr);
}
