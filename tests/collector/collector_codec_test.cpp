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
  t.minor_faults = 120000, t.major_faults = 3, t.profiler_wait_ns = 540000000;
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
      if (!noise.empty()) noise[0] = static_cast<uint8_t>(1 + rng() % 3);  // into the parser
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

// full_sample() and next_sample(full_sample()) as the version 2 writer encoded them (a key sample,
// then a delta), kept so that traces written before version 3 stay readable.
const std::vector<uint8_t> kV2Key = {
    2,   0,   7,   200, 247, 187, 131, 195, 200, 224, 1,   209, 249, 48,  255, 63,  234, 164, 4,
    4,   193, 154, 12,  0,   169, 192, 2,   1,   192, 184, 2,   160, 156, 1,   144, 78,  2,   0,
    212, 245, 7,   2,   129, 252, 164, 2,   0,   2,   0,   21,  99,  111, 114, 101, 116, 101, 109,
    112, 47,  80,  97,  99,  107, 97,  103, 101, 32,  105, 100, 32,  48,  248, 198, 5,   0,   14,
    116, 104, 101, 114, 109, 97,  108, 47,  97,  99,  112, 105, 116, 122, 227, 50,  128, 146, 244,
    1,   128, 192, 168, 202, 154, 58,  184, 23,  196, 19,  136, 14,  128, 4,   24,  23,  136, 39,
    0,   145, 78,  208, 134, 3,   1,   127, 11,  78,  86,  73,  68,  73,  65,  32,  72,  49,  48,
    48,  1,   176, 207, 10,  208, 134, 3,   128, 128, 128, 128, 128, 5,   128, 128, 128, 128, 128,
    20,  144, 185, 7,   232, 146, 38,  240, 157, 214, 1,   2,   1,   144, 137, 2,   128, 128, 128,
    128, 32,  0,   184, 143, 2,   9,   1,   15,  3,   115, 100, 97,  128, 128, 128, 232, 7,   128,
    128, 128, 208, 15,  192, 154, 12,  160, 141, 6,   1,   13,  4,   101, 116, 104, 48,  128, 148,
    235, 220, 3,   192, 132, 61,  192, 154, 12,  128, 128, 202, 1,   128, 128, 160, 141, 6,   63,
    128, 128, 128, 48,  128, 128, 128, 144, 3,   41,  56,  129, 128, 128, 32,  129, 128, 128, 64,
    25,  16,  14,  47,  97,  112, 112, 46,  115, 108, 105, 99,  101, 47,  115, 118, 99,  160, 31,
    128, 164, 60,  128, 128, 128, 128, 32,  16,  2,   255, 5,   144, 77,  10,  119, 111, 114, 107,
    101, 114, 32,  40,  49,  41,  226, 93,  130, 25,  136, 160, 186, 210, 53,  160, 141, 6,   50,
    80,  16,  128, 128, 2,   128, 128, 128, 4,   0,   4,   0,   1,   26,  47,  112, 114, 111, 99,
    47,  115, 116, 97,  116, 58,  50,  58,  32,  98,  97,  100, 32,  99,  112, 117, 32,  108, 105,
    110, 101};
const std::vector<uint8_t> kV2Delta = {
    2,   1,  249, 190, 183, 176, 136, 137, 28,  189, 6,   162, 6,   131, 128, 2,   1,   168,
    186, 4,  4,   193, 154, 12,  241, 46,  169, 192, 2,   1,   2,   20,  2,   81,  0,   2,
    1,   1,  128, 4,   3,   1,   0,   2,   0,   0,   1,   224, 149, 2,   128, 32,  1,   2,
    1,   0,  0,   15,  7,   110, 118, 109, 101, 48,  110, 49,  0,   128, 128, 244, 3,   0,
    208, 15, 4,   2,   160, 6,   2,   0,   1,   152, 6,   4,   98,  111, 114, 110, 82,  1,
    22,  7,  114, 101, 110, 97,  109, 101, 100, 2,   242, 1,   2,   184, 160, 147, 119, 0};

