// Estimates of the heap of a sampled trace (memscope-run --sample-bytes N; format/sampling.hpp).
// The agent sampled an allocation of s bytes with probability p = 1 - exp(-s/N) (agent/
// sampler.hpp), so weighting each sampled one by 1/p (its count) and s/p (its bytes) gives
// unbiased estimates of every sum over allocations: a site's allocations and bytes, the blocks
// and bytes live at any moment (the live heap, leaks), as Perfetto's heapprofd explains. Each
// estimate carries the Horvitz-Thompson variance, sum of (1-p)/p^2 times the count or bytes
// squared, and its 95 % interval is the estimate +- 1.96 standard deviations, never below what
// was sampled. The peak is the peak of the estimated live heap; threads and the heap over time
// are weighted per sampled event the same way (apply returns the event's weight). The totals the
// agent counted exactly (allocations, frees, bytes allocated) replace the estimates of the same
// figures.
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

// A thread's estimated figures, each sampled event weighted by its own probability: its
// allocations and frees as the heap model counts them (a free on the freeing thread), its live
// blocks on the allocating thread.
struct ThreadEstimate {
  double allocations = 0, frees = 0, allocated_bytes = 0, freed_bytes = 0;
  double live_allocations = 0, live_bytes = 0;
};

// What one sampled event stands for: `count` blocks of `bytes` in all (0 for a free of a block
// the estimator never saw).
struct EventWeight {
  double count = 0;
  double bytes = 0;
};

struct HeapEstimates {
  format::SamplingRecord sampling;                   // the exact totals (its last phase-1 record)
  std::unordered_map<uint64_t, SiteEstimate> sites;  // by stack id
  std::unordered_map<uint32_t, ThreadEstimate> threads;  // by tid
  Estimate live_allocations;                             // at the end: leaked
  Estimate live_bytes;
  Estimate peak_bytes;
  Estimate peak_allocations;
  uint64_t peak_stamp = 0;
  const SiteEstimate* site(uint64_t stack_id) const;
};

class SampleEstimator {
 public:
  explicit SampleEstimator(const format::SamplingRecord& sampling) { out_.sampling = sampling; }
  EventWeight apply(const heap::HeapEvent& e);
  // The estimated live heap now, for the timeline (heap_timeline.hpp).
  uint64_t live_bytes() const;
  // The final estimates, with the exact totals of the trace's last sampling record.
  HeapEstimates finish(const format::SamplingRecord& last);
  // The heap model the reports read: `sampled` (the replay of the sampled events) with every
  // estimated figure in place of the sampled one, rounded, and the exact totals.
  static heap::HeapModel estimated_model(const heap::HeapModel& sampled, const HeapEstimates& e);

 private:
  struct Live {
    uint64_t stack_id;
    uint64_t size;
    uint32_t tid;
  };
  SiteEstimate& site(uint64_t stack_id);
  void touch(SiteEstimate& s);

  HeapEstimates out_;
  std::unordered_map<uint64_t, Live> live_;
  uint64_t epoch_ = 0;
};

}  // namespace memscope::analyzer
