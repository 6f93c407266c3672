/* The agent's C interface for profiling a region of a program from inside it (used by the C++
   API in include/memscope/memscope.hpp, found at run time with dlsym so the same code works
   whether the agent was preloaded by memscope-run or linked into the program). */
#ifndef MEMSCOPE_AGENT_REGION_API_H
#define MEMSCOPE_AGENT_REGION_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the start of a region. Under memscope-run the process is already traced and
   `output_dir` is ignored; otherwise tracing starts now, into `output_dir`. Returns 0 with the
   region's id and the stamp (CLOCK_MONOTONIC ns) of its begin marker, or an errno value
   (EBUSY: a region is already open; EIO: the trace could not be written, a message was
   printed). */
int memscope_region_begin(const char* output_dir, uint64_t* region_id, uint64_t* begin_ns);

/* Marks the end of region `region_id` (its stamp in `end_ns`) and writes everything recorded
   so far to the trace, whose path is copied to `trace_path` (NUL-terminated, at most
   `capacity` bytes). Returns 0, or EINVAL when `region_id` is not the open region. */
int memscope_region_end(uint64_t region_id, uint64_t* end_ns, char* trace_path, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif
