// The heap of one process replayed from its events in stamp order: live blocks, totals, peak,
// leaks, and per-thread and per-site figures. Counting follows valgrind's DHAT: every block
// handed out is an allocation (a successful realloc hands out a new one and releases the old),
// leaked means still live at the end. Per site it also keeps temporary allocations, size and
// lifetime histograms and the live blocks at the global peak (docs/json-schema.md defines each).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include "heap/heap_event.hpp"

namespace memscope::heap {

struct HeapTotals {
  uint64_t allocations = 0;
  uint64_t frees = 0;
  uint64_t allocated_bytes = 0;
  uint64_t live_allocations = 0;
  uint64_t live_bytes = 0;
  uint64_t peak_bytes = 0;
  uint64_t peak_allocations = 0;  // live blocks at the moment of the peak
  uint64_t peak_stamp = 0;
  uint64_t unmatched_frees = 0;  // frees of blocks the trace never saw allocated
  uint64_t temporary = 0;        // see SiteStats::temporary
};

struct Counters {
  uint64_t allocations = 0;
  uint64_t frees = 0;
  uint64_t allocated_bytes = 0;
  uint64_t freed_bytes = 0;
};

// Counts of values in log2 buckets: bucket 0 holds 0, bucket i holds [2^(i-1), 2^i). Only as
// many buckets as the largest value needs are stored.
struct Log2Histogram {
  std::vector<uint64_t> counts;
  // Inline: the replay adds to two histograms per block.
  void add(uint64_t value) {
    size_t bucket = static_cast<size_t>(std::bit_width(value));
    if (counts.size() <= bucket) [[unlikely]]
      counts.resize(bucket + 1);
    ++counts[bucket];
  }
  void merge(const Log2Histogram& other);
};

// Stack id of blocks a fork child inherited (their stacks live in the parent's trace).
inline constexpr uint64_t kInheritedStack = UINT64_MAX;

struct SiteStats {
  uint64_t stack_id = 0;
  uint64_t first_stamp = 0;  // the site's first allocation: picks the module map of that time
  Counters counts;           // frees/freed_bytes: blocks of this site released, by any thread
  // Blocks freed before the allocating thread allocated anything else (heaptrack's measure of
  // short-lived churn, per thread so other threads' activity cannot hide it).
  uint64_t temporary = 0;
  uint64_t live_allocations = 0;  // after the replay: leaked
  uint64_t live_bytes = 0;
  uint64_t peak_allocations = 0;  // live at the global peak
  uint64_t peak_bytes = 0;
  uint64_t peak_epoch = 0;  // the peak whose figures peak_* hold (HeapModel's bookkeeping)
  Log2Histogram sizes;      // requested bytes
  Log2Histogram lifetimes;  // ns from allocation to free, freed blocks only
};

struct ThreadHeap {
  Counters counts;                // allocations made and frees performed by this thread
  uint64_t temporary = 0;         // temporary allocations this thread made
  uint64_t live_allocations = 0;  // blocks this thread allocated still live (at exit: leaked)
  uint64_t live_bytes = 0;
  // Where this thread's latest block was allocated. A live block of this thread at that
  // address is that block (two live blocks never share an address), so freeing it finds a
  // temporary allocation without a per-block sequence number.
  uint64_t last_address = 0;
};

// 24 bytes, so that a slot of the live map is 32: the map of a busy program stays in cache.
struct LiveBlock {
  uint64_t size;
  uint64_t stamp;
  uint32_t tid;   // allocating thread; 0 for inherited blocks
  uint32_t site;  // index into HeapModel::sites(); LiveMap::kFree marks an empty slot
};

// Live blocks by address. Every heap event looks a block up, so this is an open-addressing
// table (linear probing, backward-shift deletion, at most 3/8 full: at half full, probe runs
// made every erase shift a quarter more of the heap replay's time) instead of
// std::unordered_map's node per block: no allocation per event, one or two cache lines per
// lookup. Any address is a valid key (a fuzzed trace may allocate at 0 or at ~0): an empty slot
// is marked in the block's site field instead, since there are never 2^32 - 1 sites.
class LiveMap {
 public:
  static constexpr uint32_t kFree = UINT32_MAX;
  struct Entry {
    uint64_t first;  // the address, named as in std::unordered_map for its users
    LiveBlock second;
  };
  template <typename E>
  class Iter {
   public:
    Iter(E* at, E* end) : at_(at), end_(end) { skip(); }
    E& operator*() const { return *at_; }
    E* operator->() const { return at_; }
    Iter& operator++() {
      ++at_;
      skip();
      return *this;
    }
    bool operator==(const Iter& o) const { return at_ == o.at_; }

   private:
    void skip() {
      while (at_ != end_ && at_->second.site == kFree) ++at_;
    }
    E* at_;
    E* end_;
  };

