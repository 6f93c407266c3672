// The NVML source through dlopen: a fake library with one device, a missing library (this
// machine has no NVIDIA driver) that must be reported cleanly, and the real default name.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "fixture_root.hpp"
#include "memscope/collector.hpp"

using memscope::PlatformResourceCollector;
using memscope::testing::fixture_options;
using memscope::testing::FixtureRoot;

TEST_CASE("NVML through dlopen: a fake library's device is read in full") {
  FixtureRoot root("vm");
  auto options = fixture_options(root, 99);
  options.nvml_library = MEMSCOPE_FAKE_NVML;
  PlatformResourceCollector collector(options);
  CHECK(collector.capabilities().nvml);
  CHECK(collector.capabilities().nvml_status == "ok");
  auto m = collector.collect_metrics();
  REQUIRE(m.gpu);
  REQUIRE(m.gpu->size() == 1);
  const auto& gpu = m.gpu->front();
  CHECK(gpu.vendor == memscope::GpuVendor::kNvidia);
  CHECK(gpu.device_name == "NVIDIA H100 80GB HBM3");
  CHECK(gpu.compute_usage_percent == doctest::Approx(87.0));
  CHECK(gpu.memory_used_bytes == 20ull << 30);
  CHECK(gpu.memory_total_bytes == 80ull << 30);
  CHECK(gpu.memory_usage_percent == doctest::Approx(25.0));
  CHECK(gpu.temperature_celsius == doctest::Approx(61.0));
  CHECK(gpu.power_usage_watts == doctest::Approx(312.5));
  CHECK(gpu.frequency_mhz == doctest::Approx(1755.0));
  REQUIRE(gpu.processes.size() == 2);  // the first buffer was too small: grown and retried
  CHECK(gpu.processes[0].pid == 4242u);
  CHECK(gpu.processes[0].used_bytes == 1ull << 30);
  CHECK_FALSE(gpu.processes[1].used_bytes.has_value());
}

TEST_CASE("no NVML library: no GPU section, a reason, and no crash") {
  FixtureRoot root("vm");
  PlatformResourceCollector collector(fixture_options(root, 99));
  CHECK_FALSE(collector.capabilities().nvml);
  CHECK(collector.capabilities().nvml_status.find("libnvidia-ml") != std::string::npos);
  CHECK_FALSE(collector.collect_metrics().gpu.has_value());
}

TEST_CASE("the real libnvidia-ml.so.1 name: present or cleanly reported absent") {
  memscope::CollectorOptions options;
  options.per_thread = false;
  PlatformResourceCollector collector(options);
  const auto& caps = collector.capabilities();
  if (caps.nvml) {
    CHECK(caps.nvml_status == "ok");
  } else {
    MESSAGE("NVML unavailable: " << caps.nvml_status);
    CHECK_FALSE(caps.nvml_status.empty());
  }
}

TEST_CASE("GPU sampling can be switched off") {
  FixtureRoot root("server");
  auto options = fixture_options(root, 1234);
  options.gpu = false;
  PlatformResourceCollector collector(options);
  CHECK_FALSE(collector.capabilities().amd_gpu);
  CHECK_FALSE(collector.collect_metrics().gpu.has_value());
}
