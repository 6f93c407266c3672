// The heap summary record: a replayed heap survives encoding exactly, and damaged bodies are
// refused rather than half read.
#include <doctest/doctest.h>

#include "heap/heap_summary.hpp"

using namespace memscope::heap;

namespace {

HeapEvent alloc(uint64_t stamp, uint64_t ptr, uint64_t size, uint32_t tid, uint64_t stack) {
  return {EventKind::kAlloc, 0, tid, stamp, ptr, size, stack};
}
HeapEvent release(uint64_t stamp, uint64_t ptr, uint32_t tid) {
  return {EventKind::kFree, 0, tid, stamp, ptr, 0, 0};
}

// Two threads, three sites, a temporary, a peak in the middle and a leak; stamps across three
// 100 ms timeline buckets from an origin of 1 s.
struct Replayed {
  HeapModel heap;
  HeapTimeline timeline;
  uint64_t events = 0;
  Replayed() {
    timeline.set_origin(1'000'000'000);
    for (const HeapEvent& e :
         {alloc(1'000'000'010, 0x100, 64, 1, 1), release(1'000'000'020, 0x100, 1),
          alloc(1'050'000'000, 0x200, 4096, 2, 2), alloc(1'150'000'000, 0x300, 100000, 1, 3),
          release(1'160'000'000, 0x200, 1), release(1'250'000'000, 0x300, 2),
          alloc(1'260'000'000, 0x400, 24, 2, 2), release(1'270'000'000, 0xdead, 2)}) {
      uint64_t bytes = heap.apply(e);
      timeline.record(e, bytes, heap.totals().live_bytes);
      ++events;
    }
  }
};

void check_same_sites(const HeapModel& a, const HeapModel& b) {
  REQUIRE(a.sites().size() == b.sites().size());
  for (size_t i = 0; i < a.sites().size(); ++i) {
    const SiteStats& x = a.sites()[i];
    const SiteStats& y = b.sites()[i];
    CHECK(x.stack_id == y.stack_id);
    CHECK(x.first_stamp == y.first_stamp);
    CHECK(x.counts.allocations == y.counts.allocations);
    CHECK(x.counts.frees == y.counts.frees);
    CHECK(x.counts.allocated_bytes == y.counts.allocated_bytes);
    CHECK(x.counts.freed_bytes == y.counts.freed_bytes);
    CHECK(x.temporary == y.temporary);
    CHECK(x.live_allocations == y.live_allocations);
    CHECK(x.live_bytes == y.live_bytes);
    CHECK(x.peak_allocations == y.peak_allocations);
    CHECK(x.peak_bytes == y.peak_bytes);
    CHECK(x.sizes.counts == y.sizes.counts);
    CHECK(x.lifetimes.counts == y.lifetimes.counts);
  }
}

}  // namespace

TEST_CASE("a replayed heap survives the summary exactly") {
  Replayed r;
  std::vector<uint8_t> body;
  encode_heap_summary(r.heap, r.timeline, r.events, body);
  auto decoded = decode_heap_summary(body.data(), body.size());
  REQUIRE(decoded.has_value());
  CHECK(decoded->events == 8);

  const HeapTotals& t = decoded->heap.totals();
  CHECK(t.allocations == 4);
  CHECK(t.frees == 3);
  CHECK(t.unmatched_frees == 1);
  CHECK(t.peak_bytes == 104096);
  CHECK(t.peak_stamp == 1'150'000'000);
  CHECK(t.live_bytes == 24);
  CHECK(t.temporary == 3);  // all three freed blocks: no thread allocated between alloc and free
  check_same_sites(r.heap, decoded->heap);
  CHECK(decoded->heap.sites()[2].peak_bytes == 100000);  // site 3 held the peak's big block

  REQUIRE(decoded->heap.threads().size() == 2);
  CHECK(decoded->heap.threads().at(1).counts.allocations == 2);
  CHECK(decoded->heap.threads().at(2).live_bytes == 24);
  CHECK(decoded->heap.per_site().at(2).allocations == 2);

  const auto& buckets = decoded->timeline.buckets();
  REQUIRE(buckets.size() == r.timeline.buckets().size());
  REQUIRE(buckets.size() == 3);
  CHECK(decoded->timeline.bucket_ns() == r.timeline.bucket_ns());
  for (size_t i = 0; i < buckets.size(); ++i) {
    const HeapBucket& want = r.timeline.buckets()[i];
    CHECK(buckets[i].start_ns == want.start_ns);
    CHECK(buckets[i].allocations == want.allocations);
    CHECK(buckets[i].frees == want.frees);
    CHECK(buckets[i].allocated_bytes == want.allocated_bytes);
    CHECK(buckets[i].freed_bytes == want.freed_bytes);
    CHECK(buckets[i].live_bytes_end == want.live_bytes_end);
    CHECK(buckets[i].live_bytes_peak == want.live_bytes_peak);
  }
  CHECK(buckets[1].live_bytes_peak == 104096);
}

TEST_CASE("a damaged summary body is refused, never half read") {
  Replayed r;
  std::vector<uint8_t> body;
  encode_heap_summary(r.heap, r.timeline, r.events, body);
  for (size_t cut = 0; cut < body.size(); ++cut)
    CHECK_FALSE(decode_heap_summary(body.data(), cut).has_value());
  std::vector<uint8_t> longer = body;
  longer.push_back(0);
  CHECK_FALSE(decode_heap_summary(longer.data(), longer.size()).has_value());
  std::vector<uint8_t> newer = body;
  newer[0] = static_cast<uint8_t>(kHeapSummaryVersion + 1);
  CHECK_FALSE(decode_heap_summary(newer.data(), newer.size()).has_value());
}
