// Estimates of the heap of a sampled trace (memscope-run --sample-bytes N; format/sampling.hpp).
// The agent sampled an allocation of s bytes with probability p = 1 - exp(-s/N) (agent/
// sampler.hpp), so weighting each sampled one by 1/p (its count) and s/p (its bytes) gives
// unbiased estimates of every sum over allocations: a site's allocations and bytes, the blocks
// and bytes live at any moment (the live heap, leaks), as Perfetto's heapprofd explains. Each
// estimate carries the Horvitz-Thompson variance, sum of (1-p)/p^2 times the count or bytes
// squared, and its 95 % interval is the estimate +- 1.96 standard deviations, never below what
// was sampled. The peak is the peak of the estimated live heap. The totals the agent counted
// exactly (allocations, frees, bytes allocated) replace the estimates of the same figures.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include "format/sampling.hpp"
#include "heap/heap_event.hpp"
#include "heap/heap_model.hpp"

namespace memscope::analyzer {

struct Estimate {
  double value = 0;
  double variance = 0;
  double sampled = 0;  // the figure over the sampled allocations alone: a sure lower bound
  double low() const;
  double high() const;
  void add(double weighted, double var, double raw);
};

struct SiteEstimate {
  Estimate allocations;
  Estimate allocated_bytes;
  Estimate live_allocations;  // at the end: leaked
  Estimate live_bytes;
  Estimate peak_bytes;  // live at the peak of the estimated heap
  Estimate peak_allocations;
  uint64_t peak_epoch = 0;
};

struct HeapEstimates {
  format::SamplingRecord sampling;                   // the exact totals (its last phase-1 record)
  std::unordered_map<uint64_t, SiteEstimate> sites;  // by stack id
  Estimate live_allocations;                         // at the end: leaked
  Estimate live_bytes;
  Estimate peak_bytes;
  Estimate peak_allocations;
  uint64_t peak_stamp = 0;
  const SiteEstimate* site(uint64_t stack_id) const;
};

class SampleEstimator {
 public:
  explicit SampleEstimator(const format::SamplingRecord& sampling) { out_.sampling = sampling; }
  void apply(const heap::HeapEvent& e);
  // The final estimates, with the exact totals of the trace's last sampling record.
  HeapEstimates finish(const format::SamplingRecord& last);
  // The heap model the reports read: `sampled` (the replay of the sampled events) with every
  // estimated figure in place of the sampled one, rounded, and the exact totals.
  static heap::HeapModel estimated_model(const heap::HeapModel& sampled, const HeapEstimates& e);

 private:
  struct Live {
    uint64_t stack_id;
    uint64_t size;
  };
  SiteEstimate& site(uint64_t stack_id);
  void touch(SiteEstimate& s);

  HeapEstimates out_;
  std::unordered_map<uint64_t, Live> live_;
  uint64_t epoch_ = 0;
};

}  // namespace memscope::analyzer
