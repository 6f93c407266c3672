// The agent's online heap: it gives up, freeing what it holds, when events wait for a
// watermark beyond what its model leaves of its budget, or its model outgrows the budget;
// otherwise its
// summary is the heap of the events it was given.
#include <doctest/doctest.h>

#include <vector>

#include "agent/online_heap.hpp"
#include "heap/heap_summary.hpp"

using memscope::agent::AllocPayload;
using memscope::agent::EventRing;
using memscope::agent::FreePayload;
using memscope::agent::OnlineHeap;
using memscope::agent::record_words;
using memscope::agent::RecordHeader;
using memscope::agent::RecordType;

namespace {

// Hands `heap` one record of thread `tid`, as the sidecar reads it from a ring.
void add(OnlineHeap& heap, uint32_t tid, RecordType type, uint64_t stamp, uint64_t ptr,
         uint64_t size = 0, uint64_t stack = 0) {
  std::vector<EventRing::Word> words(8);
  EventRing ring;
  ring.init(words.data(), 8);
  if (type == RecordType::kAlloc) {
    ring.write(0, AllocPayload{stamp, ptr, size, 0});
    ring.publish(0, type, 0, record_words<AllocPayload>());
  } else {
    ring.write(0, FreePayload{stamp, ptr});
    ring.publish(0, type, 0, record_words<FreePayload>());
  }
  RecordHeader header;
  REQUIRE(ring.published(0, header));
  heap.add(memscope::agent::heap_events(tid, ring, 0, header, stack));
}

}  // namespace

TEST_CASE("events released at watermarks end in the summary") {
  OnlineHeap heap(0, 1 << 20);
  add(heap, 7, RecordType::kAlloc, 10, 0x1000, 100, 1);
  add(heap, 7, RecordType::kAlloc, 20, 0x2000, 50, 1);
  heap.release_before(15);
  add(heap, 7, RecordType::kFree, 30, 0x1000, 0, 0);
  std::vector<uint8_t> body;
  REQUIRE(heap.finish(body));
  auto summary = memscope::heap::decode_heap_summary(body.data(), body.size());
  REQUIRE(summary.has_value());
  CHECK(summary->events == 3);
  CHECK(summary->heap.totals().allocations == 2);
  CHECK(summary->heap.totals().frees == 1);
  CHECK(summary->heap.totals().live_bytes == 50);
  CHECK(summary->heap.totals().peak_bytes == 150);
}

TEST_CASE("too many events waiting for a watermark: the model gives up") {
  constexpr size_t kBudget = 1 << 20;  // holds 26214 events: the queue stops at 16384
  OnlineHeap heap(0, kBudget);
  uint64_t stamp = 0;
  for (int i = 0; i < 20000; ++i) {  // released as they come: never more than 100 wait
    add(heap, 1, RecordType::kAlloc, ++stamp, 0x1000 + 16 * (i % 50), 16, 1);
    add(heap, 1, RecordType::kFree, ++stamp, 0x1000 + 16 * (i % 50));
    if (i % 50 == 49) heap.release_before(stamp + 1);
  }
  CHECK(heap.active());
  int held = 0;
  for (; held < 30000 && heap.active(); ++held)  // a stalled watermark
    add(heap, 1, RecordType::kAlloc, ++stamp, 0x100000 + 16 * held, 16, 1);
  CHECK(held > 10000);  // most of the budget served before it gave up
  CHECK_FALSE(heap.active());
  std::vector<uint8_t> body;
  CHECK_FALSE(heap.finish(body));
  CHECK(body.empty());
}

TEST_CASE("a model larger than its budget gives up") {
  OnlineHeap heap(0, 64 << 10);
  uint64_t stamp = 0;
  for (int i = 0; i < 5000 && heap.active(); ++i) {  // 5000 live blocks: far over 64 KiB
    add(heap, 1, RecordType::kAlloc, ++stamp, 0x1000 + 16 * i, 16, 1);
    heap.release_before(stamp + 1);
  }
  CHECK_FALSE(heap.active());
}

TEST_CASE("a budget of 0 turns the model off") {
  OnlineHeap heap(0, 0);
  CHECK_FALSE(heap.active());
  std::vector<uint8_t> body;
  CHECK_FALSE(heap.finish(body));
}

TEST_CASE("a fork child inherits the live blocks and the forking thread's held events only") {
  OnlineHeap parent(0, 1 << 20);
  add(parent, 1, RecordType::kAlloc, 10, 0x1000, 100, 1);
  parent.release_before(15);  // released: live in the parent's model
  // Held (no watermark yet), interleaved by drain: thread 2 forks, thread 3 does not.
  add(parent, 2, RecordType::kAlloc, 20, 0x2000, 20, 1);
  add(parent, 3, RecordType::kAlloc, 21, 0x3000, 30, 1);
  add(parent, 2, RecordType::kAlloc, 22, 0x4000, 40, 1);
  add(parent, 3, RecordType::kAlloc, 23, 0x5000, 50, 1);
  add(parent, 2, RecordType::kFree, 24, 0x2000);
  parent.release_before(21);  // releases thread 2's first alloc; the rest stays held
  // As forking_thread_tail makes it: thread 2's held events, then its undrained ones.
  std::vector<memscope::heap::HeapEvent> tail;
  parent.append_held_of(2, tail);
  CHECK(tail.size() == 2);
  tail.push_back({memscope::heap::EventKind::kAlloc, 0, 2, 30, 0x6000, 60, 1});
  auto child = OnlineHeap::inheriting(0, 1 << 20, parent, tail);
  REQUIRE(child);
  const memscope::heap::HeapModel* model = child->settle();
  REQUIRE(model != nullptr);
  CHECK(model->totals().live_bytes == 100 + 40 + 60);
  CHECK(model->totals().live_allocations == 3);
}
