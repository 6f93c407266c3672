// Heap activity over time: the replayed events folded into fixed buckets (100 ms by default)
// from the process's start, so they can be lined up with the collector's metric samples. At
// most kMaxBuckets buckets are kept: a longer run doubles the bucket width (as often as needed).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "heap/heap_event.hpp"

namespace memscope::heap {

struct HeapBucket {
  uint64_t start_ns = 0;  // CLOCK_MONOTONIC, inclusive
  uint64_t allocations = 0;
  uint64_t frees = 0;
  uint64_t allocated_bytes = 0;
  uint64_t freed_bytes = 0;
  uint64_t live_bytes_end = 0;   // live heap when the bucket ended
  uint64_t live_bytes_peak = 0;  // highest live heap within the bucket
};

class HeapTimeline {
 public:
  explicit HeapTimeline(uint64_t bucket_ns = 100'000'000ull) : bucket_ns_(bucket_ns) {}
  void set_origin(uint64_t origin_ns) { origin_ns_ = origin_ns; }
  // A timeline holding the buckets of a finished replay (heap_summary.hpp).
  static HeapTimeline from_buckets(uint64_t bucket_ns, uint64_t origin_ns,
                                   std::vector<HeapBucket> buckets);
  // Called for every event the heap model applied, with the live heap after it. Inline: the
  // replay calls it per event, and nearly every event falls in the bucket of the one before.
  void record(const HeapEvent& e, uint64_t block_bytes, uint64_t live_bytes_after) {
    add(e.stamp, e.kind, 1, block_bytes, live_bytes_after);
  }
  // The same for `count` blocks of `bytes` in all: a sampled event, weighted by its estimate.
  void add(uint64_t stamp, EventKind kind, uint64_t count, uint64_t bytes,
           uint64_t live_bytes_after) {
    // Replayed events come in stamp order: nearly all fall in the bucket of the event before.
    bool same = stamp - current_start_ < bucket_ns_ && !buckets_.empty();
    HeapBucket& b = same ? buckets_[current_] : bucket_for(stamp);
    if (kind == EventKind::kAlloc) {
      b.allocations += count;
      b.allocated_bytes += bytes;
    } else {
      b.frees += count;
      b.freed_bytes += bytes;
    }
    live_bytes_ = live_bytes_after;
    b.live_bytes_end = live_bytes_after;
    b.live_bytes_peak = std::max(b.live_bytes_peak, live_bytes_after);
  }

  static constexpr uint64_t kMaxBuckets = 1 << 16;  // 1.8 hours at 100 ms

  uint64_t bucket_ns() const { return bucket_ns_; }
  uint64_t origin_ns() const { return origin_ns_; }
  const std::vector<HeapBucket>& buckets() const { return buckets_; }

 private:
  HeapBucket& bucket_for(uint64_t stamp);  // a bucket other than the current one
  void coarsen();

  uint64_t bucket_ns_;
  uint64_t origin_ns_ = 0;
  uint64_t live_bytes_ = 0;
  std::vector<HeapBucket> buckets_;
  size_t current_ = 0;  // the bucket of the latest event, which starts at current_start_
  uint64_t current_start_ = 0;
};

}  // namespace memscope::heap
