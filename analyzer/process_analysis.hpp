// Everything memscope-analyze knows about one traced process: what its trace said (process,
// threads, modules, stacks, end) and its heap replayed in stamp order. Events arrive per chunk
// in per-thread order; they are held in a reorder buffer and released in stamp order up to each
// watermark the sidecar wrote (docs/trace-format.md proves the release is safe).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzer/heap_model.hpp"
#include "analyzer/heap_timeline.hpp"
#include "analyzer/trace_reader.hpp"
#include "memscope/collector.hpp"

namespace memscope::analyzer {

// A region profiled through the C++ API: [begin_ns, end_ns]; end_ns 0 while still open.
struct Region {
  uint64_t id = 0;
  uint64_t begin_ns = 0;
  uint64_t end_ns = 0;
};

struct ForkSnapshot {
  HeapTotals totals;  // the parent's totals when the child was forked, including what the
                      // parent itself inherited (allocations, allocated_bytes)
  HeapModel heap;     // the parent's heap at that moment
};

class ProcessAnalysis : public TraceVisitor {
 public:
  explicit ProcessAnalysis(std::string path) : path_(std::move(path)) {}

  // Before reading: take a snapshot of the heap when the replay reaches `stamp` (a fork).
  void want_snapshot_at(uint64_t stamp) { snapshots_.emplace(stamp, nullptr); }
  // Before reading: replay only heap events stamped within [begin_ns, end_ns] (a region).
  void restrict_to(uint64_t begin_ns, uint64_t end_ns) {
    window_begin_ = begin_ns;
    window_end_ = end_ns;
  }
  void inherit_from(const ForkSnapshot& parent_at_fork);
  // Reads the trace; afterwards every accessor below is final.
  void read();

  const std::string& path() const { return path_; }
  const ReadResult& read_result() const { return result_; }
  const ProcessInfo& info() const { return info_; }
  bool has_info() const { return has_info_; }
  const HeapModel& heap() const { return heap_; }
  const HeapTimeline& timeline() const { return timeline_; }
  const std::map<uint64_t, ThreadInfo>& threads() const { return threads_; }
  const std::unordered_map<uint64_t, std::vector<uint64_t>>& stacks() const { return stacks_; }
  const std::vector<ModuleInfo>& modules() const { return modules_; }
  // Machine and process metrics the sidecar sampled, in time order.
  const std::vector<PlatformMetrics>& metric_samples() const { return samples_; }
  uint64_t undecodable_samples() const { return bad_samples_; }
  const std::vector<Region>& regions() const { return regions_; }
  const ProcessEnd* end() const { return has_end_ ? &end_ : nullptr; }
  const ForkSnapshot* snapshot_at(uint64_t stamp) const;
  const ForkSnapshot* inherited() const { return inherited_; }
  uint64_t dropped_events() const;

  // TraceVisitor
  void file_header(uint64_t start_monotonic_ns, uint64_t) override {
    timeline_.set_origin(start_monotonic_ns);
  }
  void process_info(const ProcessInfo& p) override;
  void heap_event(const HeapEvent& e) override { hold(e); }
  void heap_events(const HeapEvent* events, size_t count) override;
  void watermark(uint64_t stamp) override;
  void stack(uint64_t id, const std::vector<uint64_t>& frames) override;
  void module(const ModuleInfo& m) override { modules_.push_back(m); }
  void thread_start(const ThreadInfo& t) override;
  void thread_end(const ThreadInfo& t) override;
  void thread_name(uint64_t tid, uint64_t stamp, const std::string& name) override;
  void process_end(const ProcessEnd& e) override;
  void metric_sample(uint64_t stamp, const std::string& body) override;
  void region(uint64_t stamp, uint64_t id, bool begin) override;

 private:
  // A stretch of pending_ whose stamps never decrease. Each thread's events arrive in stamp
  // order and the sidecar hands them over thread by thread, so a few runs hold everything
  // between two watermarks and merging them is much cheaper than sorting.
  struct Run {
    size_t begin;
    size_t end;
  };
  void hold(const HeapEvent& e) {
    if (runs_.empty() || e.stamp < pending_.back().stamp)
      runs_.push_back({pending_.size(), pending_.size()});
    pending_.push_back(e);
    runs_.back().end = pending_.size();
  }
  void release_before(uint64_t stamp);
  void merge_released();
  void sort_released();
  void keep_unreleased();
  void replay(const HeapEvent& e);
  void take_snapshots_before(uint64_t stamp);

  std::string path_;
  ReadResult result_;
  ProcessInfo info_;
  bool has_info_ = false;
  HeapModel heap_;
  HeapTimeline timeline_;
  std::vector<HeapEvent> pending_;  // events not yet released, in file order
  std::vector<Run> runs_;           // cover pending_ exactly, in order
  std::vector<size_t> cuts_;        // per run: its first event not released by this watermark
  std::vector<size_t> heads_;       // per run: its next event to merge
  std::map<uint64_t, ThreadInfo> threads_;
  std::unordered_map<uint64_t, std::vector<uint64_t>> stacks_;
  std::vector<ModuleInfo> modules_;
  std::vector<Region> regions_;
  uint64_t window_begin_ = 0;
  uint64_t window_end_ = UINT64_MAX;
  std::vector<PlatformMetrics> samples_;
  uint64_t bad_samples_ = 0;
  ProcessEnd end_;
  bool has_end_ = false;
  std::map<uint64_t, ForkSnapshot*> snapshots_;
  std::vector<std::unique_ptr<ForkSnapshot>> snapshot_storage_;
  const ForkSnapshot* inherited_ = nullptr;
};

}  // namespace memscope::analyzer
