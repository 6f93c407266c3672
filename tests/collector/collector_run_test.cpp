// The collector inside the agent, on this machine: workloads run under memscope-run and the
// metric samples in their traces are checked against what the workloads measured themselves.
//   collector_run_test MEMSCOPE_RUN [doctest options]   the tests
//   collector_run_test burn4 RESULT_FILE                 workload: 4 threads burn CPU for 2 s
//   collector_run_test fsync RESULT_FILE DIR             workload: writes and fsyncs 8 MiB
//   collector_run_test idle70                            workload: 70 threads sleep for 2.5 s
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "analyzer/session.hpp"
#include "memscope/collector.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string g_memscope_run;
std::string g_self;

uint64_t clock_ns(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// --- workloads (run under memscope-run) ---

// Four threads named burn0..burn3 spin for 2 s; each then notes its own CPU clock (the ground
// truth) and all stay alive, idle, for 400 ms so the sidecar samples them after the burn.
int burn4(const char* result_path) {
  constexpr int kThreads = 4;
  std::atomic<bool> stop{false};
  uint64_t cpu[kThreads] = {};
  std::atomic<int> named{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      std::string name = "burn" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      named.fetch_add(1);
      volatile uint64_t sink = 0;
      while (!stop.load(std::memory_order_relaxed)) sink = sink + 1;
      cpu[i] = clock_ns(CLOCK_THREAD_CPUTIME_ID);
      std::this_thread::sleep_for(400ms);
    });
  }
  // The window the test checks starts once every thread carries its name.
  while (named.load() < kThreads) std::this_thread::sleep_for(1ms);
  uint64_t start = clock_ns(CLOCK_MONOTONIC);
  std::this_thread::sleep_for(2s);
  stop = true;
  uint64_t end = clock_ns(CLOCK_MONOTONIC);
  for (auto& t : threads) t.join();
  std::ofstream out(result_path);
  out << start << ' ' << end;
  for (uint64_t c : cpu) out << ' ' << c;
  out << '\n';
  return out ? 0 : 1;
}

// One thread named "writer" writes 8 x 1 MiB to a file in DIR, fsyncing after each, then idles
// 400 ms so a sample after the last fsync is taken.
int fsync_writer(const char* result_path, const char* dir) {
  uint64_t written = 0;
  std::thread writer([&] {
    pthread_setname_np(pthread_self(), "writer");
    std::string path = std::string(dir) + "/fsync-workload.bin";
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    std::vector<char> block(1 << 20, 'm');
    for (int i = 0; i < 8; ++i) {
      if (write(fd, block.data(), block.size()) == ssize_t(block.size())) written += block.size();
      fsync(fd);
      std::this_thread::sleep_for(30ms);
    }
    close(fd);
    unlink(path.c_str());
    std::this_thread::sleep_for(400ms);
  });
  writer.join();
  std::ofstream(result_path) << written << '\n';
  return written == 8u << 20 ? 0 : 1;
}

// Seventy sleeping threads: more than the 64 above which the adaptive interval backs off.
int idle70() {
  std::vector<std::thread> threads;
  for (int i = 0; i < 70; ++i) threads.emplace_back([] { std::this_thread::sleep_for(2500ms); });
  for (auto& t : threads) t.join();
  return 0;
}

