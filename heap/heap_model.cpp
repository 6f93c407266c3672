// See heap_model.hpp.
#include "heap/heap_model.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace memscope::heap {

void Log2Histogram::merge(const Log2Histogram& other) {
  if (counts.size() < other.counts.size()) counts.resize(other.counts.size());
  for (size_t i = 0; i < other.counts.size(); ++i) counts[i] += other.counts[i];
}

const LiveBlock& LiveMap::at(uint64_t address) const {
  const Entry* entry = const_cast<LiveMap*>(this)->find(address);
  if (entry == nullptr) throw std::out_of_range("LiveMap::at: no live block at this address");
  return entry->second;
}

// Backward-shift deletion: later entries of the probe run move into the hole, so no tombstones
// accumulate and lookups stay short however many blocks come and go.
void LiveMap::erase(Entry* entry) {
  size_t mask = slots_.size() - 1;
  size_t hole = static_cast<size_t>(entry - slots_.data());
  for (size_t i = (hole + 1) & mask; slots_[i].second.site != kFree; i = (i + 1) & mask) {
    size_t want = home(slots_[i].first);
    // The entry may fill the hole when its home is not in (hole, i] (cyclically).
    if (((i - want) & mask) >= ((i - hole) & mask)) {
      slots_[hole] = slots_[i];
      hole = i;
    }
  }
  slots_[hole].second.site = kFree;
  --size_;
}

void LiveMap::grow() {
  std::vector<Entry> old = std::move(slots_);
  size_t capacity = old.empty() ? 64 : 2 * old.size();
  slots_.assign(capacity, Entry{0, {0, 0, 0, kFree}});
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));
  size_ = 0;
  for (const Entry& e : old)
    if (e.second.site != kFree) assign(e.first, e.second);
}

uint32_t HeapModel::find_or_add_site(uint64_t stack_id, uint64_t stamp) {
  constexpr uint64_t kDenseStacks = 1u << 20;  // more distinct stacks than any real trace has
  uint32_t* slot;
  if (stack_id < kDenseStacks) {
    if (site_of_small_stack_.size() <= stack_id)
      site_of_small_stack_.resize(std::max<size_t>(2 * stack_id, 64), LiveMap::kFree);
    slot = &site_of_small_stack_[stack_id];
  } else {
    slot = &site_of_large_stack_.try_emplace(stack_id, LiveMap::kFree).first->second;
  }
  if (*slot == LiveMap::kFree) {
    *slot = static_cast<uint32_t>(sites_.size());
    SiteStats& s = sites_.emplace_back();
    s.stack_id = stack_id;
    s.first_stamp = stamp;
    views_stale_ = true;
  }
  return *slot;
}

ThreadHeap& HeapModel::remember_thread(uint32_t tid, size_t slot) {
  recent_.heap[slot] = &threads_[tid];
  recent_.tid[slot] = tid;
  return *recent_.heap[slot];
}

uint64_t HeapModel::apply(const HeapEvent& e) {
  views_stale_ = true;
  if (e.kind == EventKind::kFree) {
    LiveMap::Entry* found = live_.find(e.ptr);
    if (found == nullptr) {
      if (e.ptr != 0) ++totals_.unmatched_frees;
      return 0;
    }
    const LiveBlock block = found->second;
    live_.erase(found);
    free_block(e, block);
    return block.size;
  }
  ThreadHeap& t = thread(e.tid);
  uint32_t index = site_index(e.stack_id, e.stamp);
  SiteStats& s = sites_[index];
  touch(s);
  live_.assign(e.ptr, {e.size, e.stamp, e.tid, index});
  t.last_address = e.ptr;
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
  if (s.stack_id != kInheritedStack) {
    s.lifetimes.add(e.stamp > block.stamp ? e.stamp - block.stamp : 0);
    ThreadHeap& owner = thread(block.tid);
    --owner.live_allocations;
    owner.live_bytes -= block.size;
    if (owner.last_address == e.ptr) {
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
    block.site = index;
    block.tid = 0;
    ++s.live_allocations;
    s.live_bytes += block.size;
  }
  totals_.live_allocations = parent.totals_.live_allocations;
  totals_.live_bytes = parent.totals_.live_bytes;
}

HeapModel HeapModel::from_figures(const HeapTotals& totals, std::vector<SiteStats> sites,
                                  std::map<uint32_t, ThreadHeap> threads) {
  HeapModel m;
  m.totals_ = totals;
  m.sites_ = std::move(sites);
  m.threads_ = std::move(threads);
  return m;  // peak_epoch_ 0: the sites' peak figures stay as given
}

size_t HeapModel::memory_bytes() const {
  return live_.capacity() * sizeof(LiveMap::Entry) + sites_.capacity() * sizeof(SiteStats) +
         site_of_small_stack_.capacity() * sizeof(uint32_t) +
         threads_.size() * (sizeof(ThreadHeap) + 48);
}

// Settles once per peak: callers may read it in a loop (a leak scan per site).
const std::vector<SiteStats>& HeapModel::sites() const {
  if (peak_epoch_ == settled_epoch_) return sites_;
  settled_epoch_ = peak_epoch_;
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

}  // namespace memscope::heap
