// Unit tests of heap::Lookahead: whatever the number of events, every one reaches the model once,
// in the order given, and finish() leaves nothing waiting; a model fed through it ends with the
// figures of one fed directly.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "heap/heap_model.hpp"
#include "heap/lookahead.hpp"

using memscope::heap::EventKind;
using memscope::heap::HeapEvent;
using memscope::heap::HeapModel;
using memscope::heap::Lookahead;

namespace {

std::vector<HeapEvent> numbered(size_t count) {
  std::vector<HeapEvent> out;
  for (size_t i = 0; i < count; ++i) out.push_back({EventKind::kAlloc, 0, 1, i, 16 * i, 8, 1});
  return out;
}

}  // namespace

TEST_CASE("Lookahead hands on every event once, in order, however many there are") {
  HeapModel model;  // its live map starts empty: prefetching must cope with no slots
  for (size_t count : {0u, 1u, 15u, 16u, 17u, 100u}) {
    std::vector<HeapEvent> seen;
    auto apply = [&seen](const HeapEvent& e) { seen.push_back(e); };
    Lookahead late(model.live(), apply);
    std::vector<HeapEvent> given = numbered(count);
    for (const HeapEvent& e : given) late(e);
    CHECK(seen.size() == (count > Lookahead<decltype(apply)>::kDepth
                              ? count - Lookahead<decltype(apply)>::kDepth
                              : 0));
    late.finish();
    REQUIRE(seen.size() == count);
    for (size_t i = 0; i < count; ++i) CHECK(seen[i].stamp == given[i].stamp);
    // Reusable after finish(): the next events are not mixed with the earlier ones.
    late(given.empty() ? HeapEvent{} : given.front());
    late.finish();
    CHECK(seen.size() == count + 1);
  }
}

TEST_CASE("A model fed through Lookahead ends as one fed directly") {
  std::mt19937_64 rng(13);
  std::vector<HeapEvent> events;
  std::vector<uint64_t> live;
  for (uint64_t stamp = 1; stamp < 20000; ++stamp) {
    if (!live.empty() && rng() % 2 == 0) {
      size_t i = rng() % live.size();
      events.push_back(
          {EventKind::kFree, 0, 1 + static_cast<uint32_t>(rng() % 3), stamp, live[i], 0, 0});
      live[i] = live.back();
      live.pop_back();
    } else {
      uint64_t ptr = 0x1000 + 16 * (rng() % 50000);
      events.push_back({EventKind::kAlloc, 0, 1 + static_cast<uint32_t>(rng() % 3), stamp, ptr,
                        1 + rng() % 300, 1 + rng() % 5});
      live.push_back(ptr);  // a repeated address replaces the block, in both models alike
    }
  }
  HeapModel direct, late_model;
  for (const HeapEvent& e : events) direct.apply(e);
  auto apply = [&late_model](const HeapEvent& e) { late_model.apply(e); };
  Lookahead late(late_model.live(), apply);
  for (const HeapEvent& e : events) late(e);
  late.finish();
  CHECK(late_model.totals().allocations == direct.totals().allocations);
  CHECK(late_model.totals().frees == direct.totals().frees);
  CHECK(late_model.totals().live_bytes == direct.totals().live_bytes);
  CHECK(late_model.totals().peak_bytes == direct.totals().peak_bytes);
  CHECK(late_model.totals().peak_stamp == direct.totals().peak_stamp);
  CHECK(late_model.totals().unmatched_frees == direct.totals().unmatched_frees);
  CHECK(late_model.totals().temporary == direct.totals().temporary);
  REQUIRE(late_model.sites().size() == direct.sites().size());
  for (size_t i = 0; i < direct.sites().size(); ++i) {
    CHECK(late_model.sites()[i].peak_bytes == direct.sites()[i].peak_bytes);
    CHECK(late_model.sites()[i].lifetimes.counts == direct.sites()[i].lifetimes.counts);
  }
}
