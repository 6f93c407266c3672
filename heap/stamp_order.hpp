// Puts heap events back into stamp order. Events arrive thread by thread, each thread's in stamp
// order; a watermark says every event stamped before it has arrived (docs/trace-format.md,
// "Ordering", proves the sidecar's watermarks say so truthfully). Events wait here until a
// watermark releases them, earliest stamp first, ties in arrival order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "heap/heap_event.hpp"

namespace memscope::heap {

class StampOrder {
 public:
  void hold(const HeapEvent& e) {
    if (!lent_.empty()) keep_lent();
    if (runs_.empty() || e.stamp < pending_.back().stamp)
      runs_.push_back({pending_.size(), pending_.size()});
    if (segments_.empty() || pending_.back().tid != e.tid)
      segments_.push_back({pending_.size(), e.tid});
    pending_.push_back(e);
    runs_.back().end = pending_.size();
  }
  // The same for `count` events in arrival order: stretches of one thread in stamp order (most of
  // a decoded chunk) are copied at once.
  void hold(const HeapEvent* events, size_t count);
  // The same without copying: the events stay where they are, valid until keep_lent() (which the
  // caller must call before they go away) or hold(); releases take them from there. The reader
  // lends each chunk's events for as long as it delivers the chunk, so that the events its
  // watermarks release (most of them) are never copied.
  void lend(const HeapEvent* events, size_t count);
  // Copies the lent events not yet released into this order's own storage.
  void keep_lent();
  // Calls `sink(const HeapEvent&)` for every held event stamped before `stamp`, in stamp order.
  template <typename Sink>
  void release_before(uint64_t stamp, Sink&& sink);
  size_t held() const { return pending_.size() + lent_events_; }
  // Thread `tid`'s held events in stamp order, visiting only the stretches that are its own: a
  // fork child copies the forking thread's among the parent's many (OnlineHeap::inheriting).
  template <typename Visit>
  void for_each_held_of(uint32_t tid, Visit&& visit) const {
    for (size_t i = 0; i < segments_.size(); ++i) {
      if (segments_[i].tid != tid) continue;
      size_t end = i + 1 < segments_.size() ? segments_[i + 1].begin : pending_.size();
      for (size_t j = segments_[i].begin; j < end; ++j) visit(pending_[j]);
    }
    for (const Span& s : lent_)
      for (const HeapEvent* e = s.begin; e != s.end; ++e)
        if (e->tid == tid) visit(*e);
  }
  size_t capacity() const { return pending_.capacity(); }

 private:
  // A stretch of pending_ whose stamps never decrease. Each thread's events arrive in stamp
  // order and thread by thread, so a few runs hold everything between two watermarks, and
  // merging them is much cheaper than sorting.
  struct Run {
    size_t begin;
    size_t end;
  };
  // A stretch of pending_ from one thread, up to the next segment's begin.
  struct Segment {
    size_t begin;
    uint32_t tid;
  };
  // A run as a release sees it, in pending_ or in lent memory: what is left of it to release.
  struct Span {
    const HeapEvent* begin;
    const HeapEvent* end;
  };
  template <typename Sink>
  void merge_released(Sink& sink);
  template <typename Sink>
  void sort_released(Sink& sink);
  void find_cuts(uint64_t stamp);
  void keep_unreleased();

  std::vector<HeapEvent> pending_;  // events not yet released, in arrival order
  std::vector<Run> runs_;           // cover pending_ exactly, in order
  std::vector<Segment> segments_;   // cover pending_ exactly, in order
  // Lent events not yet released, as runs in arrival order; all arrived after pending_'s.
  std::vector<Span> lent_;
  size_t lent_events_ = 0;
  std::vector<Span> spans_;             // per run, pending_'s then lent_'s
  std::vector<const HeapEvent*> cuts_;  // per run: its first event not released by this watermark
  struct Sorted {
    const HeapEvent* e;
    size_t run;
  };
  std::vector<Sorted> sorted_;  // sort_released's scratch
};

template <typename Sink>
void StampOrder::release_before(uint64_t stamp, Sink&& sink) {
  if (held() == 0) return;
  find_cuts(stamp);
  // A damaged or unusual trace can cut the events into many runs; sorting then costs less.
  constexpr size_t kMergeWays = 16;
  if (spans_.size() <= kMergeWays) {
    merge_released(sink);
  } else {
    sort_released(sink);
  }
  keep_unreleased();
}

// Repeatedly takes the earliest head among the runs; on equal stamps the earlier run, which
// arrived first. The run that wins keeps emitting until its head passes the runner-up's, so the
// heads are compared once per stretch rather than once per event (runs interleave in long
// stretches: a thread's events between two of another's).
template <typename Sink>
void StampOrder::merge_released(Sink& sink) {
  const size_t ways = spans_.size();
  for (;;) {
    size_t best = ways, second = ways;
    uint64_t best_stamp = UINT64_MAX, second_stamp = UINT64_MAX;
    for (size_t j = 0; j < ways; ++j) {
      if (spans_[j].begin == cuts_[j]) continue;
      uint64_t s = spans_[j].begin->stamp;
      if (best == ways || s < best_stamp) {
        second = best, second_stamp = best_stamp;
        best = j, best_stamp = s;
      } else if (second == ways || s < second_stamp) {
        second = j, second_stamp = s;
      }
    }
    if (best == ways) return;
    // Every other run's head is at second_stamp or later, and ties go to the lower run index.
    const HeapEvent*& head = spans_[best].begin;
    const HeapEvent* const cut = cuts_[best];
    const bool wins_ties = best < second;
    do {
      sink(*head++);
    } while (head < cut &&
             (head->stamp < second_stamp || (wins_ties && head->stamp == second_stamp)));
  }
}

// Runs are in arrival order and each in arrival order, so sorting pointers by stamp, then by
// run, then by place in the run, puts ties in arrival order.
template <typename Sink>
void StampOrder::sort_released(Sink& sink) {
  sorted_.clear();
  for (size_t j = 0; j < spans_.size(); ++j)
    for (const HeapEvent* e = spans_[j].begin; e != cuts_[j]; ++e) sorted_.push_back({e, j});
  std::sort(sorted_.begin(), sorted_.end(), [](const Sorted& a, const Sorted& b) {
    if (a.e->stamp != b.e->stamp) return a.e->stamp < b.e->stamp;
    return a.run != b.run ? a.run < b.run : a.e < b.e;
  });
  for (const Sorted& i : sorted_) sink(*i.e);
  for (size_t j = 0; j < spans_.size(); ++j) spans_[j].begin = cuts_[j];
}

}  // namespace memscope::heap