// The same two samples as the version 3 writer encoded them (before thread usages were written
// against their prediction): traces written before version 4 stay readable.
const std::vector<uint8_t> kV3Key = {
    3,   0,   7,   200, 247, 187, 131, 195, 200, 224, 1,   209, 249, 48,  255, 63,  234, 164, 4,
    4,   193, 154, 12,  0,   169, 192, 2,   1,   192, 184, 2,   160, 156, 1,   144, 78,  2,   0,
    212, 245, 7,   2,   129, 252, 164, 2,   0,   2,   0,   21,  99,  111, 114, 101, 116, 101, 109,
    112, 47,  80,  97,  99,  107, 97,  103, 101, 32,  105, 100, 32,  48,  248, 198, 5,   3,   14,
    116, 104, 101, 114, 109, 97,  108, 47,  97,  99,  112, 105, 116, 122, 227, 50,  128, 146, 244,
    1,   128, 192, 168, 202, 154, 58,  184, 23,  196, 19,  136, 14,  128, 4,   24,  23,  136, 39,
    0,   145, 78,  208, 134, 3,   1,   127, 11,  78,  86,  73,  68,  73,  65,  32,  72,  49,  48,
    48,  1,   176, 207, 10,  208, 134, 3,   128, 128, 128, 128, 128, 5,   128, 128, 128, 128, 128,
    20,  144, 185, 7,   232, 146, 38,  240, 157, 214, 1,   2,   1,   144, 137, 2,   128, 128, 128,
    128, 32,  3,   168, 6,   0,   9,   1,   15,  3,   115, 100, 97,  128, 128, 128, 232, 7,   128,
    128, 128, 208, 15,  192, 154, 12,  160, 141, 6,   1,   13,  4,   101, 116, 104, 48,  128, 148,
    235, 220, 3,   192, 132, 61,  192, 154, 12,  128, 128, 202, 1,   128, 128, 160, 141, 6,   63,
    128, 128, 128, 48,  128, 128, 128, 144, 3,   41,  56,  129, 128, 128, 32,  129, 128, 128, 64,
    25,  16,  14,  47,  97,  112, 112, 46,  115, 108, 105, 99,  101, 47,  115, 118, 99,  160, 31,
    128, 164, 60,  128, 128, 128, 128, 32,  16,  2,   255, 5,   144, 77,  10,  119, 111, 114, 107,
    101, 114, 32,  40,  49,  41,  226, 93,  130, 25,  136, 160, 186, 210, 53,  160, 141, 6,   50,
    80,  16,  128, 128, 2,   128, 128, 128, 4,   255, 23,  148, 77,  0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   1,   26,  47,  112, 114, 111, 99,  47,  115, 116, 97,  116, 58,  50,  58,
    32,  98,  97,  100, 32,  99,  112, 117, 32,  108, 105, 110, 101};
const std::vector<uint8_t> kV3Delta = {
    3,   1,   249, 190, 183, 176, 136, 137, 28,  189, 6, 162, 6,   131, 128, 2,  2, 190, 21,
    4,   193, 154, 12,  241, 46,  169, 192, 2,   1,   2, 20,  2,   81,  0,   2,  1, 1,   128,
    4,   3,   1,   0,   2,   0,   0,   3,   168, 6,   1, 128, 32,  1,   2,   1,  0, 0,   31,
    7,   110, 118, 109, 101, 48,  110, 49,  1,   0,   1, 128, 128, 244, 3,   1,  0, 1,   208,
    15,  4,   2,   160, 6,   2,   0,   1,   152, 6,   4, 98,  111, 114, 110, 82, 1, 22,  7,
    114, 101, 110, 97,  109, 101, 100, 2,   242, 1,   2, 184, 160, 147, 119, 0};

