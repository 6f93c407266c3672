// See process_analysis.hpp.
#include "analyzer/process_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "analyzer/thread_table.hpp"
#include "format/metric_sample.hpp"
#include "heap/lookahead.hpp"

namespace memscope::analyzer {

void ProcessAnalysis::inherit_from(const ForkSnapshot& parent_at_fork) {
  inherited_ = &parent_at_fork;
  heap_.inherit(parent_at_fork.heap);
}

// The summary gives the whole heap from the start: usable unless the heap is wanted at some
// moment (a fork snapshot), over some window (a region), or on top of an inherited one.
bool ProcessAnalysis::summary_usable() const {
  return summary_allowed_ && snapshots_.empty() && inherited_ == nullptr && window_begin_ == 0 &&
         window_end_ == UINT64_MAX;
}

void ProcessAnalysis::read() {
  read_chunks();
  if (!has_info_) info_.pid = result_.pid;
  sidecar_tid_ = find_sidecar_tid(info_, threads_, samples_);
  if (result_.opened)
    complete_thread_table(threads_, info_, sidecar_tid_, result_.start_monotonic_ns, samples_,
                          end());
  if (result_.opened && truncated_at_limit_ != 0) {
    result_.complete = false;
    result_.error = "trace size limit " + std::to_string(truncated_at_limit_) +
                    " bytes reached (--max-trace-size): nothing recorded after it was written, "
                    "the figures cover only what came before";
  }
  // The whole run's figures need its end; a region's window needs only what came before its end.
  if (result_.opened && result_.complete && !has_end_ && window_end_ == UINT64_MAX) {
    result_.complete = false;
    result_.error =
        "no end recorded (killed by SIGKILL, or still running): the figures cover only what "
        "was written up to the last chunk";
  }
}

void ProcessAnalysis::read_chunks() {
  if (!summary_usable()) {
    result_ = read_trace(path_, *this);
  } else {
    // Everything but the event chunks first; they are read only when no summary turned up.
    result_ = read_trace(path_, *this, ChunkSelection::kRecords);
    if (summary_) return use_summary();
    ReadResult events = read_trace(path_, *this, ChunkSelection::kEvents);
    result_.chunks += events.chunks;
    if (!events.complete && result_.complete) {
      result_.complete = false;
      result_.error = events.error;
    }
  }
  release_before(UINT64_MAX);
  take_snapshots_before(UINT64_MAX);
  finish_estimates();
}

// A sampled trace: its figures are estimated from every sampled event, so the sidecar's summary
// (of the sampled events alone) is never used for it.
void ProcessAnalysis::sampling(const std::string& body) {
  auto decoded =
      format::decode_sampling(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  if (!decoded) return;
  if (!estimator_) estimator_ = std::make_unique<SampleEstimator>(*decoded);
  summary_allowed_ = false;
  sampling_ = decoded;
}

void ProcessAnalysis::finish_estimates() {
  if (!estimator_) return;
  estimates_ = estimator_->finish(*sampling_);
  heap_ = SampleEstimator::estimated_model(heap_, *estimates_);
}

void ProcessAnalysis::heap_summary(const std::string& body) {
  if (!summary_usable()) return;
  auto decoded =
      heap::decode_heap_summary(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  if (decoded) summary_ = std::make_unique<heap::HeapSummary>(std::move(*decoded));
}

void ProcessAnalysis::leak_scan(const std::string& body) {
  leak_scan_ = format::decode_leak_scan(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  // By stack id, for site_leak_kinds' binary search.
  if (leak_scan_)
    std::sort(leak_scan_->sites.begin(), leak_scan_->sites.end(),
              [](const auto& a, const auto& b) { return a.stack_id < b.stack_id; });
}

void ProcessAnalysis::hw_counters(const std::string& body) {
  auto r = format::decode_hw_counters(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  if (!r) return;
  hw_.recorded = true;
  if (r->available) hw_.available = true, hw_.user_only = r->user_only != 0;
  if (!r->reason.empty()) hw_.reason = r->reason;
  if (r->stamp > window_end_) return;
  auto& into = r->stamp < window_begin_ ? hw_.before : hw_.last;
  for (const format::HwCounterGroup& g : r->groups) into[{g.scope, g.tid}] = g;
}

void ProcessAnalysis::use_summary() {
  heap_ = std::move(summary_->heap);
  timeline_ = std::move(summary_->timeline);
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

// Lent, not copied: the chunk's watermarks release most of them while it is delivered, straight
// from the reader's buffer.
void ProcessAnalysis::heap_events(const HeapEvent* events, size_t count) {
  order_.lend(events, count);
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

template <typename Apply>
void ProcessAnalysis::release_through(uint64_t stamp, Apply& apply) {
  heap::Lookahead late(heap_.live(), apply);
  order_.release_before(stamp, late);
  late.finish();
}

void ProcessAnalysis::release_before(uint64_t stamp) {
  if (window_begin_ == 0 && window_end_ == UINT64_MAX && snapshots_.empty() && !estimator_) {
    // The whole run of an exact trace, nothing to stop for: every event goes to the model.
    auto apply = [this](const HeapEvent& e) {
      uint64_t bytes = heap_.apply(e);
      timeline_.record(e, bytes, heap_.totals().live_bytes);
    };
    return release_through(stamp, apply);
  }
  auto apply = [this](const HeapEvent& e) { replay(e); };
  release_through(stamp, apply);
}

void ProcessAnalysis::replay(const HeapEvent& e) {
  if (e.stamp < window_begin_ || e.stamp > window_end_) return;
  if (!snapshots_.empty()) take_snapshots_before(e.stamp);
  if (estimator_) return replay_sampled(e);
  uint64_t bytes = heap_.apply(e);
  timeline_.record(e, bytes, heap_.totals().live_bytes);
}

// A sampled event stands for several: the timeline gets its estimated weight, so that its live
// heap is the estimated one and its highest bucket the estimated peak.
void ProcessAnalysis::replay_sampled(const HeapEvent& e) {
  EventWeight w = estimator_->apply(e);
  heap_.apply(e);
  if (w.count == 0) return;
  timeline_.add(e.stamp, e.kind, static_cast<uint64_t>(std::llround(w.count)),
                static_cast<uint64_t>(std::llround(w.bytes)), estimator_->live_bytes());
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

void ProcessAnalysis::thread_cpu(const ThreadCpu& t) {
  if (t.stamp < window_begin_ || t.stamp > window_end_) return;  // outside the region
  ThreadInfo& known = threads_[t.tid];
  known.tid = t.tid;
  (t.phase == 0 ? known.cpu_at_start : known.cpu_at_end) = t;
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
