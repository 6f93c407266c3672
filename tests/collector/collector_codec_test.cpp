// The metric sample body codec: exact round trips (doubles with up to 3 decimals survive the
// fixed-point encoding exactly), compactness, and garbage that must be refused without crashing.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "format/metric_sample.hpp"
#include "memscope/collector.hpp"

using memscope::PlatformMetrics;
using memscope::format::decode_metric_sample;
using memscope::format::encode_metric_sample;

namespace {

PlatformMetrics full_sample() {
  PlatformMetrics m;
  m.timestamp_ns = 123'456'789'012'345;
  m.interval_ns = 100'250'000;
  auto& cpu = m.cpu;
  cpu.overall_usage_percent = 35.125;
  cpu.per_core_usage = {100.0, std::nullopt, 20.5, 0.0};
  cpu.user_percent = 20, cpu.system_percent = 10, cpu.iowait_percent = 5;
  cpu.irq_percent = 0.001, cpu.steal_percent = 0, cpu.idle_percent = 64.874;
  cpu.frequency_mhz = {2400.0, std::nullopt};
  cpu.temperature_celsius = {{"coretemp/Package id 0", 45.5}, {"thermal/acpitz", -3.25}};
  cpu.context_switches_per_sec = 2000, cpu.interrupts_per_sec = 1e9;
  cpu.load_average = std::array<double, 3>{1.5, 1.25, 0.9};
  cpu.online_cores = 64, cpu.procs_running = 3;
  cpu.psi_cpu = memscope::PsiMetrics{2.5, 0.0, 1'250'000, std::nullopt, 25.0, std::nullopt};
  memscope::GpuResourceMetrics gpu;
  gpu.device_name = "NVIDIA H100";
  gpu.vendor = memscope::GpuVendor::kNvidia;
  gpu.compute_usage_percent = 87, gpu.memory_usage_percent = 25;
  gpu.memory_used_bytes = 20ull << 30, gpu.memory_total_bytes = 80ull << 30;
  gpu.temperature_celsius = 61, gpu.power_usage_watts = 312.5, gpu.frequency_mhz = 1755;
  gpu.processes = {{4242, 1ull << 30}, {4343, std::nullopt}};
  m.gpu = std::vector{gpu};
  m.io.disks = {{"sda", 1048576, 2097152, 100, 50}};
  m.io.networks = {{"eth0", 500000, std::nullopt, 500, 100}};
  m.io.process_read_bytes = 413696, m.io.process_write_bytes_per_sec = 819200;
  m.memory = {12582912, 104857600, 5000, 7, 8388608000, 16777216000};
  m.cgroup.version = 2, m.cgroup.path = "/app.slice/svc", m.cgroup.cpu_quota_cores = 2;
  m.cgroup.cpu_throttled_usec = 123456, m.cgroup.memory_limit_bytes = 1 << 30;
  m.thread_count = 2;
  memscope::ThreadResourceMetrics t;
  t.thread_id = 1234, t.thread_name = "worker (1)";
  t.cpu_time_user_ns = 1'500'000'000, t.cpu_time_kernel_ns = 400'000'000;
  t.cpu_time_total_ns = 1'800'000'001, t.cpu_usage_percent = 50;
  t.run_queue_wait_ns = 6'000'000, t.voluntary_context_switches = 10;
  t.involuntary_context_switches = 2, t.io_read_bytes = 4096, t.live_heap_bytes = 1 << 20;
  m.threads = {t, memscope::ThreadResourceMetrics{}};
  m.threads[1].thread_id = -1;
  m.errors = {"/proc/stat:2: bad cpu line"};
  return m;
}

std::vector<uint8_t> encode(const PlatformMetrics& m) {
  std::vector<uint8_t> out;
  encode_metric_sample(m, out);
  return out;
}

}  // namespace

