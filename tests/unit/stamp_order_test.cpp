// Unit tests of heap::StampOrder against a stable sort: whatever the threads, stretches and
// watermarks, released events come out earliest stamp first, ties in arrival order, and only
// those stamped before the watermark.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "heap/stamp_order.hpp"

using memscope::heap::EventKind;
using memscope::heap::HeapEvent;
using memscope::heap::StampOrder;

namespace {

// Events of `threads` threads, each in stamp order, arriving in stretches of random length
// (as the sidecar drains rings and the reader delivers chunks); ptr numbers them by arrival.
std::vector<HeapEvent> arrivals(std::mt19937_64& rng, unsigned threads, size_t count,
                                uint64_t max_step) {
  std::vector<uint64_t> clock(threads, 0);
  std::vector<HeapEvent> out;
  while (out.size() < count) {
    auto tid = static_cast<uint32_t>(rng() % threads);
    size_t stretch = 1 + rng() % 40;
    for (size_t i = 0; i < stretch && out.size() < count; ++i) {
      clock[tid] += rng() % (max_step + 1);  // equal stamps happen (max_step small)
      out.push_back({EventKind::kAlloc, 0, tid + 100, clock[tid], out.size(), 1, 0});
    }
  }
  return out;
}

std::vector<HeapEvent> stable_sorted(std::vector<HeapEvent> events) {
  std::stable_sort(events.begin(), events.end(),
                   [](const HeapEvent& a, const HeapEvent& b) { return a.stamp < b.stamp; });
  return events;
}

// Seed `seed`'s arrivals: 1 to 5 threads, and for every third seed stamps that tie often.
struct Scenario {
  unsigned threads;
  std::vector<HeapEvent> in;
};
Scenario scenario(unsigned seed, std::mt19937_64& rng) {
  unsigned threads = 1 + seed % 5;
  uint64_t max_step = seed % 3 == 0 ? 1 : 50;
  return {threads, arrivals(rng, threads, 3000, max_step)};
}

// After the last release: everything came out, in the stable sort's order.
void check_all_released_in_order(StampOrder& order, std::vector<HeapEvent>& out,
                                 const std::vector<HeapEvent>& in, unsigned seed) {
  order.release_before(UINT64_MAX, [&out](const HeapEvent& e) { out.push_back(e); });
  CHECK(order.held() == 0);
  std::vector<HeapEvent> want = stable_sorted(in);
  REQUIRE(out.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("seed " << seed << ", event " << i);
    REQUIRE(out[i].ptr == want[i].ptr);
  }
}

}  // namespace

TEST_CASE("StampOrder releases in stamp order, ties in arrival order, up to each watermark") {
  for (unsigned seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 rng(seed);
    auto [threads, in] = scenario(seed, rng);
    StampOrder order;
    std::vector<HeapEvent> out;
    auto sink = [&out](const HeapEvent& e) { out.push_back(e); };
    size_t fed = 0;
    while (fed < in.size()) {
      size_t n = std::min(in.size() - fed, size_t{1} + rng() % 300);
      if (seed % 2 == 0) {
        order.hold(in.data() + fed, n);
      } else {
        for (size_t i = 0; i < n; ++i) order.hold(in[fed + i]);
      }
      fed += n;
      // A watermark no later than every thread's latest stamp, as the sidecar's are.
      uint64_t mark = UINT64_MAX;
      for (unsigned t = 0; t < threads; ++t) {
        uint64_t latest = 0;
        for (size_t i = 0; i < fed; ++i)
          if (in[i].tid == t + 100) latest = in[i].stamp;
        mark = std::min(mark, latest);
      }
      size_t before = out.size();
      order.release_before(mark, sink);
      for (size_t i = before; i < out.size(); ++i) REQUIRE(out[i].stamp < mark);
    }
    check_all_released_in_order(order, out, in, seed);
  }
}

TEST_CASE("StampOrder keeps a thread's held events for a fork child, in stamp order") {
  StampOrder order;
  std::vector<HeapEvent> in = {{EventKind::kAlloc, 0, 1, 5, 0, 1, 0},
                               {EventKind::kAlloc, 0, 1, 6, 1, 1, 0},
                               {EventKind::kAlloc, 0, 2, 3, 2, 1, 0},
                               {EventKind::kAlloc, 0, 1, 9, 3, 1, 0}};
  order.hold(in.data(), in.size());
  std::vector<uint64_t> seen;
  order.for_each_held_of(1, [&](const HeapEvent& e) { seen.push_back(e.ptr); });
  CHECK(seen == std::vector<uint64_t>{0, 1, 3});
}

// The reader's way: each chunk's events lent in pieces between its watermarks, kept (copied) at
// the chunk's end, after which the chunk's buffer is overwritten as the next chunk reuses it. Any
// event read from a buffer after keep_lent() would come out as garbage and fail the comparison.
TEST_CASE("StampOrder releases lent events as held ones, and keeps them when the lender's go") {
  for (unsigned seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 rng(seed);
    auto [threads, in] = scenario(seed, rng);
    StampOrder order;
    std::vector<HeapEvent> out;
    auto sink = [&out](const HeapEvent& e) { out.push_back(e); };
    std::vector<HeapEvent> chunk;  // the reader's buffer, reused chunk after chunk
    size_t fed = 0;
    std::vector<uint64_t> latest(threads, 0);
    while (fed < in.size()) {
      size_t chunk_events = std::min(in.size() - fed, size_t{1} + rng() % 700);
      chunk.assign(in.begin() + static_cast<ptrdiff_t>(fed),
                   in.begin() + static_cast<ptrdiff_t>(fed + chunk_events));
      for (size_t done = 0; done < chunk_events;) {
        size_t n = std::min(chunk_events - done, size_t{1} + rng() % 200);
        if (seed % 4 == 0 && rng() % 5 == 0) {
          order.hold(chunk.data() + done, n);  // a copy among the loans
        } else {
          order.lend(chunk.data() + done, n);
        }
        for (size_t i = done; i < done + n; ++i) latest[chunk[i].tid - 100] = chunk[i].stamp;
        done += n;
        uint64_t mark = *std::min_element(latest.begin(), latest.end());
        size_t before = out.size();
        order.release_before(mark, sink);
        for (size_t i = before; i < out.size(); ++i) REQUIRE(out[i].stamp < mark);
      }
      std::vector<uint64_t> held_of_first;
      order.for_each_held_of(100, [&](const HeapEvent& e) { held_of_first.push_back(e.stamp); });
      CHECK(std::is_sorted(held_of_first.begin(), held_of_first.end()));
      order.keep_lent();
      for (HeapEvent& e : chunk) e = {EventKind::kFree, 0, 0, 0, ~0ull, 0, 0};
      fed += chunk_events;
    }
    check_all_released_in_order(order, out, in, seed);
  }
}