// --- the tests ---

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() /
                 ("memscope-collector-run-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Runs memscope-run -q -o DIR/trace -- this program ARGS... with MEMSCOPE_SAMPLE_MS=100 and
// `fixed` as MEMSCOPE_SAMPLE_FIXED; the exit status.
int run_traced(const fs::path& dir, const std::vector<std::string>& args, bool fixed = false) {
  std::vector<std::string> argv = {g_memscope_run,           "-q", "-o",
                                   (dir / "trace").string(), "--", g_self};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    setenv("MEMSCOPE_SAMPLE_MS", "100", 1);
    setenv("MEMSCOPE_SAMPLE_FIXED", fixed ? "1" : "0", 1);
    execv(raw[0], raw.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<memscope::PlatformMetrics> samples_of(const fs::path& dir) {
  auto session = memscope::analyzer::analyze({(dir / "trace").string()});
  REQUIRE(session.errors.empty());
  REQUIRE(session.processes.size() == 1);
  const auto& analysis = *session.processes[0]->analysis;
  CHECK(analysis.undecodable_samples() == 0);
  return analysis.metric_samples();
}

const memscope::ThreadResourceMetrics* find_thread(const memscope::PlatformMetrics& m,
                                                   const std::string& name) {
  for (const auto& t : m.threads)
    if (t.thread_name == name) return &t;
  return nullptr;
}

}  // namespace

TEST_CASE("memscope-run: 4 CPU-burning threads show their CPU in the trace") {
  fs::path dir = fresh_dir("burn");
  REQUIRE(run_traced(dir, {"burn4", (dir / "result").string()}) == 0);
  uint64_t start = 0, end = 0, truth[4] = {};
  std::ifstream result(dir / "result");
  result >> start >> end >> truth[0] >> truth[1] >> truth[2] >> truth[3];
  REQUIRE(result);
  auto samples = samples_of(dir);
  REQUIRE(samples.size() >= 10);  // 2.4 s at 10 Hz, or 5 Hz when the machine is saturated

  // Cumulative CPU (schedstat, ns) in the last sample that has the thread: taken after the burn
  // ended, so it must match the thread's own CPU clock.
  double burned_cores = 0, truth_cores = 0;
  const double burn_s = static_cast<double>(end - start) / 1e9;
  for (int i = 0; i < 4; ++i) {
    const std::string name = "burn" + std::to_string(i);
    std::optional<uint64_t> last;
    for (const auto& m : samples)
      if (auto* t = find_thread(m, name)) last = t->cpu_time_total_ns;
    INFO(name);
    REQUIRE(last.has_value());
    CHECK(static_cast<double>(*last) >= 0.95 * static_cast<double>(truth[i]));
    CHECK(static_cast<double>(*last) <= 1.05 * static_cast<double>(truth[i]) + 20e6);
    truth_cores += static_cast<double>(truth[i]) / 1e9 / burn_s;
  }
  // The per-sample figures users see: mean CPU % of each thread over samples inside the burn.
  uint32_t cores = std::max<uint32_t>(1, samples.back().cpu.online_cores.value_or(1));
  const double expected = std::min<double>(4, cores);
  int inside = 0;
  double sum_percent[4] = {};
  for (const auto& m : samples) {
    if (!m.interval_ns || m.timestamp_ns - *m.interval_ns < start || m.timestamp_ns > end) continue;
    ++inside;
    for (int i = 0; i < 4; ++i) {
      auto* t = find_thread(m, "burn" + std::to_string(i));
      REQUIRE(t != nullptr);
      REQUIRE(t->cpu_usage_percent.has_value());
      sum_percent[i] += *t->cpu_usage_percent;
    }
  }
  REQUIRE(inside >= 3);
  double share[4];
  for (int i = 0; i < 4; ++i) burned_cores += share[i] = sum_percent[i] / inside / 100.0;
  MESSAGE("4 threads: " << burned_cores << " cores in the samples, " << truth_cores
                        << " by their own clocks, " << cores << " cores online");
  // About min(4, cores) cores, each thread about a quarter of that. Another program busy on the
  // machine takes its share, which the threads' own clocks show too: then the samples must
  // still agree with those clocks.
  if (truth_cores >= 0.7 * expected) {
    CHECK(burned_cores > 0.7 * expected);
    for (int i = 0; i < 4; ++i) {
      INFO("burn" << i << " used " << share[i] << " of a core");
      CHECK(share[i] > 0.5 * expected / 4);
    }
  } else {
    MESSAGE("the machine was busy with other work; checking agreement with the threads' clocks");
  }
  CHECK(burned_cores > 0.85 * truth_cores);
  CHECK(burned_cores < 1.15 * truth_cores + 0.05);
  fs::remove_all(dir);
}

TEST_CASE("memscope-run: a program writing and fsyncing files shows its write bytes") {
  // The data must reach a block device to count: write beside the build, not in a tmpfs.
  fs::path dir = fresh_dir("fsync");
  fs::path data_dir = fs::current_path() / ("fsync-data-" + std::to_string(getpid()));
  fs::create_directories(data_dir);
  REQUIRE(run_traced(dir, {"fsync", (dir / "result").string(), data_dir.string()}) == 0);
  fs::remove_all(data_dir);
  auto samples = samples_of(dir);
  REQUIRE(samples.size() >= 3);
  const auto& first = samples.front();
  const auto& last = samples.back();
  if (!last.io.process_write_bytes) {
    MESSAGE("/proc/<pid>/io is not readable here: nothing to check");
    return;
  }
  REQUIRE(first.io.process_write_bytes);
  const uint64_t written = 8u << 20;
  // The process's storage writes since it started: at least the 8 MiB it fsynced (metadata
  // may add some), and more than the first sample had seen.
  CHECK(*last.io.process_write_bytes >= written);
  CHECK(*last.io.process_write_bytes > *first.io.process_write_bytes);
  // The writer thread's own counter.
  std::optional<uint64_t> thread_bytes;
  for (const auto& m : samples)
    if (auto* t = find_thread(m, "writer")) thread_bytes = t->io_write_bytes;
  REQUIRE(thread_bytes.has_value());
  CHECK(*thread_bytes >= written);
  // Some sample's rate shows the writing.
  double peak = 0;
  for (const auto& m : samples) peak = std::max(peak, m.io.process_write_bytes_per_sec.value_or(0));
  CHECK(peak > 1e6);
  fs::remove_all(dir);
}

// The median of the recorded intervals between samples, in ms.
double median_interval_ms(const std::vector<memscope::PlatformMetrics>& samples) {
  std::vector<double> ms;
  for (const auto& m : samples)
    if (m.interval_ns && *m.interval_ns > 0)
      ms.push_back(static_cast<double>(*m.interval_ns) / 1e6);
  REQUIRE(ms.size() >= 2);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

TEST_CASE("memscope-run: MEMSCOPE_SAMPLE_FIXED keeps 10 Hz where the adaptive interval backs off") {
  fs::path dir = fresh_dir("interval");
  REQUIRE(run_traced(dir / "adaptive", {"idle70"}) == 0);
  REQUIRE(run_traced(dir / "fixed", {"idle70"}, true) == 0);
  double adaptive = median_interval_ms(samples_of(dir / "adaptive"));
  double fixed = median_interval_ms(samples_of(dir / "fixed"));
  CHECK(adaptive >= 190);  // 71 threads: at least one doubling of 100 ms
  CHECK(fixed < 170);      // 100 ms, give or take the sidecar's wake-ups on a busy machine
  fs::remove_all(dir);
}

int main(int argc, char** argv) {
  g_self = fs::canonical("/proc/self/exe").string();
  if (argc >= 2 && std::string(argv[1]) == "idle70") return idle70();
  if (argc >= 3 && std::string(argv[1]) == "burn4") return burn4(argv[2]);
  if (argc >= 4 && std::string(argv[1]) == "fsync") return fsync_writer(argv[2], argv[3]);
  if (argc < 2) {
    std::fprintf(stderr, "usage: collector_run_test MEMSCOPE_RUN [doctest options]\n");
    return 2;
  }
  g_memscope_run = argv[1];
  doctest::Context context;
  context.applyCommandLine(argc - 1, argv + 1);
  return context.run();
}
