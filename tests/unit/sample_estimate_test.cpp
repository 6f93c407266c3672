// Unit tests of the sampled trace's estimator (analyzer/sample_estimate.hpp): known sampled
// allocations give known Horvitz-Thompson estimates, variances and 95 % intervals.
#include <doctest/doctest.h>

#include <cmath>

#include "analyzer/sample_estimate.hpp"

using namespace memscope::analyzer;
using memscope::heap::EventKind;
using memscope::heap::HeapEvent;

namespace {

HeapEvent alloc(uint64_t stamp, uint64_t ptr, uint64_t size, uint64_t stack, uint32_t tid = 1) {
  return {EventKind::kAlloc, 0, tid, stamp, ptr, size, stack};
}
HeapEvent release(uint64_t stamp, uint64_t ptr, uint32_t tid = 1) {
  return {EventKind::kFree, 0, tid, stamp, ptr, 0, 0};
}

memscope::format::SamplingRecord sampling(uint64_t mean, uint8_t phase) {
  memscope::format::SamplingRecord r;
  r.mean_bytes = mean;
  r.phase = phase;
  return r;
}

}  // namespace

TEST_CASE("a sampled allocation of the mean's size weighs 1/p, p = 1 - 1/e") {
  SampleEstimator est(sampling(1000, 0));
  const double p = 1 - std::exp(-1.0);
  EventWeight w = est.apply(alloc(1, 0x1000, 1000, 7));
  CHECK(w.count == doctest::Approx(1 / p));
  CHECK(w.bytes == doctest::Approx(1000 / p));
  est.apply(alloc(2, 0x2000, 1000, 7, 2));
  w = est.apply(release(3, 0x1000, 2));
  CHECK(w.bytes == doctest::Approx(1000 / p));
  CHECK(est.apply(release(4, 0x9999)).count == 0);  // never sampled: weighs nothing
  HeapEstimates e = est.finish(sampling(1000, 1));

  const SiteEstimate& s = *e.site(7);
  CHECK(s.allocations.value == doctest::Approx(2 / p));
  CHECK(s.allocated_bytes.value == doctest::Approx(2000 / p));
  // Var = sum of (1-p)/p^2 * size^2 over the sampled allocations.
  double var = 2 * (1 - p) / (p * p) * 1e6;
  CHECK(s.allocated_bytes.variance == doctest::Approx(var));
  // The interval is +- 1.96 standard deviations, its low end never below the sampled 2000 bytes.
  CHECK(2000 / p - 1.959964 * std::sqrt(var) < 2000);
  CHECK(s.allocated_bytes.low() == 2000);
  CHECK(s.allocated_bytes.high() == doctest::Approx(2000 / p + 1.959964 * std::sqrt(var)));
  CHECK(s.live_bytes.value == doctest::Approx(1000 / p));
  // The peak: both live at once; at the end one, and never an interval below what was sampled.
  CHECK(e.peak_bytes.value == doctest::Approx(2000 / p));
  CHECK(e.peak_stamp == 2);
  CHECK(e.live_bytes.value == doctest::Approx(1000 / p));
  CHECK(e.live_bytes.low() >= 1000);
  // Per thread: the free on the freeing thread, the live block on the allocating one.
  CHECK(e.threads.at(1).allocated_bytes == doctest::Approx(1000 / p));
  CHECK(e.threads.at(1).live_bytes == doctest::Approx(0).epsilon(1e-9));
  CHECK(e.threads.at(2).freed_bytes == doctest::Approx(1000 / p));
  CHECK(e.threads.at(2).live_bytes == doctest::Approx(1000 / p));
}

TEST_CASE("a block much larger than the mean is sure to be sampled: exact, no interval") {
  SampleEstimator est(sampling(1000, 0));
  EventWeight w = est.apply(alloc(1, 0x1000, 1'000'000, 3));
  CHECK(w.count == 1);
  CHECK(w.bytes == 1'000'000);
  HeapEstimates e = est.finish(sampling(1000, 1));
  CHECK(e.site(3)->allocated_bytes.low() == 1'000'000);
  CHECK(e.site(3)->allocated_bytes.high() == 1'000'000);
}

TEST_CASE("every sampled block freed: the live estimate is exactly zero") {
  SampleEstimator est(sampling(4096, 0));
  for (uint64_t i = 0; i < 100; ++i) est.apply(alloc(2 * i + 1, 0x1000 + 16 * i, 24 + i, 5));
  for (uint64_t i = 0; i < 100; ++i) est.apply(release(300 + i, 0x1000 + 16 * i));
  HeapEstimates e = est.finish(sampling(4096, 1));
  CHECK(e.live_bytes.value == 0);
  CHECK(e.live_bytes.high() == 0);
  CHECK(est.live_bytes() == 0);
  CHECK(e.site(5)->allocations.sampled == 100);
}

TEST_CASE("the estimated model: exact totals from the sampling record, estimated sites") {
  SampleEstimator est(sampling(1000, 0));
  memscope::heap::HeapModel sampled;
  for (const HeapEvent& ev : {alloc(1, 0x1000, 1000, 7), alloc(2, 0x2000, 1000, 7)}) {
    est.apply(ev);
    sampled.apply(ev);
  }
  memscope::format::SamplingRecord end = sampling(1000, 1);
  end.allocations = 5, end.frees = 2, end.allocated_bytes = 4321;
  HeapEstimates e = est.finish(end);
  memscope::heap::HeapModel m = SampleEstimator::estimated_model(sampled, e);
  CHECK(m.totals().allocations == 5);
  CHECK(m.totals().allocated_bytes == 4321);
  const double p = 1 - std::exp(-1.0);
  CHECK(m.totals().peak_bytes == static_cast<uint64_t>(std::llround(2000 / p)));
  CHECK(m.sites().at(0).counts.allocated_bytes == static_cast<uint64_t>(std::llround(2000 / p)));
  CHECK(m.threads().at(1).counts.allocated_bytes == static_cast<uint64_t>(std::llround(2000 / p)));
}
