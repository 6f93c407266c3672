// Unit tests of the heap replay: DHAT's counting rules and the stamp-ordered release of events
// that arrive out of order between watermarks.
#include <doctest/doctest.h>

#include "analyzer/heap_names.hpp"
#include "analyzer/process_analysis.hpp"

using namespace memscope::analyzer;

namespace {

HeapEvent alloc(uint64_t stamp, uint64_t ptr, uint64_t size, uint32_t tid = 1) {
  return {EventKind::kAlloc, 0, tid, stamp, ptr, size, 7};
}
HeapEvent release(uint64_t stamp, uint64_t ptr, uint32_t tid = 1) {
  return {EventKind::kFree, 0, tid, stamp, ptr, 0, 0};
}

}  // namespace

TEST_CASE("totals, peak and leaks follow DHAT's rules") {
  HeapModel h;
  h.apply(alloc(1, 0x1000, 100));
  h.apply(release(2, 0x1000));  // realloc 100 -> 200: free part first
  h.apply(alloc(3, 0x2000, 200));
  h.apply(alloc(4, 0x3000, 10));
  h.apply(release(5, 0x9999));  // never allocated
  const HeapTotals& t = h.totals();
  CHECK(t.allocations == 3);
  CHECK(t.allocated_bytes == 310);
  CHECK(t.frees == 1);
  CHECK(t.peak_bytes == 210);
  CHECK(t.live_allocations == 2);
  CHECK(t.live_bytes == 210);
  CHECK(t.unmatched_frees == 1);
}

TEST_CASE("a fork child inherits live blocks, not totals") {
  HeapModel parent;
  parent.apply(alloc(1, 0x10, 50));
  parent.apply(alloc(2, 0x20, 70));
  HeapModel child;
  child.inherit(parent);
  child.apply(release(3, 0x10));
  CHECK(child.totals().allocations == 0);
  CHECK(child.totals().frees == 1);
  CHECK(child.totals().live_bytes == 70);
  CHECK(child.sites().at(child.live().at(0x20).site).stack_id == kInheritedStack);
}

TEST_CASE("events are released in stamp order up to the watermark") {
  ProcessAnalysis p("unused");
  // Thread 2's free of a block thread 1 allocated arrives first in the file.
  p.heap_event(release(20, 0x1000, 2));
  p.heap_event(alloc(10, 0x1000, 64, 1));
  p.watermark(15);  // only the allocation may be applied yet
  CHECK(p.heap().totals().allocations == 1);
  CHECK(p.heap().totals().frees == 0);
  p.watermark(25);
  CHECK(p.heap().totals().frees == 1);
  CHECK(p.heap().totals().unmatched_frees == 0);
  CHECK(p.heap().totals().live_bytes == 0);
}

TEST_CASE("a far-off stamp coarsens the heap timeline instead of growing it without bound") {
  HeapTimeline t;
  t.set_origin(1000);
  t.record(alloc(1000, 0x10, 64), 64, 64);
  t.record(alloc(1000 + 250'000'000, 0x20, 32), 32, 96);             // bucket 2 at 100 ms
  t.record(release(1000 + 3'600'000'000'000'000ull, 0x10), 64, 32);  // ~41 days later: damage
  CHECK(t.buckets().size() <= HeapTimeline::kMaxBuckets);
  CHECK(t.bucket_ns() > 100'000'000ull);
  uint64_t allocations = 0, frees = 0;
  for (const HeapBucket& b : t.buckets()) allocations += b.allocations, frees += b.frees;
  CHECK(allocations == 2);
  CHECK(frees == 1);
  CHECK(t.buckets().front().live_bytes_peak == 96);
  CHECK(t.buckets().back().live_bytes_end == 32);
}
