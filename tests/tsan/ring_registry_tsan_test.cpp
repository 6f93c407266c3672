// The agent's event ring and thread registry under ThreadSanitizer (built by tests/tsan): a
// producer interrupted by a signal handler that writes into the same ring while a consumer
// drains it, and many short-lived threads registering, recording, ending and having their
// states reclaimed and recycled while a sidecar-like thread walks the registry. Exits non-zero
// on a lost, duplicated or reordered record; TSan fails the run on any data race.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "agent/agent_state.hpp"
#include "agent/config.hpp"
#include "agent/event_ring.hpp"
#include "agent/real_functions.hpp"
#include "agent/thread_registry.hpp"

// The process-wide switches and resolved functions the registry's code reads (lifecycle.cpp and
// real_functions.cpp define them in the agent): a running sidecar, in this process.
namespace memscope::agent {
std::atomic<bool> g_recording{true};
std::atomic<bool> g_sidecar_running{true};
std::atomic<bool> g_modules_changed{false};
std::atomic<uint32_t> g_trace_generation{0};
pid_t g_traced_pid = 0;
RealFunctions g_real{};
}  // namespace memscope::agent

using memscope::agent::AllocPayload;
using memscope::agent::EventRing;
using memscope::agent::FreePayload;
using memscope::agent::record_words;
using memscope::agent::RecordHeader;
using memscope::agent::RecordType;
using memscope::agent::ThreadPhase;
using memscope::agent::ThreadState;

namespace {

int g_failures = 0;

void check(bool cond, const char* what) {
  std::printf("%s: %s\n", cond ? "ok" : "FAIL", what);
  if (!cond) ++g_failures;
}

// --- 1. one ring, a producer, a signal handler nesting into it, a consumer -----------------

constexpr uint32_t kRingWords = 256;
constexpr uint64_t kProducerRecords = 300000;
constexpr uint64_t kHandlerTag = uint64_t{1} << 63;

std::vector<EventRing::Word> g_words(kRingWords);
EventRing g_ring;
std::atomic<uint64_t> g_handler_written{0};
std::atomic<bool> g_producer_done{false};
std::atomic<bool> g_signaller_done{false};
std::atomic<bool> g_producer_quiet{false};  // SIGUSR1 blocked: no handler runs any more

// Records of two lengths, so that they meet the ring's end at every offset.
void push(uint64_t value) {
  bool alloc = value % 2 == 0;
  uint32_t words = alloc ? record_words<AllocPayload>() : record_words<FreePayload>();
  uint64_t pos = g_ring.reserve(words);
  while (!g_ring.has_room_for(pos, words)) std::this_thread::yield();
  if (alloc) {
    g_ring.write(pos, AllocPayload{0, 0, value, 0});
    g_ring.publish(pos, RecordType::kAlloc, 0, words);
  } else {
    g_ring.write(pos, FreePayload{value, 0});
    g_ring.publish(pos, RecordType::kFree, 0, words);
  }
}

uint64_t pushed_value(const EventRing& ring, uint64_t pos, const RecordHeader& header) {
  return header.type == RecordType::kAlloc ? ring.read<AllocPayload>(pos).size
                                           : ring.read<FreePayload>(pos).stamp;
}

// A handler interrupting push() between reserve and publish reserves the next slot and may
// wait for room: the consumer can always drain up to the interrupted record, which is enough.
void on_signal(int) {
  push(kHandlerTag | g_handler_written.fetch_add(1));
}

void ring_with_signals() {
  g_ring.init(g_words.data(), kRingWords);
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);
  pthread_t producer_handle{};
  std::atomic<bool> producer_started{false};
  std::thread producer([&] {
    producer_handle = pthread_self();
    producer_started.store(true);
    for (uint64_t i = 0; i < kProducerRecords; ++i) push(i);
    g_producer_done.store(true);
    while (!g_signaller_done.load()) std::this_thread::yield();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    g_producer_quiet.store(true);
  });
  while (!producer_started.load()) std::this_thread::yield();
  std::thread signaller([&] {
    while (!g_producer_done.load()) {
      pthread_kill(producer_handle, SIGUSR1);
      usleep(50);
    }
    g_signaller_done.store(true);
  });
  uint64_t next_main = 0, next_handler = 0;
  bool in_order = true;
  while (true) {
    uint64_t pos = g_ring.head();
    RecordHeader header;
    if (!g_ring.published(pos, header)) {
      if (g_producer_quiet.load() && g_ring.reserved() == pos) break;
      std::this_thread::yield();
      continue;
    }
    uint64_t value = pushed_value(g_ring, pos, header);
    if (value & kHandlerTag) {
      in_order = in_order && (value & ~kHandlerTag) == next_handler++;
    } else {
      in_order = in_order && value == next_main++;
    }
    g_ring.advance_to(pos + header.words);
  }
  signaller.join();
  producer.join();
  signal(SIGUSR1, SIG_DFL);
  check(in_order, "ring: producer and handler records arrive in their own order");
  check(next_main == kProducerRecords, "ring: every producer record arrived once");
  check(next_handler == g_handler_written.load() && next_handler > 0,
        "ring: every handler record arrived once");
  std::printf("      %llu handler records\n", static_cast<unsigned long long>(next_handler));
}

