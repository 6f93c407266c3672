// The adaptive interval rule: 100 ms by default, doubled for many threads, doubled again for
// very many, doubled when the machine (or the process's cgroup quota) is saturated, capped.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "memscope/collector.hpp"

using namespace std::chrono_literals;
using memscope::adaptive_interval;
using memscope::CollectorOptions;
using memscope::PlatformMetrics;

namespace {
PlatformMetrics idle_machine(uint32_t threads) {
  PlatformMetrics m;
  m.thread_count = threads;
  m.cpu.online_cores = 64;
  m.cpu.load_average = std::array<double, 3>{1.0, 1.0, 1.0};
  return m;
}
}  // namespace

TEST_CASE("default interval is 100 ms and follows the option") {
  CollectorOptions options;
  CHECK(adaptive_interval(idle_machine(4), options) == 100ms);
  options.interval = 250ms;
  CHECK(adaptive_interval(idle_machine(4), options) == 250ms);
}

TEST_CASE("many threads back off") {
  CollectorOptions options;
  CHECK(adaptive_interval(idle_machine(64), options) == 100ms);
  CHECK(adaptive_interval(idle_machine(65), options) == 200ms);
  CHECK(adaptive_interval(idle_machine(257), options) == 400ms);
}

TEST_CASE("saturation backs off: load, run queue, cgroup quota, CPU pressure") {
  CollectorOptions options;
  PlatformMetrics m = idle_machine(4);
  m.cpu.load_average = std::array<double, 3>{64.0, 1.0, 1.0};
  CHECK(adaptive_interval(m, options) == 200ms);
  m = idle_machine(4);
  m.cgroup.cpu_quota_cores = 2.0;  // load 1 of 2 usable cores: fine
  CHECK(adaptive_interval(m, options) == 100ms);
  m.cpu.load_average = std::array<double, 3>{2.5, 1.0, 1.0};  // 2.5 of 2 usable cores
  CHECK(adaptive_interval(m, options) == 200ms);
  m = idle_machine(4);
  m.cpu.procs_running = 65;
  CHECK(adaptive_interval(m, options) == 200ms);
  m = idle_machine(4);
  m.cpu.psi_cpu = memscope::PsiMetrics{};
  m.cpu.psi_cpu->some_percent = 50.0;
  CHECK(adaptive_interval(m, options) == 200ms);
}

TEST_CASE("the back-off is capped by max_interval") {
  CollectorOptions options;
  options.max_interval = 300ms;
  PlatformMetrics m = idle_machine(1000);
  m.cpu.load_average = std::array<double, 3>{100.0, 1.0, 1.0};
  CHECK(adaptive_interval(m, options) == 300ms);
}