// full_sample() as a writer before version 5 had it: without the fields version 5 appended.
PlatformMetrics before_version_5(PlatformMetrics m) {
  for (memscope::ThreadResourceMetrics& t : m.threads)
    t.minor_faults.reset(), t.major_faults.reset(), t.profiler_wait_ns.reset();
  return m;
}

TEST_CASE("version 2 and 3 bodies (key and delta) are still read") {
  for (const auto* bodies : {&kV2Key, &kV3Key}) {
    const auto& key_body = *bodies;
    const auto& delta_body = bodies == &kV2Key ? kV2Delta : kV3Delta;
    CAPTURE(static_cast<int>(key_body[0]));
    auto key = decode_metric_sample(key_body.data(), key_body.size());
    REQUIRE(key);
    CHECK(*key == before_version_5(full_sample()));
    CHECK(memscope::format::is_key_metric_sample(key_body.data(), key_body.size()));
    CHECK_FALSE(memscope::format::is_key_metric_sample(delta_body.data(), delta_body.size()));
    auto delta = decode_metric_sample(delta_body.data(), delta_body.size(), &*key);
    REQUIRE(delta);
    CHECK(*delta == before_version_5(next_sample(full_sample())));
  }
}

TEST_CASE("a delta thread's usage that its CPU time predicts costs nothing") {
  // Two samples 100 ms apart; the thread ran 25 ms: the collector says 25 %.
  PlatformMetrics a;
  a.timestamp_ns = 5'000'000'000, a.interval_ns = 100'000'000;
  memscope::ThreadResourceMetrics& t = a.threads.emplace_back();
  t.thread_id = 7, t.thread_name = "w", t.cpu_time_total_ns = 3'000'000'000;
  t.cpu_usage_percent = 12.5;
  PlatformMetrics b = a;
  b.timestamp_ns += 100'000'000;
  *b.threads[0].cpu_time_total_ns += 25'000'000;
  b.threads[0].cpu_usage_percent = 25.0;
  auto delta_size = [&](const PlatformMetrics& next) {
    memscope::format::MetricSampleEncoder encoder;
    memscope::format::MetricSampleDecoder decoder;
    std::vector<uint8_t> key, delta;
    encoder.encode(a, key);
    encoder.encode(next, delta);
    REQUIRE(decoder.decode(key.data(), key.size()));
    auto back = decoder.decode(delta.data(), delta.size());
    REQUIRE(back);
    CHECK(*back == next);
    return delta.size();
  };
  size_t predicted = delta_size(b);
  PlatformMetrics off = b;  // a usage the CPU time does not predict is written, exactly
  off.threads[0].cpu_usage_percent = 26.125;
  CHECK(delta_size(off) > predicted);
  PlatformMetrics same_usage = b;  // the unchanged 12.5 % is now the change
  same_usage.threads[0].cpu_usage_percent = 12.5;
  CHECK(delta_size(same_usage) > predicted);
  // No prediction without an interval, or without CPU times: the base's usage is the reference.
  PlatformMetrics no_interval = b;
  no_interval.interval_ns.reset();
  delta_size(no_interval);
  PlatformMetrics no_time = b;
  no_time.threads[0].cpu_time_total_ns.reset();
  delta_size(no_time);
  PlatformMetrics absent = b;
  absent.threads[0].cpu_usage_percent.reset();
  delta_size(absent);
  PlatformMetrics backwards = b;  // a CPU time that went back predicts 0, as the collector says
  backwards.threads[0].cpu_time_total_ns = 1'000'000'000;
  backwards.threads[0].cpu_usage_percent = 0.0;
  delta_size(backwards);
  PlatformMetrics user_kernel = b;  // without schedstat, user + kernel ticks are the CPU time
  user_kernel.threads[0].cpu_time_total_ns.reset();
  user_kernel.threads[0].cpu_time_user_ns = 10'000'000,
  user_kernel.threads[0].cpu_time_kernel_ns = 0;
  a.threads[0].cpu_time_total_ns.reset();
  a.threads[0].cpu_time_user_ns = 0, a.threads[0].cpu_time_kernel_ns = 0;
  user_kernel.threads[0].cpu_usage_percent = 10.0;
  size_t ticks = delta_size(user_kernel);
  user_kernel.threads[0].cpu_usage_percent = 11.0;
  CHECK(delta_size(user_kernel) > ticks);
}

