// See sample_estimate.hpp.
#include "analyzer/sample_estimate.hpp"

#include <algorithm>
#include <cmath>

namespace memscope::analyzer {
namespace {

constexpr double kZ95 = 1.959964;

uint64_t rounded(double v) {
  return v <= 0 ? 0 : static_cast<uint64_t>(std::llround(v));
}

// The probability that the agent sampled an allocation of `size` bytes.
double sampled_probability(uint64_t size, uint64_t mean) {
  return -std::expm1(-static_cast<double>(size) / static_cast<double>(mean));
}

}  // namespace

double Estimate::low() const {
  return std::max(sampled, value - kZ95 * std::sqrt(std::max(0.0, variance)));
}

double Estimate::high() const {
  return std::max(sampled, value + kZ95 * std::sqrt(std::max(0.0, variance)));
}

void Estimate::add(double weighted, double var, double raw) {
  value += weighted;
  variance += var;
  sampled += raw;
  // Nothing sampled left (every sampled block freed): exactly zero, without rounding residue.
  if (sampled == 0) value = variance = 0;
}

const SiteEstimate* HeapEstimates::site(uint64_t stack_id) const {
  auto it = sites.find(stack_id);
  return it == sites.end() ? nullptr : &it->second;
}

SiteEstimate& SampleEstimator::site(uint64_t stack_id) {
  return out_.sites[stack_id];
}

// As HeapModel does: before a site's live figures change, keep them as its figures at the
// latest peak unless that was done since the peak.
void SampleEstimator::touch(SiteEstimate& s) {
  if (epoch_ != 0 && s.peak_epoch != epoch_) {
    s.peak_bytes = s.live_bytes;
    s.peak_allocations = s.live_allocations;
    s.peak_epoch = epoch_;
  }
}

uint64_t SampleEstimator::live_bytes() const {
  return rounded(out_.live_bytes.value);
}

EventWeight SampleEstimator::apply(const heap::HeapEvent& e) {
  if (e.kind == heap::EventKind::kFree) {
    auto it = live_.find(e.ptr);
    if (it == live_.end()) return {};  // not sampled: the agent recorded it for a full bucket
    double p = sampled_probability(it->second.size, out_.sampling.mean_bytes);
    double count = 1 / p, bytes = static_cast<double>(it->second.size) / p;
    double count_var = (1 - p) / (p * p), bytes_var = bytes * bytes * (1 - p);
    SiteEstimate& s = site(it->second.stack_id);
    touch(s);
    s.live_allocations.add(-count, -count_var, -1);
    s.live_bytes.add(-bytes, -bytes_var, -static_cast<double>(it->second.size));
    out_.live_allocations.add(-count, -count_var, -1);
    out_.live_bytes.add(-bytes, -bytes_var, -static_cast<double>(it->second.size));
    ThreadEstimate& owner = out_.threads[it->second.tid];
    owner.live_allocations -= count;
    owner.live_bytes -= bytes;
    ThreadEstimate& t = out_.threads[e.tid];
    t.frees += count;
    t.freed_bytes += bytes;
    live_.erase(it);
    return {count, bytes};
  }
  if (e.size == 0) return {};  // never sampled: nothing to weigh
  double p = sampled_probability(e.size, out_.sampling.mean_bytes);
  double count = 1 / p, bytes = static_cast<double>(e.size) / p;
  double count_var = (1 - p) / (p * p), bytes_var = bytes * bytes * (1 - p);
  double raw = static_cast<double>(e.size);
  live_[e.ptr] = {e.stack_id, e.size, e.tid};
  ThreadEstimate& t = out_.threads[e.tid];
  t.allocations += count;
  t.allocated_bytes += bytes;
  t.live_allocations += count;
  t.live_bytes += bytes;
  SiteEstimate& s = site(e.stack_id);
  touch(s);
  s.allocations.add(count, count_var, 1);
  s.allocated_bytes.add(bytes, bytes_var, raw);
  s.live_allocations.add(count, count_var, 1);
  s.live_bytes.add(bytes, bytes_var, raw);
  out_.live_allocations.add(count, count_var, 1);
  out_.live_bytes.add(bytes, bytes_var, raw);
  if (out_.live_bytes.value > out_.peak_bytes.value) {
    out_.peak_bytes = out_.live_bytes;
    out_.peak_allocations = out_.live_allocations;
    out_.peak_stamp = e.stamp;
    ++epoch_;
  }
  return {count, bytes};
}

HeapEstimates SampleEstimator::finish(const format::SamplingRecord& last) {
  for (auto& [id, s] : out_.sites)
    if (epoch_ != 0 && s.peak_epoch != epoch_) {
      s.peak_bytes = s.live_bytes;
      s.peak_allocations = s.live_allocations;
      s.peak_epoch = epoch_;
    }
  out_.sampling = last;
  return out_;
}

heap::HeapModel SampleEstimator::estimated_model(const heap::HeapModel& sampled,
                                                 const HeapEstimates& e) {
  std::vector<heap::SiteStats> sites = sampled.sites();
  for (heap::SiteStats& s : sites) {
    const SiteEstimate* est = e.site(s.stack_id);
    if (est == nullptr) continue;
    double scale = s.counts.allocations == 0
                       ? 0
                       : est->allocations.value / static_cast<double>(s.counts.allocations);
    s.counts.allocations = rounded(est->allocations.value);
    s.counts.allocated_bytes = rounded(est->allocated_bytes.value);
    s.counts.frees = rounded(est->allocations.value - est->live_allocations.value);
    s.counts.freed_bytes = rounded(est->allocated_bytes.value - est->live_bytes.value);
    s.temporary = rounded(static_cast<double>(s.temporary) * scale);
    s.live_allocations = rounded(est->live_allocations.value);
    s.live_bytes = rounded(est->live_bytes.value);
    s.peak_allocations = rounded(est->peak_allocations.value);
    s.peak_bytes = rounded(est->peak_bytes.value);
  }
  // Per thread: each sampled event weighted by its own probability, as for the sites.
  double estimated_bytes = 0, estimated_allocations = 0;
  for (const auto& [id, s] : e.sites)
    estimated_bytes += s.allocated_bytes.value, estimated_allocations += s.allocations.value;
  const heap::HeapTotals& raw = sampled.totals();
  double count_scale =
      raw.allocations == 0 ? 0 : estimated_allocations / static_cast<double>(raw.allocations);
  std::map<uint32_t, heap::ThreadHeap> threads = sampled.threads();
  for (auto& [tid, t] : threads) {
    auto it = e.threads.find(tid);
    if (it == e.threads.end()) continue;
    const ThreadEstimate& est = it->second;
    double scale =
        t.counts.allocations == 0 ? 0 : est.allocations / static_cast<double>(t.counts.allocations);
    t.counts.allocations = rounded(est.allocations);
    t.counts.frees = rounded(est.frees);
    t.counts.allocated_bytes = rounded(est.allocated_bytes);
    t.counts.freed_bytes = rounded(est.freed_bytes);
    t.temporary = rounded(static_cast<double>(t.temporary) * scale);
    t.live_allocations = rounded(est.live_allocations);
    t.live_bytes = rounded(est.live_bytes);
  }
  heap::HeapTotals totals;
  totals.allocations = e.sampling.allocations;
  totals.frees = e.sampling.frees;
  totals.allocated_bytes = e.sampling.allocated_bytes;
  if (e.sampling.phase == 0) {  // no end recorded (killed): no exact totals, estimate them too
    totals.allocations = rounded(estimated_allocations);
    totals.allocated_bytes = rounded(estimated_bytes);
    totals.frees = rounded(estimated_allocations - e.live_allocations.value);
  }
  totals.live_allocations = rounded(e.live_allocations.value);
  totals.live_bytes = rounded(e.live_bytes.value);
  totals.peak_bytes = rounded(e.peak_bytes.value);
  totals.peak_allocations = rounded(e.peak_allocations.value);
  totals.peak_stamp = e.peak_stamp;
  totals.temporary = rounded(static_cast<double>(raw.temporary) * count_scale);
  return heap::HeapModel::from_figures(totals, std::move(sites), std::move(threads));
}

}  // namespace memscope::analyzer