TEST_CASE("round trip of a full sample is exact") {
  PlatformMetrics m = full_sample();
  auto bytes = encode(m);
  CHECK(bytes[0] == memscope::format::kMetricSampleVersion);
  auto decoded = decode_metric_sample(bytes.data(), bytes.size());
  REQUIRE(decoded);
  CHECK(*decoded == m);
  CHECK(bytes.size() < 400);
}

TEST_CASE("an empty sample is a few bytes and round-trips") {
  PlatformMetrics m;
  auto bytes = encode(m);
  CHECK(bytes.size() < 24);
  auto decoded = decode_metric_sample(bytes.data(), bytes.size());
  REQUIRE(decoded);
  CHECK(*decoded == m);
}

TEST_CASE("NaN and infinity travel as absent") {
  PlatformMetrics m;
  m.cpu.overall_usage_percent = std::nan("");
  m.cpu.per_core_usage = {INFINITY, 1.0};
  auto bytes = encode(m);
  auto decoded = decode_metric_sample(bytes.data(), bytes.size());
  REQUIRE(decoded);
  CHECK_FALSE(decoded->cpu.overall_usage_percent.has_value());
  REQUIRE(decoded->cpu.per_core_usage.size() == 2);
  CHECK_FALSE(decoded->cpu.per_core_usage[0].has_value());
  CHECK(decoded->cpu.per_core_usage[1] == 1.0);
}

TEST_CASE("the body appends: two bodies back to back keep their boundaries") {
  std::vector<uint8_t> out = {0xAA};
  encode_metric_sample(full_sample(), out);
  CHECK(out[0] == 0xAA);
  CHECK(decode_metric_sample(out.data() + 1, out.size() - 1) == full_sample());
}

