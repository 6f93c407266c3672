// The thread table made whole (analyzer/thread_table.hpp): sampled threads added, the sidecar
// left out by its recorded tid or, in a trace that has none, by its name; ends filled in only
// where the process's end is the thread's.
#include <doctest/doctest.h>

#include "analyzer/session.hpp"
#include "analyzer/thread_table.hpp"

using namespace memscope;
using namespace memscope::analyzer;

namespace {

PlatformMetrics sample(uint64_t t, std::vector<std::pair<int32_t, std::string>> threads) {
  PlatformMetrics m;
  m.timestamp_ns = t;
  for (auto& [tid, name] : threads) {
    ThreadResourceMetrics th;
    th.thread_id = tid;
    th.thread_name = name;
    m.threads.push_back(th);
  }
  return m;
}

}  // namespace

TEST_CASE("thread table: sampled threads in, the sidecar out, ends where they are the process's") {
  ProcessInfo info;
  info.pid = 100;
  info.argv = {"/usr/bin/redis-server"};
  std::map<uint64_t, ThreadInfo> threads;
  threads[100] = ThreadInfo{.tid = 100, .start_stamp = 50, .name = "redis-server"};
  threads[103] = ThreadInfo{.tid = 103, .start_stamp = 60, .end_stamp = 70, .name = "worker"};
  // 101 (jemalloc's background thread) lives to the end; 102 is gone by the last sample; 104 is
  // the sidecar, named as the program might name a thread.
  std::vector<PlatformMetrics> samples = {
      sample(1000, {{100, "redis-server"}, {101, "jemalloc_bg_thd"}, {102, "io"}, {104, "x"}}),
      sample(2000, {{100, "redis-server"}, {101, "jemalloc_bg_thd"}, {104, "x"}})};
  info.sidecar_tid = 104;
  REQUIRE(find_sidecar_tid(info, threads, samples) == 104);
  ProcessEnd end;
  end.stamp = 3000;
  complete_thread_table(threads, info, 104, 10, samples, &end);

  REQUIRE(threads.size() == 4);
  CHECK_FALSE(threads.contains(104));
  CHECK(threads[101].source == ThreadSource::kSamples);
  CHECK(threads[101].name == "jemalloc_bg_thd");
  CHECK(threads[101].start_stamp == 1000);
  CHECK(threads[101].end_stamp == 3000);
  CHECK(threads[101].end_at_process_end);
  CHECK(threads[102].end_stamp == 0);  // listed, then gone: ended unrecorded
  CHECK_FALSE(threads[102].end_at_process_end);
  CHECK(threads[100].source == ThreadSource::kAgent);
  CHECK(threads[100].end_stamp == 3000);
  CHECK(threads[100].end_at_process_end);
  CHECK(threads[103].end_stamp == 70);  // its own end stays
  CHECK_FALSE(threads[103].end_at_process_end);
}

TEST_CASE("thread table: an older trace's sidecar is the sampled 'memscope' the agent never saw") {
  ProcessInfo info;
  info.pid = 200;
  std::map<uint64_t, ThreadInfo> threads;
  std::vector<PlatformMetrics> samples = {sample(1000, {{201, "memscope"}})};
  CHECK(find_sidecar_tid(info, threads, samples) == 201);
  threads[201] = ThreadInfo{.tid = 201, .name = "memscope"};  // the program's own, so named
  CHECK(find_sidecar_tid(info, threads, samples) == 0);
}

TEST_CASE("thread table: a process that never allocated nor was sampled has its main thread") {
  ProcessInfo info;
  info.pid = 300;
  info.exe = "/usr/bin/gzip";
  std::map<uint64_t, ThreadInfo> threads;
  ProcessEnd end;
  end.stamp = 900;
  complete_thread_table(threads, info, 0, 500, {}, &end);
  REQUIRE(threads.size() == 1);
  const ThreadInfo& main = threads[300];
  CHECK(main.source == ThreadSource::kProcess);
  CHECK(main.name == "gzip");
  CHECK(main.start_stamp == 500);
  CHECK(main.end_stamp == 900);
  CHECK(main.end_at_process_end);
}

TEST_CASE("process_name: the name it was run by, else the executable's") {
  ProcessInfo info;
  info.exe = "/usr/bin/redis-check-rdb";
  info.argv = {"redis-server", "--port", "0"};
  CHECK(process_name(info) == "redis-server");
  info.argv = {"/usr/bin/convert"};
  CHECK(process_name(info) == "convert");
  info.argv = {""};
  CHECK(process_name(info) == "redis-check-rdb");
  info.argv.clear();
  CHECK(process_name(info) == "redis-check-rdb");
}
