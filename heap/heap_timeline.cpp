// See heap_timeline.hpp.
#include "heap/heap_timeline.hpp"

#include <algorithm>

namespace memscope::heap {

// Halves the resolution: pairs of buckets become one of twice the width.
void HeapTimeline::coarsen() {
  std::vector<HeapBucket> merged;
  merged.reserve(buckets_.size() / 2 + 1);
  for (size_t i = 0; i < buckets_.size(); i += 2) {
    HeapBucket b = buckets_[i];
    if (i + 1 < buckets_.size()) {
      const HeapBucket& next = buckets_[i + 1];
      b.allocations += next.allocations;
      b.frees += next.frees;
      b.allocated_bytes += next.allocated_bytes;
      b.freed_bytes += next.freed_bytes;
      b.live_bytes_end = next.live_bytes_end;
      b.live_bytes_peak = std::max(b.live_bytes_peak, next.live_bytes_peak);
    }
    merged.push_back(b);
  }
  buckets_ = std::move(merged);
  bucket_ns_ *= 2;
}

HeapBucket& HeapTimeline::bucket_for(uint64_t stamp) {
  uint64_t since = stamp > origin_ns_ ? stamp - origin_ns_ : 0;
  // Long runs (or a damaged stamp far in the future) coarsen the buckets instead of growing
  // the series without bound.
  while (since / bucket_ns_ >= kMaxBuckets) coarsen();
  size_t index = static_cast<size_t>(since / bucket_ns_);
  // Buckets without events still carry the live heap forward.
  while (buckets_.size() <= index) {
    HeapBucket b;
    b.start_ns = origin_ns_ + buckets_.size() * bucket_ns_;
    b.live_bytes_end = live_bytes_;
    b.live_bytes_peak = live_bytes_;
    buckets_.push_back(b);
  }
  current_ = index;
  current_start_ = buckets_[index].start_ns;
  return buckets_[index];
}

HeapTimeline HeapTimeline::from_buckets(uint64_t bucket_ns, uint64_t origin_ns,
                                        std::vector<HeapBucket> buckets) {
  HeapTimeline t(bucket_ns);
  t.origin_ns_ = origin_ns;
  if (!buckets.empty()) t.live_bytes_ = buckets.back().live_bytes_end;
  t.buckets_ = std::move(buckets);
  return t;
}

}  // namespace memscope::heap