// --- 2. the registry: threads come and go while a sidecar drains and reclaims -------------

constexpr int kThreads = 400;
constexpr int kRecordsPerThread = 200;
constexpr int kAtOnce = 8;

std::atomic<bool> g_stop_sidecar{false};
std::atomic<uint64_t> g_records{0}, g_starts{0}, g_ends{0}, g_reclaimed{0};

void* registry_worker(void*) {
  ThreadState* ts = memscope::agent::register_this_thread(1);
  if (ts == nullptr) return nullptr;
  for (int i = 0; i < kRecordsPerThread; ++i) {
    constexpr uint32_t kWords = record_words<AllocPayload>();
    uint64_t pos = ts->ring.reserve(kWords);
    while (!ts->ring.has_room_for(pos, kWords)) std::this_thread::yield();
    ts->ring.write(pos, AllocPayload{0, 0, static_cast<uint64_t>(i), 0});
    ts->ring.publish(pos, RecordType::kAlloc, 0, kWords);
  }
  return nullptr;  // the registry's key destructor records the end
}

void drain(ThreadState* ts) {
  while (true) {
    uint64_t pos = ts->ring.head();
    RecordHeader header;
    if (!ts->ring.published(pos, header)) return;
    if (header.type == RecordType::kAlloc) g_records.fetch_add(1);
    if (header.type == RecordType::kThreadStart) g_starts.fetch_add(1);
    if (header.type == RecordType::kThreadEnd) g_ends.fetch_add(1);
    ts->ring.advance_to(pos + header.words);
  }
}

void registry_stress() {
  memscope::agent::g_config.ring_slots = 64;
  memscope::agent::init_thread_registry();
  std::thread sidecar([] {
    while (true) {
      bool stop = g_stop_sidecar.load();
      for (ThreadState* ts = memscope::agent::registry_head(); ts != nullptr; ts = ts->next) {
        drain(ts);
        if (memscope::agent::try_reclaim(ts)) g_reclaimed.fetch_add(1);
      }
      if (stop) break;
      std::this_thread::yield();
    }
  });
  for (int done = 0; done < kThreads; done += kAtOnce) {
    pthread_t batch[kAtOnce];
    for (pthread_t& t : batch) pthread_create(&t, nullptr, registry_worker, nullptr);
    for (pthread_t& t : batch) pthread_join(t, nullptr);
  }
  usleep(100000);
  g_stop_sidecar.store(true);
  sidecar.join();
  size_t states = 0;
  for (ThreadState* ts = memscope::agent::registry_head(); ts != nullptr; ts = ts->next) ++states;
  check(g_records.load() == uint64_t{kThreads} * kRecordsPerThread,
        "registry: every record of every thread drained once");
  check(g_starts.load() == kThreads && g_ends.load() == kThreads,
        "registry: every thread's start and end drained once");
  check(g_reclaimed.load() > 0 && states < kThreads,
        "registry: ended threads' states are reclaimed and recycled");
  std::printf("      %zu states for %d threads, %llu reclaims\n", states, kThreads,
              static_cast<unsigned long long>(g_reclaimed.load()));
}

}  // namespace

int main() {
  memscope::agent::g_traced_pid = getpid();
  ring_with_signals();
  registry_stress();
  return g_failures == 0 ? 0 : 1;
}
