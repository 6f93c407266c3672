// The hardware counter reader (collector/linux/hw_counters.cpp): with a fake perf_event_open
// (counts, multiplexing, ENOENT / EOPNOTSUPP / EACCES, the paranoid fallback, bounded thread
// slots), the record's round trip, and the real system call with software events, which this
// machine has even without a PMU: what the process counter includes (threads created after it,
// live or ended) and what it does not (a thread that existed before it, such as the sidecar, and
// fork children).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <thread>

#include "collector/linux/hw_counters.hpp"
#include "format/hw_counters.hpp"

using memscope::collector::HwCounters;
using memscope::collector::HwEventList;
using memscope::collector::PerfEvents;
using memscope::collector::scale_count;
using memscope::format::HwCounterGroup;
using memscope::format::HwEvent;

namespace {

// Answers each open by event config: an errno, or a descriptor whose reads return `counts`.
class FakePerf : public PerfEvents {
 public:
  std::map<uint64_t, int> errors;  // config -> errno
  int error_with_kernel = 0;       // errno for any open that counts the kernel (paranoid)
  uint64_t counts[3] = {1000, 10, 10};
  std::vector<perf_event_attr> opened;
  int open_fds = 0;

  int open(perf_event_attr& attr, pid_t) override {
    if (!attr.exclude_kernel && error_with_kernel) return errno = error_with_kernel, -1;
    auto it = errors.find(attr.config);
    if (it != errors.end()) return errno = it->second, -1;
    opened.push_back(attr);
    ++open_fds;
    return 100 + static_cast<int>(opened.size());
  }
  bool read(int, uint64_t (&v)[3]) override {
    for (int i = 0; i < 3; ++i) v[i] = counts[i];
    return true;
  }
  void close(int) override { --open_fds; }
};

uint64_t count(const HwCounterGroup& g, HwEvent e) {
  return g.counts[static_cast<size_t>(e)].value;
}
bool present(const HwCounterGroup& g, HwEvent e) {
  return g.counts[static_cast<size_t>(e)].present != 0;
}

}  // namespace

TEST_CASE("hw counters: available, read and scaled") {
  FakePerf perf;
  std::vector<HwCounterGroup> groups;
  {
    HwCounters hw(perf);
    REQUIRE(hw.open_process(42));
    CHECK(hw.available());
    CHECK(hw.reason().empty());
    CHECK_FALSE(hw.user_only());
    REQUIRE(perf.opened.size() == 4);
    for (const perf_event_attr& a : perf.opened) {
      CHECK(static_cast<int>(a.inherit) == 1);
      CHECK(static_cast<int>(a.inherit_thread) == 1);  // never fork children
      CHECK(a.read_format == (PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING));
    }
    hw.read_all(groups);
    REQUIRE(groups.size() == 1);
    CHECK(groups[0].tid == 42);
    CHECK(count(groups[0], HwEvent::kCycles) == 1000);
    // Multiplexed: counted 25 of the 100 ns it was enabled, so the estimate is 4 x the count.
    perf.counts[0] = 1000, perf.counts[1] = 100, perf.counts[2] = 25;
    hw.read_all(groups);
    CHECK(count(groups[0], HwEvent::kInstructions) == 4000);
    CHECK(groups[0].counts[1].enabled_ns == 100);
    CHECK(groups[0].counts[1].running_ns == 25);
    // Never scheduled: absent, not 0.
    perf.counts[2] = 0;
    hw.read_all(groups);
    CHECK_FALSE(present(groups[0], HwEvent::kCycles));
  }
  CHECK(perf.open_fds == 0);  // everything closed with the object
}

TEST_CASE("hw counters: scaling") {
  CHECK(scale_count(10, 100, 100) == 10);
  CHECK(scale_count(10, 100, 50) == 20);
  CHECK(scale_count(3, 10, 4) == 7);  // 7.5, truncated
  CHECK(scale_count(10, 100, 0) == 10);
  CHECK(scale_count(UINT64_MAX / 2, 100, 1) == UINT64_MAX);
}

