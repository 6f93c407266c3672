// See stamp_order.hpp.
#include "heap/stamp_order.hpp"

namespace memscope::heap {

void StampOrder::hold(const HeapEvent* events, size_t count) {
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

void StampOrder::find_cuts(uint64_t stamp) {
  cuts_.clear();
  for (const Run& r : runs_) {
    auto first = pending_.begin() + static_cast<ptrdiff_t>(r.begin);
    auto last = pending_.begin() + static_cast<ptrdiff_t>(r.end);
    auto cut = std::lower_bound(first, last, stamp,
                                [](const HeapEvent& e, uint64_t s) { return e.stamp < s; });
    cuts_.push_back(static_cast<size_t>(cut - pending_.begin()));
  }
}

// Moves what stays held to the front, in arrival order, joining runs that still form one.
void StampOrder::keep_unreleased() {
  size_t kept = 0;
  size_t runs = 0;
  for (size_t j = 0; j < runs_.size(); ++j) {
    size_t first = cuts_[j], last = runs_[j].end;
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
}

}  // namespace memscope::heap
