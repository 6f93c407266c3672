// See stamp_order.hpp.
#include "heap/stamp_order.hpp"

namespace memscope::heap {

void StampOrder::hold(const HeapEvent* events, size_t count) {
  if (!lent_.empty()) keep_lent();
  size_t need = pending_.size() + count;
  if (pending_.capacity() < need) pending_.reserve(std::max(need, 2 * pending_.capacity()));
  for (size_t i = 0; i < count;) {
    hold(events[i]);  // may begin a run or a segment
    size_t j = i + 1;
    while (j < count && events[j].tid == events[j - 1].tid &&
           events[j].stamp >= events[j - 1].stamp)
      ++j;
    pending_.insert(pending_.end(), events + i + 1, events + j);
    runs_.back().end = pending_.size();
    i = j;
  }
}

// Splits the events into runs where a stamp decreases; a run continues the latest lent one when
// it follows it in memory with no decrease (a chunk's events come in pieces between its
// watermarks).
void StampOrder::lend(const HeapEvent* events, size_t count) {
  for (size_t i = 0; i < count;) {
    size_t j = i + 1;
    while (j < count && events[j].stamp >= events[j - 1].stamp) ++j;
    if (!lent_.empty() && lent_.back().end == events + i &&
        (lent_.back().end - 1)->stamp <= events[i].stamp) {
      lent_.back().end = events + j;
    } else {
      lent_.push_back({events + i, events + j});
    }
    i = j;
  }
  lent_events_ += count;
}

// Appends the lent remainders to pending_, joining runs that still form one (nothing still held
// arrived between them: pending_'s events all came before the lent ones).
void StampOrder::keep_lent() {
  pending_.reserve(pending_.size() + lent_events_);
  for (const Span& s : lent_) {
    size_t first = pending_.size();
    bool joins = !runs_.empty() && pending_.back().stamp <= s.begin->stamp;
    for (const HeapEvent* e = s.begin; e != s.end; ++e) {
      if (segments_.empty() || pending_.back().tid != e->tid)
        segments_.push_back({pending_.size(), e->tid});
      pending_.push_back(*e);
    }
    if (!joins) runs_.push_back({first, first});
    runs_.back().end = pending_.size();
  }
  lent_.clear();
  lent_events_ = 0;
}

void StampOrder::find_cuts(uint64_t stamp) {
  spans_.clear();
  for (const Run& r : runs_) spans_.push_back({pending_.data() + r.begin, pending_.data() + r.end});
  spans_.insert(spans_.end(), lent_.begin(), lent_.end());
  cuts_.clear();
  for (const Span& s : spans_)
    cuts_.push_back(std::lower_bound(s.begin, s.end, stamp,
                                     [](const HeapEvent& e, uint64_t t) { return e.stamp < t; }));
}

// Moves what stays held of pending_ to its front, in arrival order, joining runs that still form
// one; lent runs only lose what was released (their memory is the lender's until keep_lent()).
void StampOrder::keep_unreleased() {
  const size_t own_runs = runs_.size();
  size_t kept = 0;
  size_t runs = 0;
  for (size_t j = 0; j < own_runs; ++j) {
    size_t first = static_cast<size_t>(spans_[j].begin - pending_.data());
    size_t last = runs_[j].end;
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
  segments_.clear();
  for (size_t i = 0; i < kept; ++i)
    if (i == 0 || pending_[i - 1].tid != pending_[i].tid) segments_.push_back({i, pending_[i].tid});
  lent_.clear();
  lent_events_ = 0;
  for (size_t j = own_runs; j < spans_.size(); ++j) {
    if (spans_[j].begin == spans_[j].end) continue;
    lent_.push_back(spans_[j]);
    lent_events_ += static_cast<size_t>(spans_[j].end - spans_[j].begin);
  }
}

}  // namespace memscope::heap