TEST_CASE("hw counters: not available, with the reason") {
  for (int error : {ENOENT, EOPNOTSUPP, EACCES}) {
    FakePerf perf;
    perf.errors[PERF_COUNT_HW_CPU_CYCLES] = error;
    HwCounters hw(perf);
    CHECK_FALSE(hw.open_process(42));
    CHECK_FALSE(hw.available());
    CHECK(hw.reason().rfind(std::string("cycles: ") + strerrorname_np(error) + ", ", 0) == 0);
    std::vector<HwCounterGroup> groups(3);
    hw.read_all(groups);
    CHECK(groups.empty());
    CHECK_FALSE(hw.open_thread(43));
    CHECK(perf.open_fds == 0);
  }
  FakePerf perf;
  perf.errors[PERF_COUNT_HW_CPU_CYCLES] = ENOENT;
  HwCounters hw(perf);
  hw.open_process(1);
  CHECK(hw.reason().find("no hardware PMU") != std::string::npos);
}

TEST_CASE("hw counters: a required event missing closes the others") {
  FakePerf perf;
  perf.errors[PERF_COUNT_HW_INSTRUCTIONS] = EOPNOTSUPP;
  HwCounters hw(perf);
  CHECK_FALSE(hw.open_process(42));
  CHECK(hw.reason().rfind("instructions: EOPNOTSUPP", 0) == 0);
  CHECK(perf.open_fds == 0);
}

TEST_CASE("hw counters: optional events missing leave the others") {
  FakePerf perf;
  perf.errors[PERF_COUNT_HW_STALLED_CYCLES_BACKEND] = ENOENT;
  HwCounters hw(perf);
  REQUIRE(hw.open_process(42));
  std::vector<HwCounterGroup> groups;
  hw.read_all(groups);
  CHECK(present(groups[0], HwEvent::kLlcMisses));
  CHECK_FALSE(present(groups[0], HwEvent::kStalledBackend));
}

TEST_CASE("hw counters: user space only where paranoid forbids the kernel") {
  FakePerf perf;
  perf.error_with_kernel = EACCES;
  HwCounters hw(perf);
  REQUIRE(hw.open_process(42));
  CHECK(hw.user_only());
  for (const perf_event_attr& a : perf.opened) {
    CHECK(static_cast<int>(a.exclude_kernel) == 1);
    CHECK(static_cast<int>(a.exclude_hv) == 1);
  }
  REQUIRE(hw.open_thread(43));
  CHECK(static_cast<int>(perf.opened.back().exclude_kernel) == 1);
  CHECK(static_cast<int>(perf.opened.back().inherit) == 0);
}

TEST_CASE("hw counters: at most kThreadSlots threads, slots reused") {
  FakePerf perf;
  HwCounters hw(perf);
  REQUIRE(hw.open_process(1));
  for (pid_t tid = 2; tid < 2 + static_cast<pid_t>(HwCounters::kThreadSlots); ++tid)
    CHECK(hw.open_thread(tid));
  CHECK_FALSE(hw.open_thread(100));
  CHECK_FALSE(hw.open_thread(2));  // counted already
  CHECK(perf.open_fds == 4 * (1 + static_cast<int>(HwCounters::kThreadSlots)));
  HwCounterGroup g;
  CHECK(hw.read_thread(3, g));
  CHECK(g.tid == 3);
  CHECK_FALSE(hw.read_thread(100, g));
  hw.close_thread(3);
  CHECK_FALSE(hw.counts_thread(3));
  CHECK(hw.open_thread(100));
  std::vector<HwCounterGroup> groups;
  hw.read_all(groups);
  CHECK(groups.size() == 1 + HwCounters::kThreadSlots);
}

