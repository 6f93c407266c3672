// The sidecar's hardware counters (collector/linux/hw_counters.hpp) and the kHwCounters records
// it writes of them (format/hw_counters.hpp): opened once, in the sidecar's first cycle (in a
// process's first image the program is still waiting then, so its threads are all counted),
// read once a second, at a counted thread's end and at the process's end. Per-thread counters
// go to the first kThreadSlots threads the sidecar sees start, each from its start to its end,
// and a slot a thread left goes to the next one: exact figures for the threads of a small pool,
// a bounded descriptor count for a large one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "agent/trace_writer.hpp"
#include "collector/linux/hw_counters.hpp"
#include "format/hw_counters.hpp"

namespace memscope::agent {

class HwSampler {
 public:
  // Opens the counters and writes the first record (or the one saying why there are none).
  void start(TraceWriter& writer, uint64_t now);
  void thread_started(pid_t tid);
  // The thread's last reading, then its slot is free.
  void thread_ended(TraceWriter& writer, pid_t tid, uint64_t now);
  // A reading of every counter when a second has passed since the last one, or at once (`force`,
  // the process's end).
  void tick(TraceWriter& writer, uint64_t now, bool force);

 private:
  void write(TraceWriter& writer);

  collector::HwCounters counters_;
  format::HwCountersRecord record_;
  std::vector<uint8_t> body_;
  bool started_ = false;
  uint64_t last_ns_ = 0;
};

}  // namespace memscope::agent
