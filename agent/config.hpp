// Agent configuration from MEMSCOPE_* environment variables, read once before the first
// traced event. Every option lives in one table in config.cpp (name, default, meaning).
#pragma once

#include <cstdint>

namespace memscope::agent {

struct Config {
  char output_dir[512];
  bool stacks;
  uint32_t stack_depth;
  uint32_t ring_slots;  // per-thread ring size in 64-byte slots (8 words each), a power of two
  bool drop_when_full;  // false: a producer waits for the sidecar (lossless)
  bool follow_children;
  uint32_t flush_interval_ms;   // longest time recorded events wait before reaching the file
  uint32_t sample_interval_ms;  // machine/process metrics; 0: not sampled
  bool sample_fixed;            // no adaptive back-off of the sampling interval
  uint32_t heap_summary_mb;     // budget of the online heap model (online_heap.hpp); 0: off
  bool freeres;                 // free the C and C++ runtimes' buffers at exit (freeres.cpp)
  uint8_t leak_check;           // format::LeakCheckLevel: none, summary, full (leak_scan.hpp)
  uint64_t max_trace_bytes;     // size limit of the trace file; 0: none
  uint64_t sample_bytes;        // mean bytes between sampled bytes (sampler.hpp); 0: every call
  uint64_t sample_seed;         // seed of the sampling draws; drawn at start unless given
};

// Parses the environment; a nonsense value gets a one-line message on stderr and the default.
void load_config(Config& out);

extern Config g_config;

// Whether a fork child will scan for leaks at its end: only then does it need the parent's heap
// model and the forking thread's undrained events (fork_inheritance.hpp); otherwise a fork
// copies and keeps none of it.
bool children_scan_leaks();

}  // namespace memscope::agent
