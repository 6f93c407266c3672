// One heap event as the heap model replays it. The analyzer decodes these from a trace; the
// sidecar builds the same ones from its rings while it writes them (docs/trace-format.md,
// "Heap summary"), so both replay identical sequences.
#pragma once

#include <cstdint>

namespace memscope::heap {

enum class EventKind : uint8_t { kAlloc, kFree };

// A realloc arrives as a free (stamped before the call) and an allocation (stamped after it).
struct HeapEvent {
  EventKind kind;
  uint8_t fn;
  uint32_t tid;
  uint64_t stamp;
  uint64_t ptr;
  uint64_t size;
  uint64_t stack_id;
};

}  // namespace memscope::heap