TEST_CASE("garbage is refused, never a crash") {
  auto bytes = encode(full_sample());
  SUBCASE("every truncation") {
    for (size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(decode_metric_sample(bytes.data(), n));
  }
  SUBCASE("trailing bytes") {
    bytes.push_back(0);
    CHECK_FALSE(decode_metric_sample(bytes.data(), bytes.size()));
  }
  SUBCASE("unknown version") {
    bytes[0] = 99;
    CHECK_FALSE(decode_metric_sample(bytes.data(), bytes.size()));
  }
  SUBCASE("null and empty") {
    CHECK_FALSE(decode_metric_sample(nullptr, 0));
    CHECK_FALSE(decode_metric_sample(bytes.data(), 0));
  }
  SUBCASE("a huge element count") {
    std::vector<uint8_t> evil = {1,    0,    0,  // version 1, mask, timestamp
                                 0,              // cpu mask
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    CHECK_FALSE(decode_metric_sample(evil.data(), evil.size()));
  }
  SUBCASE("random bytes and single-byte flips") {
    std::mt19937_64 rng(42);
    for (int round = 0; round < 20000; ++round) {
      std::vector<uint8_t> noise(rng() % 64);
      for (auto& b : noise) b = static_cast<uint8_t>(rng());
      if (!noise.empty()) noise[0] = static_cast<uint8_t>(1 + rng() % 2);  // into the parser
      (void)decode_metric_sample(noise.data(), noise.size());
      auto flipped = bytes;
      flipped[rng() % flipped.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      auto decoded = decode_metric_sample(flipped.data(), flipped.size());
      if (decoded) CHECK(encode(*decoded).size() <= bytes.size() + 64);
    }
  }
}

namespace {

// The sample 100 ms later: counters moved, one thread ended, one started, a disk appeared, a
// PSI field went away, a GPU process was added.
PlatformMetrics next_sample(const PlatformMetrics& m) {
  PlatformMetrics n = m;
  n.timestamp_ns += 100'000'000;
  n.cpu.overall_usage_percent = 36.5;
  n.cpu.per_core_usage[1] = 3.0;
  n.cpu.psi_cpu->some_percent.reset();
  n.cpu.psi_cpu->some_total_us = 1'260'000;
  n.io.disks.push_back({"nvme0n1", 0, 4096, 0, 1});
  (*n.gpu)[0].processes.push_back({4444, 512});
  n.memory.process_minor_faults = 5100;
  n.threads.erase(n.threads.begin() + 1);  // thread -1 ended
  auto& t = n.threads[0];
  *t.cpu_time_user_ns += 30'000'000, *t.cpu_time_total_ns += 31'234'567;
  t.thread_name = "renamed";
  memscope::ThreadResourceMetrics born;
  born.thread_id = 99, born.thread_name = "born", born.cpu_time_user_ns = 10'000'000;
  n.threads.insert(n.threads.begin(), born);
  n.errors.clear();
  return n;
}

}  // namespace

TEST_CASE("delta samples: exact round trip, smaller than key samples, key after reset") {
  memscope::format::MetricSampleEncoder encoder;
  memscope::format::MetricSampleDecoder decoder;
  PlatformMetrics m = full_sample();
  std::vector<std::vector<uint8_t>> bodies;
  std::vector<PlatformMetrics> sent;
  for (int i = 0; i < 6; ++i) {
    if (i == 3) encoder.reset();  // a chunk was sealed
    std::vector<uint8_t> body;
    bool key = encoder.encode(m, body);
    CHECK(key == (i == 0 || i == 3));
    CHECK(memscope::format::is_key_metric_sample(body.data(), body.size()) == key);
    auto back = decoder.decode(body.data(), body.size());
    REQUIRE(back);
    CHECK(*back == m);
    if (!key) CHECK(body.size() < bodies.front().size() / 2);
    bodies.push_back(body);
    sent.push_back(m);
    m = next_sample(m);
  }
  // An unchanged sample costs a handful of bytes.
  std::vector<uint8_t> same;
  encoder.encode(sent.back(), same);
  std::vector<uint8_t> again;
  encoder.encode(sent.back(), again);
  CHECK(again.size() < 16);

  // A chunk on its own: its key sample decodes without any earlier sample.
  CHECK(decode_metric_sample(bodies[3].data(), bodies[3].size()) == sent[3]);
  // A delta without its base, or against the wrong base, is refused.
  CHECK_FALSE(decode_metric_sample(bodies[4].data(), bodies[4].size()));
  CHECK_FALSE(decode_metric_sample(bodies[4].data(), bodies[4].size(), &sent[2]));
  CHECK(decode_metric_sample(bodies[4].data(), bodies[4].size(), &sent[3]) == sent[4]);
}

TEST_CASE("delta garbage is refused, never a crash") {
  memscope::format::MetricSampleEncoder encoder;
  PlatformMetrics base = full_sample();
  std::vector<uint8_t> key, delta;
  encoder.encode(base, key);
  encoder.encode(next_sample(base), delta);
  for (size_t n = 0; n < delta.size(); ++n) {
    CHECK_FALSE(decode_metric_sample(delta.data(), n, &base));
  }
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20000; ++round) {
    auto flipped = delta;
    flipped[rng() % flipped.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    (void)decode_metric_sample(flipped.data(), flipped.size(), &base);
    std::vector<uint8_t> noise(rng() % 48);
    for (auto& b : noise) b = static_cast<uint8_t>(rng());
    if (noise.size() >= 2) noise[0] = memscope::format::kMetricSampleVersion, noise[1] = 1;
    (void)decode_metric_sample(noise.data(), noise.size(), &base);
  }
}

TEST_CASE("version 1 bodies (plain varints, no kind byte) are still read") {
  // version 1, mask 0, timestamp 5; Cpu: mask, per-core, frequency and sensor counts; Io: mask,
  // disk and network counts; Memory: mask; Cgroup: mask, version, path length; threads; errors.
  std::vector<uint8_t> v1 = {1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  auto m = decode_metric_sample(v1.data(), v1.size());
  REQUIRE(m);
  CHECK(m->timestamp_ns == 5);
}
