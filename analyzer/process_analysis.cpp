// See process_analysis.hpp.
#include "analyzer/process_analysis.hpp"

#include <algorithm>
#include <memory>

#include "format/metric_sample.hpp"

namespace memscope::analyzer {

void ProcessAnalysis::inherit_from(const ForkSnapshot& parent_at_fork) {
  inherited_ = &parent_at_fork;
  heap_.inherit(parent_at_fork.heap);
}

void ProcessAnalysis::read() {
  result_ = read_trace(path_, *this);
  release_before(UINT64_MAX);
  take_snapshots_before(UINT64_MAX);
}

const ForkSnapshot* ProcessAnalysis::snapshot_at(uint64_t stamp) const {
  auto it = snapshots_.find(stamp);
  return it == snapshots_.end() ? nullptr : it->second;
}

uint64_t ProcessAnalysis::dropped_events() const {
  if (has_end_) return end_.dropped_events;
  uint64_t dropped = 0;
  for (const auto& [tid, t] : threads_) dropped += t.dropped_events;
  return dropped;
}

void ProcessAnalysis::process_info(const ProcessInfo& p) {
  info_ = p;
  has_info_ = true;
}

void ProcessAnalysis::heap_events(const HeapEvent* events, size_t count) {
  for (size_t i = 0; i < count; ++i) hold(events[i]);
}

void ProcessAnalysis::watermark(uint64_t stamp) {
  release_before(stamp);
}

void ProcessAnalysis::take_snapshots_before(uint64_t stamp) {
  for (auto& [at, snapshot] : snapshots_) {
    if (at > stamp || snapshot != nullptr) continue;
    auto owned = std::make_unique<ForkSnapshot>();
    // Cumulative, as the child's own counters would be: what this process inherited plus what
    // it did itself.
    owned->totals = heap_.totals();
    if (inherited_ != nullptr) {
      owned->totals.allocations += inherited_->totals.allocations;
      owned->totals.allocated_bytes += inherited_->totals.allocated_bytes;
    }
    owned->heap = heap_;
    snapshot = owned.get();
    snapshot_storage_.push_back(std::move(owned));
  }
}

// Releases, in stamp order (file order breaks ties), every pending event stamped before `stamp`.
void ProcessAnalysis::release_before(uint64_t stamp) {
  if (pending_.empty()) return;
  cuts_.clear();
  for (const Run& r : runs_) {
    auto first = pending_.begin() + static_cast<ptrdiff_t>(r.begin);
    auto last = pending_.begin() + static_cast<ptrdiff_t>(r.end);
    auto cut = std::lower_bound(first, last, stamp,
                                [](const HeapEvent& e, uint64_t s) { return e.stamp < s; });
    cuts_.push_back(static_cast<size_t>(cut - pending_.begin()));
  }
  // A damaged or unusual trace can cut the events into many runs; sorting then costs less.
  constexpr size_t kMergeWays = 16;
  if (runs_.size() <= kMergeWays) {
    merge_released();
  } else {
    sort_released();
  }
  keep_unreleased();
}

// Repeatedly takes the earliest head among the runs; on equal stamps the earlier run, which
// came first in the file.
void ProcessAnalysis::merge_released() {
  heads_.clear();
  for (const Run& r : runs_) heads_.push_back(r.begin);
  const size_t ways = runs_.size();
  for (;;) {
    size_t best = ways;
    uint64_t best_stamp = UINT64_MAX;
    for (size_t j = 0; j < ways; ++j)
      if (heads_[j] < cuts_[j] && (best == ways || pending_[heads_[j]].stamp < best_stamp)) {
        best = j;
        best_stamp = pending_[heads_[j]].stamp;
      }
    if (best == ways) return;
    replay(pending_[heads_[best]++]);
  }
}

void ProcessAnalysis::sort_released() {
  std::vector<size_t> order;
  for (size_t j = 0; j < runs_.size(); ++j)
    for (size_t i = runs_[j].begin; i < cuts_[j]; ++i) order.push_back(i);
  std::sort(order.begin(), order.end(), [this](size_t a, size_t b) {
    return pending_[a].stamp != pending_[b].stamp ? pending_[a].stamp < pending_[b].stamp : a < b;
  });
  for (size_t i : order) replay(pending_[i]);
}

// Moves what stays pending to the front, in file order, joining runs that still form one.
void ProcessAnalysis::keep_unreleased() {
  size_t kept = 0;
  size_t runs = 0;
  for (size_t j = 0; j < runs_.size(); ++j) {
    size_t first = cuts_[j], last = runs_[j].end;
    if (first == last) continue;
    std::move(pending_.begin() + static_cast<ptrdiff_t>(first),
              pending_.begin() + static_cast<ptrdiff_t>(last),
              pending_.begin() + static_cast<ptrdiff_t>(kept));
    bool joins = runs > 0 && pending_[kept - 1].stamp <= pending_[kept].stamp;
    if (!joins) runs_[runs++].begin = kept;
    kept += last - first;
    runs_[runs - 1].end = kept;
  }
  runs_.resize(runs);
  pending_.resize(kept);
}

void ProcessAnalysis::replay(const HeapEvent& e) {
  if (e.stamp < window_begin_ || e.stamp > window_end_) return;
  if (!snapshots_.empty()) take_snapshots_before(e.stamp);
  uint64_t bytes = heap_.apply(e);
  timeline_.record(e, bytes, heap_.totals().live_bytes);
}

void ProcessAnalysis::stack(uint64_t id, const std::vector<uint64_t>& frames) {
  stacks_[id] = frames;
}

void ProcessAnalysis::thread_start(const ThreadInfo& t) {
  ThreadInfo& known = threads_[t.tid];
  known.tid = t.tid;
  known.parent_tid = t.parent_tid;
  known.start_stamp = t.start_stamp;
  if (!t.name.empty()) known.name = t.name;
}

void ProcessAnalysis::thread_end(const ThreadInfo& t) {
  ThreadInfo& known = threads_[t.tid];
  known.tid = t.tid;
  known.end_stamp = t.end_stamp;
  if (!t.name.empty()) known.name = t.name;
  known.ring_waits += t.ring_waits;
  known.ring_wait_ns += t.ring_wait_ns;
  known.dropped_events += t.dropped_events;
}

void ProcessAnalysis::thread_name(uint64_t tid, uint64_t, const std::string& name) {
  threads_[tid].name = name;
}

void ProcessAnalysis::process_end(const ProcessEnd& e) {
  end_ = e;
  has_end_ = true;
}

}  // namespace memscope::analyzer

namespace memscope::analyzer {

void ProcessAnalysis::region(uint64_t stamp, uint64_t id, bool begin) {
  if (begin) {
    regions_.push_back({id, stamp, 0});
    return;
  }
  for (Region& r : regions_)
    if (r.id == id && r.end_ns == 0) r.end_ns = stamp;
}

void ProcessAnalysis::metric_sample(uint64_t stamp, const std::string& body) {
  if (stamp < window_begin_ || stamp > window_end_) return;
  // A delta sample is decoded against the one before it, which the decoder checks by timestamp.
  auto decoded =
      format::decode_metric_sample(reinterpret_cast<const uint8_t*>(body.data()), body.size(),
                                   samples_.empty() ? nullptr : &samples_.back());
  if (decoded) {
    samples_.push_back(std::move(*decoded));
  } else {
    ++bad_samples_;
  }
}

}  // namespace memscope::analyzer
