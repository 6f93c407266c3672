// The C++ API tour: what the collector finds on this machine, ten metric samples at its own
// interval, a profiled workload (matrix multiplication, memory churn, file IO) with its
// analysis, then a 4-worker run with the thread performance ranking. Every figure printed is
// measured; what the machine cannot give is printed as "n/a".
#include <pthread.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "memscope/memscope.hpp"

namespace {

std::string show(const std::optional<double>& v, const char* unit) {
  if (!v) return "n/a";
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.1f%s", *v, unit);
  return buf;
}

void print_capabilities(const memscope::CollectorCapabilities& c) {
  std::printf("platform capabilities:\n");
  std::printf("  /proc/stat %s, cpufreq %s, thermal zones %s, hwmon %s, PSI %s, schedstat %s\n",
              c.proc_stat ? "yes" : "no", c.cpufreq ? "yes" : "no", c.thermal_zones ? "yes" : "no",
              c.hwmon ? "yes" : "no", c.psi ? "yes" : "no", c.schedstat ? "yes" : "no");
  std::printf("  cgroup v%u, disk stats %s, network stats %s, process IO %s\n", c.cgroup_version,
              c.diskstats ? "yes" : "no", c.net_dev ? "yes" : "no", c.process_io ? "yes" : "no");
  std::printf("  GPU: NVIDIA %s, AMD %s, Intel %s\n", c.nvml ? "yes" : "no",
              c.amd_gpu ? "yes" : "no", c.intel_gpu ? "yes" : "no");
  if (!c.nvml_status.empty()) std::printf("    NVML: %s\n", c.nvml_status.c_str());
}

void print_samples(memscope::PlatformResourceCollector& collector, int count) {
  std::printf("\n%d samples at the collector's interval:\n", count);
  for (int i = 0; i < count; ++i) {
    std::this_thread::sleep_for(collector.get_optimal_collection_interval());
    memscope::PlatformMetrics m = collector.collect_metrics();
    double rss_mib = m.memory.process_rss_bytes
                         ? static_cast<double>(*m.memory.process_rss_bytes) / (1 << 20)
                         : -1;
    std::printf("  #%d  cpu %s  ctx switches %s/s  load %s  rss %s  gpus %zu\n", i + 1,
                show(m.cpu.overall_usage_percent, "%").c_str(),
                show(m.cpu.context_switches_per_sec, "").c_str(),
                m.cpu.load_average ? show((*m.cpu.load_average)[0], "").c_str() : "n/a",
                rss_mib >= 0 ? show(rss_mib, " MiB").c_str() : "n/a",
                m.gpu ? m.gpu->size() : size_t{0});
  }
}

double multiply_matrices(size_t n) {
  std::vector<double> a(n * n, 1.5), b(n * n, 2.0), c(n * n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < n; ++k)
      for (size_t j = 0; j < n; ++j) c[i * n + j] += a[i * n + k] * b[k * n + j];
  return c[n + 1];
}

size_t churn_memory(int rounds) {
  size_t total = 0;
  for (int i = 0; i < rounds; ++i) {
    auto block = std::make_unique<std::string>(static_cast<size_t>(16 + i % 512), 'x');
    total += block->size();
  }
  return total;
}

size_t write_file(const std::filesystem::path& path, int blocks) {
  std::ofstream out(path, std::ios::binary);
  std::vector<char> block(1 << 16, 'y');
  for (int i = 0; i < blocks; ++i)
    out.write(block.data(), static_cast<std::streamsize>(block.size()));
  out.close();
  size_t bytes = std::filesystem::file_size(path);
  std::filesystem::remove(path);
  return bytes;
}

void print_analysis(const memscope::ProfileAnalysis& a) {
  const auto& s = a.summary;
  std::printf(
      "  %llu allocations, %llu frees, %llu bytes allocated, peak %llu bytes, leaked %llu "
      "bytes in %llu blocks, %llu threads\n",
      (unsigned long long)s.total_allocations, (unsigned long long)s.total_frees,
      (unsigned long long)s.total_allocated_bytes, (unsigned long long)s.peak_heap_bytes,
      (unsigned long long)s.leaked_bytes, (unsigned long long)s.leaked_allocations,
      (unsigned long long)s.threads);
  const auto& in = a.performance_insights;
  std::printf("  primary bottleneck: %s\n", in.primary_bottleneck
                                                ? memscope::to_string(*in.primary_bottleneck)
                                                : "undecided (too few metric samples)");
  for (const auto& e : in.evidence)
    std::printf("    %s%s = %.3g (threshold %.3g%s)\n", e.caveat ? "caution, memscope's own: " : "",
                e.name.c_str(), e.value, e.threshold, e.met ? ", met" : "");
  std::printf("  efficiency: cpu %s, memory %s, io %s\n", show(in.cpu_efficiency_score, "").c_str(),
              show(in.memory_efficiency_score, "").c_str(),
              show(in.io_efficiency_score, "").c_str());
  for (const auto& r : in.recommendations) std::printf("  recommendation: %s\n", r.message.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path out = argc > 1 ? argv[1] : "memscope-api-demo";
  memscope::PlatformResourceCollector collector;
  print_capabilities(collector.capabilities());
  print_samples(collector, 10);

  std::printf("\nprofiling a workload (matrix multiplication, memory churn, file IO):\n");
  auto [checksum, analysis] = memscope::comprehensive_profile_execution(out, [&] {
    double m = multiply_matrices(220);
    size_t churned = churn_memory(300000);
    size_t written = write_file(out / "scratch.bin", 256);
    return m + static_cast<double>(churned + written);
  });
  std::printf("  workload checksum %.1f\n", checksum);
  print_analysis(analysis);
  std::printf("  JSON: %s\n", analysis.write_json().c_str());

  std::printf("\n4 workers:\n");
  memscope::IntegratedProfilingSession session{out};
  session.start_profiling();
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([w] {
      std::string name = "worker-" + std::to_string(w);
      pthread_setname_np(pthread_self(), name.c_str());
      volatile double sink = multiply_matrices(120 + 40 * static_cast<size_t>(w));
      sink = sink + static_cast<double>(churn_memory(50000 * (w + 1)));
    });
  for (auto& t : workers) t.join();
  memscope::ProfileAnalysis threads = session.stop_profiling_and_analyze();
  print_analysis(threads);
  std::printf("  thread performance ranking:\n");
  for (const auto& t : threads.performance_insights.thread_performance_ranking)
    std::printf("    %-10s tid %llu: efficiency %.1f, cpu %.1f%%, %llu allocations\n",
                t.thread_name.c_str(), (unsigned long long)t.thread_id, t.efficiency_score,
                t.cpu_percent, (unsigned long long)t.allocations);
  return 0;
}
