// See heap_model.hpp.
#include "analyzer/heap_model.hpp"

#include <bit>

namespace memscope::analyzer {

void Log2Histogram::add(uint64_t value) {
  size_t bucket = static_cast<size_t>(std::bit_width(value));
  if (counts.size() <= bucket) counts.resize(bucket + 1);
  ++counts[bucket];
}

void Log2Histogram::merge(const Log2Histogram& other) {
  if (counts.size() < other.counts.size()) counts.resize(other.counts.size());
  for (size_t i = 0; i < other.counts.size(); ++i) counts[i] += other.counts[i];
}

uint32_t HeapModel::site_index(uint64_t stack_id, uint64_t stamp) {
  auto [it, added] = site_of_stack_.try_emplace(stack_id, static_cast<uint32_t>(sites_.size()));
  if (added) {
    SiteStats& s = sites_.emplace_back();
    s.stack_id = stack_id;
    s.first_stamp = stamp;
    views_stale_ = true;
  }
  return it->second;
}

// Most consecutive events come from one thread (the reader hands them over per chunk and per
// thread), so the last thread is remembered rather than looked up.
ThreadHeap& HeapModel::thread(uint32_t tid) {
  if (last_.heap == nullptr || tid != last_.tid) {
    last_.heap = &threads_[tid];
    last_.tid = tid;
  }
  return *last_.heap;
}

// Before a site's live figures change, keep them as its figures at the latest peak unless that
// was done already since the peak.
void HeapModel::touch(SiteStats& site) {
  if (peak_epoch_ != 0 && site.peak_epoch != peak_epoch_) {
    site.peak_allocations = site.live_allocations;
    site.peak_bytes = site.live_bytes;
    site.peak_epoch = peak_epoch_;
  }
}

uint64_t HeapModel::apply(const HeapEvent& e) {
  views_stale_ = true;
  if (e.kind == EventKind::kFree) {
    auto it = live_.find(e.ptr);
    if (it == live_.end()) {
      if (e.ptr != 0) ++totals_.unmatched_frees;
      return 0;
    }
    const LiveBlock block = it->second;
    live_.erase(it);
    free_block(e, block);
    return block.size;
  }
  ThreadHeap& t = thread(e.tid);
  uint32_t index = site_index(e.stack_id, e.stamp);
  SiteStats& s = sites_[index];
  touch(s);
  live_[e.ptr] = {e.size, e.stack_id, e.tid, index, e.stamp, ++t.allocation_sequence};
  ++totals_.allocations;
  totals_.allocated_bytes += e.size;
  ++totals_.live_allocations;
  totals_.live_bytes += e.size;
  ++t.counts.allocations;
  t.counts.allocated_bytes += e.size;
  ++t.live_allocations;
  t.live_bytes += e.size;
  ++s.counts.allocations;
  s.counts.allocated_bytes += e.size;
  ++s.live_allocations;
  s.live_bytes += e.size;
  s.sizes.add(e.size);
  if (totals_.live_bytes > totals_.peak_bytes) {
    totals_.peak_bytes = totals_.live_bytes;
    totals_.peak_allocations = totals_.live_allocations;
    totals_.peak_stamp = e.stamp;
    ++peak_epoch_;
  }
  return e.size;
}

void HeapModel::free_block(const HeapEvent& e, const LiveBlock& block) {
  ++totals_.frees;
  --totals_.live_allocations;
  totals_.live_bytes -= block.size;
  SiteStats& s = sites_[block.site];
  touch(s);
  ++s.counts.frees;
  s.counts.freed_bytes += block.size;
  --s.live_allocations;
  s.live_bytes -= block.size;
  if (block.stack_id != kInheritedStack) {
    s.lifetimes.add(e.stamp > block.stamp ? e.stamp - block.stamp : 0);
    ThreadHeap& owner = thread(block.tid);
    --owner.live_allocations;
    owner.live_bytes -= block.size;
    if (owner.allocation_sequence == block.sequence) {
      ++owner.temporary;
      ++s.temporary;
      ++totals_.temporary;
    }
  }
  ThreadHeap& t = thread(e.tid);
  ++t.counts.frees;
  t.counts.freed_bytes += block.size;
}

void HeapModel::inherit(const HeapModel& parent) {
  live_ = parent.live_;
  uint32_t index = site_index(kInheritedStack, 0);
  SiteStats& s = sites_[index];
  for (auto& [ptr, block] : live_) {
    block.stack_id = kInheritedStack;
    block.site = index;
    block.tid = 0;
    ++s.live_allocations;
    s.live_bytes += block.size;
  }
  totals_.live_allocations = parent.totals_.live_allocations;
  totals_.live_bytes = parent.totals_.live_bytes;
}

const std::vector<SiteStats>& HeapModel::sites() const {
  if (peak_epoch_ != 0)
    for (SiteStats& s : sites_)
      if (s.peak_epoch != peak_epoch_) {
        // Unchanged since the latest peak: its live figures are those at the peak.
        s.peak_allocations = s.live_allocations;
        s.peak_bytes = s.live_bytes;
        s.peak_epoch = peak_epoch_;
      }
  return sites_;
}

const std::map<uint32_t, Counters>& HeapModel::per_thread() const {
  per_site();
  return per_thread_;
}

const std::unordered_map<uint64_t, Counters>& HeapModel::per_site() const {
  if (!views_stale_) return per_site_;
  per_site_.clear();
  for (const SiteStats& s : sites_) per_site_[s.stack_id] = s.counts;
  per_thread_.clear();
  for (const auto& [tid, t] : threads_) per_thread_[tid] = t.counts;
  views_stale_ = false;
  return per_site_;
}

}  // namespace memscope::analyzer
