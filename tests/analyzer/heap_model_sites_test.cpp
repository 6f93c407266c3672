// Unit tests of the per-site heap model: temporary allocations, histograms, the live set at the
// global peak (kept lazily), per-thread live heap, and fork inheritance.
#include <doctest/doctest.h>

#include "analyzer/heap_names.hpp"

using namespace memscope::analyzer;

namespace {

HeapEvent alloc(uint64_t stamp, uint64_t ptr, uint64_t size, uint64_t stack, uint32_t tid = 1) {
  return {EventKind::kAlloc, 0, tid, stamp, ptr, size, stack};
}
HeapEvent release(uint64_t stamp, uint64_t ptr, uint32_t tid = 1) {
  return {EventKind::kFree, 0, tid, stamp, ptr, 0, 0};
}

const SiteStats& site(const HeapModel& h, uint64_t stack) {
  for (const SiteStats& s : h.sites())
    if (s.stack_id == stack) return s;
  FAIL("no site " << stack);
  return h.sites().front();
}

}  // namespace

TEST_CASE("a block is temporary when its thread allocated nothing before it was freed") {
  HeapModel h;
  h.apply(alloc(1, 0x10, 8, 1));
  h.apply(release(2, 0x10));  // temporary
  h.apply(alloc(3, 0x20, 8, 2));
  h.apply(alloc(4, 0x30, 8, 3));
  h.apply(release(5, 0x20));  // not: 0x30 was allocated in between
  h.apply(release(6, 0x30));  // temporary: frees in between do not count
  h.apply(alloc(7, 0x40, 8, 4, 1));
  h.apply(alloc(8, 0x50, 8, 5, 2));  // another thread's allocation does not count
  h.apply(release(9, 0x40, 2));      // temporary, though freed by thread 2
  CHECK(site(h, 1).temporary == 1);
  CHECK(site(h, 2).temporary == 0);
  CHECK(site(h, 3).temporary == 1);
  CHECK(site(h, 4).temporary == 1);
  CHECK(h.totals().temporary == 3);
  CHECK(h.threads().at(1).temporary == 3);
  CHECK(h.threads().at(2).temporary == 0);
}

TEST_CASE("size and lifetime histograms use log2 buckets") {
  HeapModel h;
  h.apply(alloc(100, 0x10, 0, 1));
  h.apply(alloc(100, 0x20, 1, 1));
  h.apply(alloc(100, 0x30, 1024, 1));
  h.apply(release(100, 0x10));   // lifetime 0
  h.apply(release(103, 0x20));   // 3 ns: bucket [2, 4)
  h.apply(release(1124, 0x30));  // 1024 ns: bucket [1024, 2048)
  const SiteStats& s = site(h, 1);
  REQUIRE(s.sizes.counts.size() == 12);
  CHECK(s.sizes.counts[0] == 1);
  CHECK(s.sizes.counts[1] == 1);
  CHECK(s.sizes.counts[11] == 1);
  REQUIRE(s.lifetimes.counts.size() == 12);
  CHECK(s.lifetimes.counts[0] == 1);
  CHECK(s.lifetimes.counts[2] == 1);
  CHECK(s.lifetimes.counts[11] == 1);
}

TEST_CASE("the live set at the global peak is kept per site") {
  HeapModel h;
  h.apply(alloc(1, 0x10, 100, 1));
  h.apply(alloc(2, 0x20, 50, 2));
  h.apply(release(3, 0x10));
  h.apply(alloc(4, 0x30, 300, 3));  // peak: site 2 50, site 3 300
  h.apply(release(5, 0x30));
  h.apply(alloc(6, 0x40, 200, 1));  // 250 < 350: no new peak
  h.apply(alloc(7, 0x50, 10, 2));
  CHECK(h.totals().peak_bytes == 350);
  CHECK(h.totals().peak_stamp == 4);
  CHECK(site(h, 1).peak_bytes == 0);
  CHECK(site(h, 2).peak_bytes == 50);
  CHECK(site(h, 2).peak_allocations == 1);
  CHECK(site(h, 3).peak_bytes == 300);
  CHECK(site(h, 1).live_bytes == 200);  // leaked
  CHECK(site(h, 2).live_bytes == 60);
}

TEST_CASE("a later, higher peak replaces the earlier one") {
  HeapModel h;
  h.apply(alloc(1, 0x10, 100, 1));
  h.apply(release(2, 0x10));
  h.apply(alloc(3, 0x20, 60, 2));
  h.apply(alloc(4, 0x30, 60, 2));
  CHECK(h.totals().peak_bytes == 120);
  CHECK(site(h, 1).peak_bytes == 0);
  CHECK(site(h, 2).peak_bytes == 120);
  CHECK(site(h, 2).peak_allocations == 2);
}

TEST_CASE("per-thread live heap counts the blocks each thread allocated") {
  HeapModel h;
  h.apply(alloc(1, 0x10, 100, 1, 1));
  h.apply(alloc(2, 0x20, 40, 1, 2));
  h.apply(release(3, 0x10, 2));  // thread 2 frees thread 1's block
  CHECK(h.threads().at(1).live_bytes == 0);
  CHECK(h.threads().at(2).live_bytes == 40);
  CHECK(h.threads().at(2).counts.frees == 1);
  CHECK(h.threads().at(2).counts.freed_bytes == 100);
  CHECK(h.per_thread().at(1).allocations == 1);
  CHECK(h.per_site().at(1).allocated_bytes == 140);
}

TEST_CASE("a fork child's inherited blocks form one site and are no thread's") {
  HeapModel parent;
  parent.apply(alloc(1, 0x10, 50, 1));
  parent.apply(alloc(2, 0x20, 70, 2));
  HeapModel snapshot = parent;  // as ProcessAnalysis keeps it at the fork
  parent.apply(alloc(3, 0x30, 5, 3));
  HeapModel child;
  child.inherit(snapshot);
  child.apply(release(4, 0x10, 9));
  child.apply(alloc(5, 0x40, 1, 4, 9));
  const SiteStats& inherited = site(child, kInheritedStack);
  CHECK(inherited.live_allocations == 1);
  CHECK(inherited.live_bytes == 70);
  CHECK(inherited.counts.frees == 1);
  CHECK(inherited.lifetimes.counts.empty());
  CHECK(child.threads().at(9).live_bytes == 1);
  CHECK(site(child, kInheritedStack).peak_bytes == 70);  // the child's peak: 70 + 1
}
