// The collector's cost benchmark target (bench/collector_cost runs it): THREADS (default 64)
// threads spin for SECONDS while the sampling cost is measured in one of two ways.
//   bench_collector_cost busy SECONDS [THREADS]
//     only spins; run under memscope-run. Before exiting it prints the CPU time of the agent's
//     sidecar thread (named "memscope") from its schedstat, in nanoseconds, so a run with
//     sampling and one without give the sampling's CPU by difference.
//   bench_collector_cost inprocess SECONDS [THREADS] [HZ]
//     samples this process itself with PlatformResourceCollector at exactly HZ (default 10,
//     the adaptive interval is not used) and encodes each sample as the sidecar does (a key
//     sample every KEY_EVERY, default 5 = one chunk per 500 ms), timing collect + encode with
//     CLOCK_THREAD_CPUTIME_ID.
#include <dirent.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "format/metric_sample.hpp"
#include "memscope/collector.hpp"

namespace {

std::atomic<bool> g_stop{false};

void spin() {
  volatile uint64_t sink = 0;
  while (!g_stop.load(std::memory_order_relaxed)) sink = sink + 1;
}

uint64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The sidecar's run time in ns from /proc/self/task/<tid>/schedstat (nanoseconds, unlike the
// 10 ms ticks of stat); -1 when no thread is named "memscope".
long long sidecar_cpu_ns() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  long long result = -1;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::string task = std::string("/proc/self/task/") + entry->d_name;
    std::string name;
    std::getline(std::ifstream(task + "/comm"), name);
    if (name != "memscope") continue;
    std::ifstream(task + "/schedstat") >> result;
  }
  closedir(dir);
  return result;
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_collector_cost busy SECONDS [THREADS]\n"
               "       bench_collector_cost inprocess SECONDS [THREADS] [HZ] [KEY_EVERY]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  std::string mode = argv[1];
  double seconds = std::atof(argv[2]);
  int threads = argc > 3 ? std::atoi(argv[3]) : 64;
  if (seconds <= 0 || threads < 0 || (mode != "busy" && mode != "inprocess")) return usage();

  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back(spin);
  auto start = std::chrono::steady_clock::now();
  auto end = start + std::chrono::duration<double>(seconds);

  if (mode == "busy") {
    std::this_thread::sleep_until(end);
    g_stop = true;
    for (auto& t : pool) t.join();
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("wall_s=%.3f\nsidecar_cpu_ns=%lld\n", wall, sidecar_cpu_ns());
    return 0;
  }

  double hz = argc > 4 ? std::atof(argv[4]) : 10.0;
  int key_every = argc > 5 ? std::atoi(argv[5]) : 5;
  if (hz <= 0 || key_every < 1) return usage();
  auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / hz));
  uint64_t cpu_ns = 0, encode_ns = 0, samples = 0, bytes = 0, key_bytes = 0, keys = 0;
  size_t max_threads = 0;
  {
    memscope::PlatformResourceCollector collector;
    memscope::format::MetricSampleEncoder encoder;
    memscope::PlatformMetrics metrics;
    std::vector<uint8_t> body;
    auto next = std::chrono::steady_clock::now() + period;
    while (next < end) {
      std::this_thread::sleep_until(next);
      next += period;
      if (samples % static_cast<uint64_t>(key_every) == 0) encoder.reset();
      uint64_t t0 = thread_cpu_ns();
      collector.collect_metrics(metrics);
      uint64_t t1 = thread_cpu_ns();
      body.clear();
      bool key = encoder.encode(metrics, body);
      uint64_t t2 = thread_cpu_ns();
      cpu_ns += t2 - t0;
      encode_ns += t2 - t1;
      bytes += body.size();
      if (key) key_bytes += body.size(), ++keys;
      max_threads = std::max(max_threads, metrics.threads.size());
      ++samples;
    }
  }
  g_stop = true;
  for (auto& t : pool) t.join();
  if (samples == 0) return 1;
  double per_sample_us = static_cast<double>(cpu_ns) / 1e3 / static_cast<double>(samples);
  std::printf("samples=%llu\nthreads_sampled=%zu\nhz=%.1f\n", (unsigned long long)samples,
              max_threads, hz);
  std::printf("cpu_per_sample_us=%.1f\nencode_per_sample_us=%.1f\n", per_sample_us,
              static_cast<double>(encode_ns) / 1e3 / static_cast<double>(samples));
  std::printf("cpu_percent_of_core=%.3f\n", per_sample_us * hz / 1e4);
  std::printf("bytes_per_sample=%.0f\nkey_bytes=%.0f\ndelta_bytes=%.0f\n",
              static_cast<double>(bytes) / static_cast<double>(samples),
              keys ? static_cast<double>(key_bytes) / static_cast<double>(keys) : 0.0,
              samples > keys
                  ? static_cast<double>(bytes - key_bytes) / static_cast<double>(samples - keys)
                  : 0.0);
  std::printf("mb_per_1000_samples_uncompressed=%.3f\n",
              static_cast<double>(bytes) / static_cast<double>(samples) / 1000.0);
  return 0;
}
