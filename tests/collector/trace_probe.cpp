// collector_trace_probe TRACE...: reads traces with the analyzer library and prints what the
// metric samples hold as key=value lines, for scripts (bench/collector_cost, scripts/gpu-check)
// that must not depend on memscope-analyze's report layout.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "analyzer/session.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: collector_trace_probe TRACE_FILE_OR_DIR...\n");
    return 2;
  }
  auto session = memscope::analyzer::analyze(std::vector<std::string>(argv + 1, argv + argc));
  for (const auto& error : session.errors) std::fprintf(stderr, "error: %s\n", error.c_str());
  uint64_t samples = 0, undecodable = 0, gpu_samples = 0, max_threads = 0;
  double gpu_util_max = -1, gpu_temp_max = -1, gpu_power_max = -1;
  long long gpu_mem_used_max = -1;
  std::string gpu_name;
  for (const auto& process : session.processes) {
    const auto& analysis = *process->analysis;
    samples += analysis.metric_samples().size();
    undecodable += analysis.undecodable_samples();
    for (const auto& m : analysis.metric_samples()) {
      max_threads = std::max<uint64_t>(max_threads, m.threads.size());
      if (!m.gpu) continue;
      ++gpu_samples;
      for (const auto& g : *m.gpu) {
        if (gpu_name.empty()) gpu_name = g.device_name;
        gpu_util_max = std::max(gpu_util_max, g.compute_usage_percent.value_or(-1));
        gpu_temp_max = std::max(gpu_temp_max, g.temperature_celsius.value_or(-1));
        gpu_power_max = std::max(gpu_power_max, g.power_usage_watts.value_or(-1));
        if (g.memory_used_bytes) {
          gpu_mem_used_max =
              std::max(gpu_mem_used_max, static_cast<long long>(*g.memory_used_bytes));
        }
      }
    }
  }
  std::printf("processes=%zu\nsamples=%llu\nundecodable=%llu\nmax_threads=%llu\n",
              session.processes.size(), static_cast<unsigned long long>(samples),
              static_cast<unsigned long long>(undecodable),
              static_cast<unsigned long long>(max_threads));
  std::printf("gpu_samples=%llu\n", static_cast<unsigned long long>(gpu_samples));
  // -1: never present in any sample (not measured), never a stand-in value.
  std::printf("gpu_name=%s\ngpu_util_max=%.1f\ngpu_mem_used_max=%lld\n", gpu_name.c_str(),
              gpu_util_max, gpu_mem_used_max);
  std::printf("gpu_temp_max=%.1f\ngpu_power_max=%.1f\n", gpu_temp_max, gpu_power_max);
  return session.errors.empty() ? 0 : 1;
}
