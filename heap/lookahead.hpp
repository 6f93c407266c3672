// Replays heap events a few events late, so that the live-map slot each one will touch is
// already on its way into the cache when its turn comes. A busy program's live map is larger
// than the core's L2 cache and addresses hash to random slots, so without this every event
// waits for memory (the storm's replay spent a third of its time in the live map's lookups).
#pragma once

#include <cstddef>

#include "heap/heap_event.hpp"
#include "heap/heap_model.hpp"

namespace memscope::heap {

// `apply(const HeapEvent&)` sees every event in the order given, kDepth events behind; finish()
// hands on the ones still waiting.
template <typename Apply>
class Lookahead {
 public:
  static constexpr size_t kDepth = 16;  // events in flight: enough to cover a memory access

  Lookahead(const LiveMap& live, Apply& apply) : live_(live), apply_(apply) {}
  void operator()(const HeapEvent& e) {
    live_.prefetch(e.ptr);
    HeapEvent& slot = ring_[count_++ % kDepth];
    if (count_ > kDepth) apply_(slot);
    slot = e;
  }
  void finish() {
    size_t first = count_ > kDepth ? count_ - kDepth : 0;
    for (size_t i = first; i < count_; ++i) apply_(ring_[i % kDepth]);
    count_ = 0;
  }

 private:
  const LiveMap& live_;
  Apply& apply_;
  HeapEvent ring_[kDepth];
  size_t count_ = 0;
};

}  // namespace memscope::heap
