// See heap_model.hpp.
#include "analyzer/heap_model.hpp"

namespace memscope::analyzer {

uint64_t HeapModel::apply(const HeapEvent& e) {
  if (e.kind == EventKind::kAlloc) {
    live_[e.ptr] = {e.size, e.stack_id, e.tid};
    ++totals_.allocations;
    totals_.allocated_bytes += e.size;
    ++totals_.live_allocations;
    totals_.live_bytes += e.size;
    if (totals_.live_bytes > totals_.peak_bytes) {
      totals_.peak_bytes = totals_.live_bytes;
      totals_.peak_allocations = totals_.live_allocations;
      totals_.peak_stamp = e.stamp;
    }
    Counters& t = per_thread_[e.tid];
    ++t.allocations;
    t.allocated_bytes += e.size;
    Counters& s = per_site_[e.stack_id];
    ++s.allocations;
    s.allocated_bytes += e.size;
    return e.size;
  }
  auto it = live_.find(e.ptr);
  if (it == live_.end()) {
    if (e.ptr != 0) ++totals_.unmatched_frees;
    return 0;
  }
  const LiveBlock block = it->second;
  ++totals_.frees;
  --totals_.live_allocations;
  totals_.live_bytes -= block.size;
  Counters& t = per_thread_[e.tid];
  ++t.frees;
  t.freed_bytes += block.size;
  Counters& s = per_site_[block.stack_id];
  ++s.frees;
  s.freed_bytes += block.size;
  live_.erase(it);
  return block.size;
}

void HeapModel::inherit(const HeapModel& parent) {
  live_ = parent.live_;
  for (auto& [ptr, block] : live_) block.stack_id = kInheritedStack;
  totals_.live_allocations = parent.totals_.live_allocations;
  totals_.live_bytes = parent.totals_.live_bytes;
}

}  // namespace memscope::analyzer
