// See heap_summary.hpp. Layout (all LEB128 varints; the same list in docs/trace-format.md):
//   version, events, totals (10 fields), thread count, threads (tid + 7 fields each),
//   site count, sites (13 fields and two histograms each), timeline (bucket_ns, origin_ns,
//   bucket count, 6 fields per bucket; bucket i starts at origin_ns + i * bucket_ns).
#include "heap/heap_summary.hpp"

#include "format/trace_format.hpp"

namespace memscope::heap {
namespace {

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
  void put(uint64_t v) {
    uint8_t bytes[10];
    out_.insert(out_.end(), bytes, bytes + format::put_varint(bytes, v));
  }
  void put(const Counters& c) {
    put(c.allocations);
    put(c.frees);
    put(c.allocated_bytes);
    put(c.freed_bytes);
  }
  void put(const Log2Histogram& h) {
    put(h.counts.size());
    for (uint64_t n : h.counts) put(n);
  }

 private:
  std::vector<uint8_t>& out_;
};

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : c_(data, data + size) {}
  bool get(uint64_t& v) { return c_.varint(v); }
  bool get(uint32_t& v) {
    uint64_t wide;
    if (!c_.varint(wide) || wide > UINT32_MAX) return false;
    v = static_cast<uint32_t>(wide);
    return true;
  }
  bool get(Counters& c) {
    return get(c.allocations) && get(c.frees) && get(c.allocated_bytes) && get(c.freed_bytes);
  }
  bool get(Log2Histogram& h) {
    uint64_t n;
    if (!get(n) || n > 65) return false;  // bucket_width of a 64-bit value is at most 64
    h.counts.resize(n);
    for (uint64_t& v : h.counts)
      if (!get(v)) return false;
    return true;
  }
  // A count of items that each take at least one byte: larger than what is left is damage.
  bool count(uint64_t& n) { return get(n) && n <= c_.remaining(); }
  bool at_end() const { return c_.at_end(); }

 private:
  format::Cursor c_;
};

void put_totals(Writer& w, const HeapTotals& t) {
  for (uint64_t v :
       {t.allocations, t.frees, t.allocated_bytes, t.live_allocations, t.live_bytes, t.peak_bytes,
        t.peak_allocations, t.peak_stamp, t.unmatched_frees, t.temporary})
    w.put(v);
}

bool get_totals(Reader& r, HeapTotals& t) {
  for (uint64_t* v :
       {&t.allocations, &t.frees, &t.allocated_bytes, &t.live_allocations, &t.live_bytes,
        &t.peak_bytes, &t.peak_allocations, &t.peak_stamp, &t.unmatched_frees, &t.temporary})
    if (!r.get(*v)) return false;
  return true;
}

bool get_thread(Reader& r, std::map<uint32_t, ThreadHeap>& threads) {
  uint32_t tid;
  ThreadHeap t;
  if (!r.get(tid) || !r.get(t.counts) || !r.get(t.temporary) || !r.get(t.live_allocations) ||
      !r.get(t.live_bytes))
    return false;
  threads[tid] = t;
  return true;
}

bool get_site(Reader& r, SiteStats& s) {
  return r.get(s.stack_id) && r.get(s.first_stamp) && r.get(s.counts) && r.get(s.temporary) &&
         r.get(s.live_allocations) && r.get(s.live_bytes) && r.get(s.peak_allocations) &&
         r.get(s.peak_bytes) && r.get(s.sizes) && r.get(s.lifetimes);
}

bool get_bucket(Reader& r, HeapBucket& b) {
  return r.get(b.allocations) && r.get(b.frees) && r.get(b.allocated_bytes) &&
         r.get(b.freed_bytes) && r.get(b.live_bytes_end) && r.get(b.live_bytes_peak);
}

}  // namespace

void encode_heap_summary(const HeapModel& heap, const HeapTimeline& timeline, uint64_t events,
                         std::vector<uint8_t>& out) {
  Writer w(out);
  w.put(kHeapSummaryVersion);
  w.put(events);
  put_totals(w, heap.totals());
  w.put(heap.threads().size());
  for (const auto& [tid, t] : heap.threads()) {
    w.put(tid);
    w.put(t.counts);
    w.put(t.temporary);
    w.put(t.live_allocations);
    w.put(t.live_bytes);
  }
  const std::vector<SiteStats>& sites = heap.sites();  // settles the figures at the peak
  w.put(sites.size());
  for (const SiteStats& s : sites) {
    w.put(s.stack_id);
    w.put(s.first_stamp);
    w.put(s.counts);
    w.put(s.temporary);
    w.put(s.live_allocations);
    w.put(s.live_bytes);
    w.put(s.peak_allocations);
    w.put(s.peak_bytes);
    w.put(s.sizes);
    w.put(s.lifetimes);
  }
  w.put(timeline.bucket_ns());
  w.put(timeline.origin_ns());
  w.put(timeline.buckets().size());
  for (const HeapBucket& b : timeline.buckets())
    for (uint64_t v : {b.allocations, b.frees, b.allocated_bytes, b.freed_bytes, b.live_bytes_end,
                       b.live_bytes_peak})
      w.put(v);
}

std::optional<HeapSummary> decode_heap_summary(const uint8_t* data, size_t size) {
  Reader r(data, size);
  uint64_t version, events, count;
  HeapTotals totals;
  if (!r.get(version) || version != kHeapSummaryVersion || !r.get(events) ||
      !get_totals(r, totals) || !r.count(count))
    return std::nullopt;
  std::map<uint32_t, ThreadHeap> threads;
  for (uint64_t i = 0; i < count; ++i)
    if (!get_thread(r, threads)) return std::nullopt;
  if (!r.count(count)) return std::nullopt;
  std::vector<SiteStats> sites(count);
  for (SiteStats& s : sites)
    if (!get_site(r, s)) return std::nullopt;
  uint64_t bucket_ns, origin_ns;
  if (!r.get(bucket_ns) || bucket_ns == 0 || !r.get(origin_ns) || !r.count(count) ||
      count > HeapTimeline::kMaxBuckets)
    return std::nullopt;
  std::vector<HeapBucket> buckets(count);
  for (size_t i = 0; i < buckets.size(); ++i) {
    buckets[i].start_ns = origin_ns + i * bucket_ns;
    if (!get_bucket(r, buckets[i])) return std::nullopt;
  }
  if (!r.at_end()) return std::nullopt;
  return HeapSummary{events, HeapModel::from_figures(totals, std::move(sites), std::move(threads)),
                     HeapTimeline::from_buckets(bucket_ns, origin_ns, std::move(buckets))};
}

}  // namespace memscope::heap
