// Everything memscope-analyze knows about one traced process: what its trace said (process,
// threads, modules, stacks, end) and its heap. The heap comes from the summary the sidecar
// wrote at the process's end when there is one and nothing asks for more (a fork snapshot, a
// region's window, --replay); otherwise every event is replayed in stamp order (heap/
// stamp_order.hpp), which gives the same figures more slowly.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzer/heap_names.hpp"
#include "analyzer/sample_estimate.hpp"
#include "analyzer/trace_reader.hpp"
#include "format/hw_counters.hpp"
#include "format/leak_scan.hpp"
#include "heap/heap_summary.hpp"
#include "heap/stamp_order.hpp"
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

// The hardware counters the sidecar read (kHwCounters records), by (scope, tid): the last
// reading within the analysed window and the last one before it, so that a region's counts are
// their difference (readings are cumulative).
struct HwReadings {
  using Key = std::pair<format::HwScope, uint64_t>;
  bool recorded = false;  // the trace has kHwCounters records at all
  bool available = false;
  bool user_only = false;
  std::string reason;  // why not available
  std::map<Key, format::HwCounterGroup> last;
  std::map<Key, format::HwCounterGroup> before;
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
  // Before reading: ignore the sidecar's heap summary and replay every event.
  void always_replay() { summary_allowed_ = false; }
  // Reads the trace; afterwards every accessor below is final.
  void read();

  const std::string& path() const { return path_; }
  const ReadResult& read_result() const { return result_; }
  // Whether the heap figures come from replaying the events (else: the sidecar's summary).
  bool heap_replayed() const { return !summary_; }
  const ProcessInfo& info() const { return info_; }
  bool has_info() const { return has_info_; }
  const HeapModel& heap() const { return heap_; }
  const HeapTimeline& timeline() const { return timeline_; }
  // Every thread known: recorded by the agent, listed by the samples, the main thread
  // (thread_table.hpp); never memscope's own.
  const std::map<uint64_t, ThreadInfo>& threads() const { return threads_; }
  // memscope's sidecar thread (sampled with the process); 0 when unknown.
  uint64_t sidecar_tid() const { return sidecar_tid_; }
  const std::unordered_map<uint64_t, std::vector<uint64_t>>& stacks() const { return stacks_; }
  const std::vector<ModuleInfo>& modules() const { return modules_; }
  // Machine and process metrics the sidecar sampled, in time order.
  const std::vector<PlatformMetrics>& metric_samples() const { return samples_; }
  uint64_t undecodable_samples() const { return bad_samples_; }
  const std::vector<Region>& regions() const { return regions_; }
  const ProcessEnd* end() const { return has_end_ ? &end_ : nullptr; }
  // The agent's leak scan, its sites by stack id; null when the trace has none (or a damaged one).
  const format::LeakScanRecord* leak_scan() const { return leak_scan_ ? &*leak_scan_ : nullptr; }
  const HwReadings& hw_readings() const { return hw_; }
  // A sampled trace's estimates (and its exact totals); null for an exact trace. heap() then
  // holds the estimates in place of the sampled figures.
  const HeapEstimates* estimates() const { return estimates_ ? &*estimates_ : nullptr; }
  const ForkSnapshot* snapshot_at(uint64_t stamp) const;
  const ForkSnapshot* inherited() const { return inherited_; }
  uint64_t dropped_events() const;

  // TraceVisitor
  void file_header(uint64_t start_monotonic_ns, uint64_t) override {
    timeline_.set_origin(start_monotonic_ns);
  }
  void process_info(const ProcessInfo& p) override;
  void heap_event(const HeapEvent& e) override { order_.hold(e); }
  void heap_events(const HeapEvent* events, size_t count) override;
  void chunk_delivered() override { order_.keep_lent(); }
  void watermark(uint64_t stamp) override;
  void stack(uint64_t id, const std::vector<uint64_t>& frames) override;
  void module(const ModuleInfo& m) override { modules_.push_back(m); }
  void thread_start(const ThreadInfo& t) override;
  void thread_end(const ThreadInfo& t) override;
  void thread_name(uint64_t tid, uint64_t stamp, const std::string& name) override;
  void thread_cpu(const ThreadCpu& t) override;
  void process_end(const ProcessEnd& e) override;
  void trace_truncated(uint64_t /*stamp*/, uint64_t limit_bytes) override {
    truncated_at_limit_ = limit_bytes;
  }
  void metric_sample(uint64_t stamp, const std::string& body) override;
  void region(uint64_t stamp, uint64_t id, bool begin) override;
  void heap_summary(const std::string& body) override;
  void leak_scan(const std::string& body) override;
  void hw_counters(const std::string& body) override;
  void sampling(const std::string& body) override;

 private:
  void finish_estimates();
  void replay_sampled(const HeapEvent& e);
  void read_chunks();
  bool summary_usable() const;
  void use_summary();
  void release_before(uint64_t stamp);
  template <typename Apply>
  void release_through(uint64_t stamp, Apply& apply);
  void replay(const HeapEvent& e);
  void take_snapshots_before(uint64_t stamp);

  std::string path_;
  ReadResult result_;
  ProcessInfo info_;
  bool has_info_ = false;
  HeapModel heap_;
  HeapTimeline timeline_;
  heap::StampOrder order_;
  bool summary_allowed_ = true;
  std::unique_ptr<heap::HeapSummary> summary_;  // set when the figures came from it
  std::map<uint64_t, ThreadInfo> threads_;
  uint64_t sidecar_tid_ = 0;
  std::unordered_map<uint64_t, std::vector<uint64_t>> stacks_;
  std::vector<ModuleInfo> modules_;
  std::vector<Region> regions_;
  uint64_t window_begin_ = 0;
  uint64_t window_end_ = UINT64_MAX;
  std::vector<PlatformMetrics> samples_;
  uint64_t bad_samples_ = 0;
  ProcessEnd end_;
  bool has_end_ = false;
  std::optional<format::LeakScanRecord> leak_scan_;
  HwReadings hw_;
  std::optional<format::SamplingRecord> sampling_;  // the latest kSampling record
  std::unique_ptr<SampleEstimator> estimator_;      // from the first one on
  std::optional<HeapEstimates> estimates_;
  uint64_t truncated_at_limit_ = 0;  // the size limit the trace reached; 0: not truncated
  std::map<uint64_t, ForkSnapshot*> snapshots_;
  std::vector<std::unique_ptr<ForkSnapshot>> snapshot_storage_;
  const ForkSnapshot* inherited_ = nullptr;
};

}  // namespace memscope::analyzer
