// The sidecar: the one agent thread per traced process. It drains every thread's ring, interns
// stacks, tracks the module map, encodes and compresses chunks and writes the trace, so that
// application threads never do I/O. Application threads talk to it only through requests
// (flush now, stop) that they wait for with a bounded timeout.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "format/trace_format.hpp"

namespace memscope::agent {

class OnlineHeap;

struct ProcessOrigin {
  pid_t parent_pid = 0;     // traced parent of a fork child; 0 otherwise
  uint64_t fork_stamp = 0;  // when the parent called fork
};

// Opens the trace file and starts the sidecar thread. False (with a message printed) when the
// trace cannot be written; the program then runs untraced.
bool start_sidecar(const ProcessOrigin& origin);
// Drains everything recorded so far and writes it, ending with a ProcessEnd record; with
// `final`, the sidecar then stops. Waits at most a few seconds.
void flush_sidecar(format::EndReason reason, int64_t detail, bool final);
// Drains everything recorded so far and writes it, without ending anything.
void flush_sidecar_records();
// The trace file being written ("" when none).
std::string sidecar_trace_path();
// In the parent, while its sidecar is parked for a fork: the sidecar's heap model (null: none).
const OnlineHeap* parked_sidecar_model();
// In a fork child: forgets the parent's sidecar, handing over its heap model when
// `take_model` (the model was whole when the fork copied it).
std::unique_ptr<OnlineHeap> abandon_sidecar_after_fork(bool take_model);

}  // namespace memscope::agent
