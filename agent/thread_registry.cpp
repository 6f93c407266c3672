// See thread_registry.hpp. Registration costs one mmap per new thread (or none when a state is
// recycled from the free stack); nothing here takes a lock or allocates through the hooks. A
// thread's start and end records wait for room like any other (ring_room.hpp), never dropped
// while a sidecar can make room.
#include "agent/thread_registry.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/lockfree/stack.hpp>
#include <cerrno>
#include <cstring>
#include <new>

#include "agent/clock.hpp"
#include "agent/config.hpp"
#include "agent/last_thread.hpp"
#include "agent/ring_room.hpp"
#include "agent/thread_mode.hpp"

namespace memscope::agent {

thread_local constinit ThreadMode t_mode __attribute__((tls_model("initial-exec"))) =
    ThreadMode::kApplication;

namespace {

thread_local ThreadState* t_state __attribute__((tls_model("initial-exec"))) = nullptr;

std::atomic<ThreadState*> g_head{nullptr};
// Ended threads' states, ready for reuse. Fixed capacity: never allocates after construction.
boost::lockfree::stack<ThreadState*, boost::lockfree::capacity<1024>>* g_free = nullptr;
pthread_key_t g_end_key;
std::atomic<bool> g_key_ready{false};

pid_t current_tid() {
  return static_cast<pid_t>(syscall(SYS_gettid));
}

// A signal handler's records need less room: a quarter ring, at least the smallest ring.
uint32_t nested_ring_slots() {
  return g_config.ring_slots / 4 < 1024 ? g_config.ring_slots : g_config.ring_slots / 4;
}

// The state on pages of its own, the rings on the pages after it (MEMSCOPE_RING_SLOTS counts
// 64-byte slots).
size_t header_bytes() {
  size_t page = static_cast<size_t>(getpagesize());
  return (sizeof(ThreadState) + page - 1) / page * page;
}

size_t slot_bytes() {
  return size_t{g_config.ring_slots + nested_ring_slots()} * EventRing::kWordsPerSlot *
         sizeof(EventRing::Word);
}

ThreadState* map_new_state() {
  void* block = mmap(nullptr, header_bytes() + slot_bytes(), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) return nullptr;
  auto* state = new (block) ThreadState{};
  auto* words = reinterpret_cast<EventRing::Word*>(static_cast<char*>(block) + header_bytes());
  // A fork child discards every ring (reset_registry_after_fork), so it gets them zeroed (no
  // record published) instead of copied: fork need not copy their page tables, and the parent's
  // threads do not take a copy-on-write fault on every ring page after every fork. Where the
  // kernel lacks it (before 4.14) they are copied as before.
  madvise(words, slot_bytes(), MADV_WIPEONFORK);
  constexpr uint32_t kPerSlot = EventRing::kWordsPerSlot;
  state->ring.init(words, g_config.ring_slots * kPerSlot);
  state->nested_ring.init(words + g_config.ring_slots * kPerSlot, nested_ring_slots() * kPerSlot);
  ThreadState* head = g_head.load();
  do {
    state->next = head;
  } while (!g_head.compare_exchange_weak(head, state));
  return state;
}

ThreadState* take_recycled_state() {
  ThreadState* state = nullptr;
  if (g_free == nullptr || !g_free->pop(state)) return nullptr;
  // The stack cache stays: its stacks were sent to this trace, whose sidecar still knows them
  // (a new trace bumps g_trace_generation, which empties caches as they are next used).
  state->ring_waits = 0;
  state->ring_wait_ns = 0;
  state->gate_wait_ns = 0;
  state->dropped_events = 0;
  return state;
}

void write_thread_start(ThreadState* ts) {
  read_thread_cpu(ts->cpu_at_start);
  Claim claim;
  constexpr uint32_t kWords = record_words<ThreadStartPayload>();
  if (!begin_claim(ts, kWords, false, claim)) return;
  ThreadStartPayload start{now_ns(), static_cast<uint64_t>(ts->tid),
                           static_cast<uint64_t>(ts->parent_tid)};
  claim.ring->write(claim.pos, start);
  claim.ring->publish(claim.pos, RecordType::kThreadStart, 0, kWords);
  end_claim(claim);
}

void on_thread_key_destroyed(void*) {
  end_this_thread();
}

}  // namespace

void init_thread_registry() {
  ScopedMode passthrough(ThreadMode::kPassthrough);
  static boost::lockfree::stack<ThreadState*, boost::lockfree::capacity<1024>> free_states;
  g_free = &free_states;
  if (pthread_key_create(&g_end_key, on_thread_key_destroyed) == 0) g_key_ready = true;
}

ThreadState* register_this_thread(pid_t parent_tid) {
  if (t_state != nullptr) return t_state;
  ScopedMode passthrough(ThreadMode::kPassthrough);
  ThreadState* ts = take_recycled_state();
  if (ts == nullptr) ts = map_new_state();
  if (ts == nullptr) return nullptr;
  ts->tid = current_tid();
  ts->parent_tid = parent_tid;
  ts->phase.store(ThreadPhase::kLive);
  t_state = ts;
  write_thread_start(ts);
  if (g_key_ready) pthread_setspecific(g_end_key, ts);
  return ts;
}

ThreadState* this_thread_state() {
  if (t_state != nullptr) return t_state;
  return register_this_thread(0);
}

void end_this_thread() {
  ThreadState* ts = t_state;
  if (ts == nullptr || ts->phase.load() != ThreadPhase::kLive) return;
  note_thread_leaving();
  read_thread_cpu(ts->cpu_at_end);
  Claim claim;
  constexpr uint32_t kWords = record_words<ThreadEndPayload>();
  if (begin_claim(ts, kWords, false, claim)) {
    ThreadEndPayload end{now_ns(), static_cast<uint64_t>(ts->tid), {}};
    prctl(PR_GET_NAME, end.name);
    claim.ring->write(claim.pos, end);
    claim.ring->publish(claim.pos, RecordType::kThreadEnd, 0, kWords);
    end_claim(claim);
  }
  ts->phase.store(ThreadPhase::kEnded);
}

void add_gate_wait(uint64_t ns) {
  if (t_state != nullptr) t_state->gate_wait_ns.fetch_add(ns, std::memory_order_relaxed);
}

ThreadState* registry_head() {
  return g_head.load(std::memory_order_acquire);
}

bool try_reclaim(ThreadState* ts) {
  if (ts->phase.load() != ThreadPhase::kEnded) return false;
  if (ts->ring.head() != ts->ring.reserved()) return false;
  if (ts->nested_ring.head() != ts->nested_ring.reserved()) return false;
  if (syscall(SYS_tgkill, getpid(), ts->tid, 0) == 0 || errno != ESRCH) return false;
  if (g_free == nullptr) return false;
  // Marked before it is offered: once pushed, a new thread may pop it and mark it live at
  // once, and a later store would hide that thread from every drain.
  ts->phase.store(ThreadPhase::kReclaimable);
  if (g_free->push(ts)) return true;
  ts->phase.store(ThreadPhase::kEnded);
  return false;
}

// The interior pages are dropped (they read as zero again) rather than written: a memset of the
// 64 KiB took a page fault copying the parent's page for each, in every fork child, where its
// next few stacks touch a page or two.
void forget_sent_stacks_after_fork(uint32_t generation) {
  ThreadState* ts = t_state;
  if (ts == nullptr) return;
  auto begin = reinterpret_cast<uintptr_t>(ts->stack_cache);
  uintptr_t end = begin + sizeof(ts->stack_cache);
  auto page = static_cast<uintptr_t>(getpagesize());
  uintptr_t inner_begin = (begin + page - 1) & ~(page - 1), inner_end = end & ~(page - 1);
  int saved_errno = errno;
  if (inner_end > inner_begin &&
      madvise(reinterpret_cast<void*>(inner_begin), inner_end - inner_begin, MADV_DONTNEED) == 0) {
    std::memset(reinterpret_cast<void*>(begin), 0, inner_begin - begin);
    std::memset(reinterpret_cast<void*>(inner_end), 0, end - inner_end);
  } else {
    std::memset(ts->stack_cache, 0, sizeof(ts->stack_cache));
  }
  errno = saved_errno;
  for (uint32_t& g : ts->stack_cache_generation) g = generation;
}

void reset_registry_after_fork() {
  for (ThreadState* ts = registry_head(); ts != nullptr; ts = ts->next) {
    if (ts == t_state) {
      ts->ring.discard_all();
      ts->nested_ring.discard_all();
      ts->tid = current_tid();
      ts->parent_tid = 0;
      write_thread_start(ts);
    } else if (ts->phase.load() != ThreadPhase::kReclaimable) {
      ts->ring.discard_all();
      ts->nested_ring.discard_all();
      ts->phase.store(ThreadPhase::kReclaimable);
      if (g_free != nullptr) g_free->push(ts);
    }
  }
}

}  // namespace memscope::agent