namespace {

// 64 threads of one program, as bench/collector_cost sees them: one name, neighbouring ids,
// nanosecond counters that differ by milliseconds.
PlatformMetrics many_threads(uint64_t step) {
  PlatformMetrics m;
  m.timestamp_ns = 1'000'000'000 + step * 100'000'000;
  std::mt19937_64 rng(step);
  for (int i = 0; i < 64; ++i) {
    memscope::ThreadResourceMetrics& t = m.threads.emplace_back();
    t.thread_id = 4000 + i, t.thread_name = "bench_collector";
    t.cpu_time_user_ns = (300 + rng() % 20 + step * 3) * 10'000'000;
    t.cpu_time_kernel_ns = (rng() % 3) * 10'000'000;
    t.cpu_time_total_ns = 3'000'000'000 + rng() % 200'000'000 + step * 31'000'000;
    t.cpu_usage_percent = static_cast<double>(rng() % 5000) / 1000.0;
    t.run_queue_wait_ns = 90'000'000'000 + rng() % 3'000'000'000 + step * 97'000'000;
    t.voluntary_context_switches = 1, t.involuntary_context_switches = 3000 + rng() % 200;
    t.io_read_bytes = 0, t.io_write_bytes = 0;
  }
  return m;
}

}  // namespace

TEST_CASE("a key sample writes each thread as a change against the thread before it") {
  PlatformMetrics m = many_threads(0);
  auto bytes = encode(m);
  REQUIRE(decode_metric_sample(bytes.data(), bytes.size()) == m);
  // Written whole, each of these threads takes about 45 bytes (the name alone 16); as changes
  // against its neighbour, little more than its counters' differing digits.
  PlatformMetrics one = m, none = m;
  one.threads.resize(1), none.threads.clear();
  size_t whole = encode(one).size() - encode(none).size();
  CHECK(whole > 40);
  CHECK(bytes.size() - encode(none).size() < 64 * whole * 6 / 10);
  // Deltas stay exact when threads come and go (new threads also refer to their neighbour).
  memscope::format::MetricSampleEncoder encoder;
  memscope::format::MetricSampleDecoder decoder;
  for (uint64_t step = 0; step < 4; ++step) {
    PlatformMetrics n = many_threads(step);
    if (step == 2) n.threads.erase(n.threads.begin() + 10, n.threads.begin() + 20);
    if (step == 3) n.threads[5].thread_id = 9000, n.threads[6].thread_id = 9001;
    std::vector<uint8_t> body;
    encoder.encode(n, body);
    auto back = decoder.decode(body.data(), body.size());
    REQUIRE(back);
    CHECK(*back == n);
  }
}

TEST_CASE("a changed double is its fixed-point difference, exact at any magnitude") {
  memscope::format::MetricSampleEncoder encoder;
  memscope::format::MetricSampleDecoder decoder;
  const double values[] = {0.001, 99.999, -3.5, 1e15, -1e15, 4e15, -4.5e15, 12.3456, 0};
  for (double v : values) {
    PlatformMetrics m;
    m.cpu.overall_usage_percent = v;
    m.cpu.temperature_celsius = {{"t", -v}};
    std::vector<uint8_t> body;
    encoder.encode(m, body);
    auto back = decoder.decode(body.data(), body.size());
    REQUIRE(back);
    std::vector<uint8_t> whole;
    encode_metric_sample(m, whole);
    CHECK(*back == *decode_metric_sample(whole.data(), whole.size()));
  }
}
