// The collector on this machine's real /proc and /sys, sampling this very test process.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "collector/linux/proc_file.hpp"
#include "memscope/collector.hpp"

using namespace std::chrono_literals;

namespace {

uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Spins until this thread has run for `cpu_ns` of CPU time, however busy the machine is.
void spin_cpu(uint64_t cpu_ns) {
  volatile uint64_t sink = 0;
  while (thread_cpu_ns() < cpu_ns) sink = sink + 1;
}

constexpr uint64_t kSpinCpuNs = 200'000'000;

}  // namespace

TEST_CASE("live: this process's RSS, threads by name, CPU deltas in the first sample") {
  memscope::PlatformResourceCollector collector;  // the baseline is read here
  std::atomic<bool> stop{false}, spun{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&stop, &spun, i] {
      if (i == 0) pthread_setname_np(pthread_self(), "ms-live-probe");
      if (i == 1) {
        spin_cpu(kSpinCpuNs);
        spun = true;
      }
      while (!stop) std::this_thread::sleep_for(1ms);
    });
  }
  std::this_thread::sleep_for(100ms);
  while (!spun) std::this_thread::sleep_for(1ms);
  memscope::PlatformMetrics m = collector.collect_metrics();
  stop = true;
  for (auto& t : threads) t.join();

  CHECK(m.errors.empty());
  REQUIRE(m.interval_ns);
  CHECK(*m.interval_ns >= 100'000'000u);
  REQUIRE(m.memory.process_rss_bytes);
  CHECK(*m.memory.process_rss_bytes > 0);
  CHECK(m.memory.machine_total_bytes > m.memory.machine_available_bytes);
  CHECK(m.thread_count >= 4u);
  CHECK(m.threads.size() >= 4);  // main + the 3 started here
  auto probe = std::find_if(m.threads.begin(), m.threads.end(),
                            [](const auto& t) { return t.thread_name == "ms-live-probe"; });
  CHECK(probe != m.threads.end());
  // The first sample already has CPU deltas against the baseline.
  REQUIRE(m.cpu.overall_usage_percent);
  CHECK(*m.cpu.overall_usage_percent > 0.0);
  CHECK(*m.cpu.overall_usage_percent <= 100.0);
  CHECK(m.cpu.online_cores >= 1u);
  CHECK(m.cpu.load_average.has_value());
  // One thread ran for 200 ms of CPU time since the baseline (on a busy machine the interval is
  // longer, so its share of the interval can be anything; its CPU time cannot).
  uint64_t busiest_ns = 0;
  double busiest_percent = 0;
  for (const auto& t : m.threads) {
    busiest_ns = std::max(busiest_ns, t.cpu_time_total_ns.value_or(0));
    busiest_percent = std::max(busiest_percent, t.cpu_usage_percent.value_or(0));
  }
  CHECK(busiest_ns >= kSpinCpuNs);
  CHECK(busiest_percent > 0.0);
  CHECK(collector.get_optimal_collection_interval() >= 100ms);
}

TEST_CASE("live: process IO counts this process's writes") {
  memscope::PlatformResourceCollector collector;
  auto before = collector.collect_metrics();
  if (!before.io.process_write_bytes) {
    MESSAGE("/proc/self/io is not readable here");
    return;
  }
  char path[] = "/tmp/memscope-collector-io-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::vector<char> block(1 << 20, 'x');
  for (int i = 0; i < 4; ++i) CHECK(write(fd, block.data(), block.size()) == ssize_t(block.size()));
  fsync(fd);
  close(fd);
  unlink(path);
  auto after = collector.collect_metrics();
  REQUIRE(after.io.process_write_bytes);
  // tmpfs writes never reach a block device; on a disk they count 4 MiB.
  CHECK(*after.io.process_write_bytes >= *before.io.process_write_bytes);
}

// procfs hands out whole records per read, so a multi-page seq_file (maps) comes back in reads
// shorter than the buffer: the reader must go on to the end of the file, not stop at the first.
TEST_CASE("live: read_file_once reads a multi-page /proc file whole") {
  std::vector<void*> regions;
  for (int i = 0; i < 200; ++i) {  // alternating protections: neighbours never merge
    int prot = i % 2 == 0 ? PROT_READ : PROT_READ | PROT_WRITE;
    void* p = mmap(nullptr, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    regions.push_back(p);
  }
  std::ifstream in("/proc/self/maps");
  std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  memscope::collector::ReadBuffer buffer;
  auto text = memscope::collector::read_file_once("/proc/self/maps", buffer);
  REQUIRE(text.has_value());
  CHECK(expected.size() > 3 * 4096);
  CHECK(std::string(*text) == expected);
  CHECK(text->find("[stack]") != std::string_view::npos);
  for (void* p : regions) munmap(p, 4096);
}
