// The shared heap model (heap/) under the names the analyzer's code uses.
#pragma once

#include "heap/heap_event.hpp"
#include "heap/heap_model.hpp"
#include "heap/heap_timeline.hpp"

namespace memscope::analyzer {

using heap::Counters;
using heap::EventKind;
using heap::HeapBucket;
using heap::HeapEvent;
using heap::HeapModel;
using heap::HeapTimeline;
using heap::HeapTotals;
using heap::kInheritedStack;
using heap::LiveBlock;
using heap::LiveMap;
using heap::Log2Histogram;
using heap::SiteStats;
using heap::ThreadHeap;

}  // namespace memscope::analyzer