  // Inline, as assign: every heap event looks an address up.
  Entry* find(uint64_t address) {
    if (slots_.empty()) return nullptr;
    size_t mask = slots_.size() - 1;
    for (size_t i = home(address);; i = (i + 1) & mask) {
      Entry& e = slots_[i];
      if (e.second.site == kFree) return nullptr;
      if (e.first == address) return &e;
    }
  }
  const LiveBlock& at(uint64_t address) const;  // throws std::out_of_range when not live
  bool contains(uint64_t address) const {
    return const_cast<LiveMap*>(this)->find(address) != nullptr;
  }
  // Inserts or replaces the block at `address`.
  void assign(uint64_t address, const LiveBlock& block) {
    if (8 * (size_ + 1) > 3 * slots_.size()) [[unlikely]]
      grow();
    size_t mask = slots_.size() - 1;
    size_t i = home(address);
    while (slots_[i].second.site != kFree && slots_[i].first != address) i = (i + 1) & mask;
    if (slots_[i].second.site == kFree) ++size_;
    slots_[i] = {address, block};
  }
  void erase(Entry* entry);  // `entry` from find()
  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }
  bool empty() const { return size_ == 0; }
  // Starts loading the slot where a lookup of `address` begins (heap/lookahead.hpp).
  void prefetch(uint64_t address) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(address)], 1);
  }

  Iter<Entry> begin() { return {slots_.data(), slots_.data() + slots_.size()}; }
  Iter<Entry> end() { return {slots_.data() + slots_.size(), slots_.data() + slots_.size()}; }
  Iter<const Entry> begin() const { return {slots_.data(), slots_.data() + slots_.size()}; }
  Iter<const Entry> end() const {
    return {slots_.data() + slots_.size(), slots_.data() + slots_.size()};
  }

 private:
  size_t home(uint64_t address) const {
    return static_cast<size_t>((address * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void grow();

  std::vector<Entry> slots_;
  size_t size_ = 0;
  unsigned shift_ = 64;  // 64 - log2(slots)
};

class HeapModel {
 public:
  // Returns the bytes of the block allocated or released (0 for an unmatched free).
  uint64_t apply(const HeapEvent& e);
  // A fork child starts from its parent's heap at the fork: those blocks are live (and leak if
  // never freed) but were not allocated by the child.
  void inherit(const HeapModel& parent);
  // A model holding only the figures of a finished replay (heap_summary.hpp): no live blocks.
  static HeapModel from_figures(const HeapTotals& totals, std::vector<SiteStats> sites,
                                std::map<uint32_t, ThreadHeap> threads);
  // Bytes of memory this model holds, roughly: what the sidecar's budget counts.
  size_t memory_bytes() const;

  const HeapTotals& totals() const { return totals_; }
  const LiveMap& live() const { return live_; }
  const std::vector<SiteStats>& sites() const;  // peak figures final once the replay ends
  const std::map<uint32_t, ThreadHeap>& threads() const { return threads_; }
  // The plain counters, keyed by tid and by stack id (built on first use after changes).
  const std::map<uint32_t, Counters>& per_thread() const;
  const std::unordered_map<uint64_t, Counters>& per_site() const;

 private:
  // Inline: every allocation asks, and nearly always for a site it has seen.
  uint32_t site_index(uint64_t stack_id, uint64_t stamp) {
    if (stack_id < site_of_small_stack_.size()) [[likely]] {
      uint32_t index = site_of_small_stack_[stack_id];
      if (index != LiveMap::kFree) return index;
    }
    return find_or_add_site(stack_id, stamp);
  }
  uint32_t find_or_add_site(uint64_t stack_id, uint64_t stamp);
  // Consecutive events come from a few threads (one per chunk and thread in the reader, a few
  // interleaved in stamp order in the sidecar), so recent threads are remembered rather than
  // looked up; the remembered case is inline, since every event asks.
  ThreadHeap& thread(uint32_t tid) {
    size_t i = RecentThreads::slot(tid);
    if (recent_.heap[i] != nullptr && recent_.tid[i] == tid) [[likely]]
      return *recent_.heap[i];
    return remember_thread(tid, i);
  }
  ThreadHeap& remember_thread(uint32_t tid, size_t slot);
  // Before a site's live figures change, keeps them as its figures at the latest peak unless
  // that was done already since the peak.
  void touch(SiteStats& site) {
    if (peak_epoch_ != 0 && site.peak_epoch != peak_epoch_) {
      site.peak_allocations = site.live_allocations;
      site.peak_bytes = site.live_bytes;
      site.peak_epoch = peak_epoch_;
    }
  }
  void free_block(const HeapEvent& e, const LiveBlock& block);

  LiveMap live_;
  HeapTotals totals_;
  std::map<uint32_t, ThreadHeap> threads_;
  // The threads of recent events, by a hash of the tid (events of a few threads interleave in
  // stamp order; tids are often consecutive or a few apart, so a plain modulo makes them
  // collide); a copy (a fork snapshot) starts without them, since the pointers would refer to
  // the original's map.
  struct RecentThreads {
    static constexpr unsigned kBits = 4;
    static constexpr size_t kSize = size_t{1} << kBits;
    static size_t slot(uint32_t tid) { return (tid * 0x9E3779B9u) >> (32 - kBits); }
    uint32_t tid[kSize] = {};
    ThreadHeap* heap[kSize] = {};
    RecentThreads() = default;
    RecentThreads(const RecentThreads&) {}
    RecentThreads& operator=(const RecentThreads&) {
      for (ThreadHeap*& h : heap) h = nullptr;
      return *this;
    }
  } recent_;
  // Site index by stack id: stack ids are small dense integers, so a vector serves them; the
  // rare large id (inherited blocks, a damaged trace) goes to the map.
  std::vector<uint32_t> site_of_small_stack_;
  std::unordered_map<uint64_t, uint32_t> site_of_large_stack_;
  mutable std::vector<SiteStats> sites_;
  // Peaks are numbered. A new peak only bumps the number: a site's live figures are copied
  // into its peak figures when it next changes (or when sites() is read), so the live set at
  // the peak is known without copying every site at every new peak.
  uint64_t peak_epoch_ = 0;             // 0: no peak yet
  mutable uint64_t settled_epoch_ = 0;  // sites() copied every site's peak figures for it
  mutable std::map<uint32_t, Counters> per_thread_;
  mutable std::unordered_map<uint64_t, Counters> per_site_;
  mutable bool views_stale_ = true;
};

}  // namespace memscope::heap