TEST_CASE("hw counters: the record round trip and damage") {
  memscope::format::HwCountersRecord r;
  r.stamp = 123456789;
  r.available = 1;
  r.user_only = 1;
  HwCounterGroup g;
  g.scope = memscope::format::HwScope::kThread;
  g.tid = 77;
  g.counts[1] = {1, 5000000000ull, 100, 50};
  r.groups = {HwCounterGroup{}, g};
  std::vector<uint8_t> body;
  memscope::format::encode_hw_counters(r, body);
  auto back = memscope::format::decode_hw_counters(body.data(), body.size());
  REQUIRE(back);
  CHECK(back->stamp == r.stamp);
  CHECK(back->user_only == 1);
  REQUIRE(back->groups.size() == 2);
  CHECK(back->groups[1].tid == 77);
  CHECK(back->groups[1].counts[1].value == 5000000000ull);
  CHECK(back->groups[1].counts[1].running_ns == 50);
  for (size_t cut = 0; cut < body.size(); ++cut)
    CHECK_FALSE(memscope::format::decode_hw_counters(body.data(), cut));
  body.push_back(0);
  CHECK_FALSE(memscope::format::decode_hw_counters(body.data(), body.size()));
  memscope::format::HwCountersRecord none;
  none.reason = "cycles: ENOENT, no such event";
  body.clear();
  memscope::format::encode_hw_counters(none, body);
  back = memscope::format::decode_hw_counters(body.data(), body.size());
  REQUIRE(back);
  CHECK(back->available == 0);
  CHECK(back->reason == none.reason);
}

namespace {

constexpr size_t kPage = 4096;

// Touches `pages` fresh pages: one minor fault each (huge pages off for the mapping).
void touch_pages(size_t pages) {
  size_t bytes = pages * kPage;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(p != MAP_FAILED);
  madvise(p, bytes, MADV_NOHUGEPAGE);
  for (size_t i = 0; i < pages; ++i) static_cast<volatile char*>(p)[i * kPage] = 1;
  munmap(p, bytes);
}

// Page faults through the real system call in place of cycles (the other events absent).
const HwEventList& fault_events() {
  static const HwEventList events = {{
      {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, "page-faults", true},
      {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_DUMMY, "dummy", true},
      {PERF_TYPE_SOFTWARE, 9999, "no such event", false},
      {PERF_TYPE_SOFTWARE, 9998, "no such event", false},
  }};
  return events;
}

}  // namespace

TEST_CASE("hw counters: the real system call counts later threads, not earlier ones or forks") {
  constexpr size_t kEarly = 4000, kLive = 1000, kEnded = 500, kChild = 8000;
  std::atomic<int> step{0};
  // Exists before the counters, as the sidecar does: its faults must not be counted.
  std::thread early([&] {
    while (step.load() < 1) std::this_thread::yield();
    touch_pages(kEarly);
    step.store(2);
  });
  HwCounters hw(memscope::collector::kernel_perf_events(), fault_events());
  if (!hw.open_process(static_cast<pid_t>(syscall(SYS_gettid)))) {
    MESSAGE("software events not available here: " << hw.reason());
    step.store(1);
    early.join();
    return;
  }
  step.store(1);
  while (step.load() < 2) std::this_thread::yield();
  early.join();
  std::thread ended([] { touch_pages(kEnded); });
  ended.join();
  std::atomic<bool> release{false};
  std::atomic<bool> touched{false};
  std::thread live([&] {
    touch_pages(kLive);
    touched.store(true);
    while (!release.load()) std::this_thread::yield();
  });
  while (!touched.load()) std::this_thread::yield();
  pid_t child = fork();
  if (child == 0) {
    touch_pages(kChild);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  std::vector<HwCounterGroup> groups;
  hw.read_all(groups);  // while `live` still runs
  release.store(true);
  live.join();
  REQUIRE(groups.size() == 1);
  uint64_t faults = count(groups[0], HwEvent::kCycles);
  CHECK_FALSE(present(groups[0], HwEvent::kLlcMisses));
  MESSAGE("page faults counted: " << faults);
  CHECK(faults >= kLive + kEnded);  // a live thread's counts are read with the process's
  CHECK(faults < kLive + kEnded + kEarly / 2);  // neither the earlier thread nor the fork child
}
