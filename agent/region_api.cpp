// See region_api.h. One region may be open at a time per process; markers go through the
// calling thread's ring like any event, so they sort with the allocations around them.
#include "agent/region_api.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "agent/agent_state.hpp"
#include "agent/lifecycle.hpp"
#include "agent/real_functions.hpp"
#include "agent/recorder.hpp"
#include "agent/sidecar.hpp"

namespace {

std::atomic<uint64_t> g_open_region{0};
std::atomic<uint64_t> g_next_region{1};

}  // namespace

namespace a = memscope::agent;

extern "C" __attribute__((visibility("default"))) int memscope_region_begin(const char* output_dir,
                                                                            uint64_t* region_id,
                                                                            uint64_t* begin_ns) {
  a::real_functions_ready();
  uint64_t id = g_next_region.fetch_add(1);
  uint64_t none = 0;
  if (!g_open_region.compare_exchange_strong(none, id)) return EBUSY;
  if (a::sidecar_trace_path().empty() &&
      (output_dir == nullptr || !a::start_tracing_into(output_dir))) {
    g_open_region.store(0);
    return EIO;
  }
  a::g_recording.store(true);
  *begin_ns = a::record_region_marker(id, true);
  *region_id = id;
  return 0;
}

extern "C" __attribute__((visibility("default"))) int memscope_region_end(uint64_t region_id,
                                                                          uint64_t* end_ns,
                                                                          char* trace_path,
                                                                          size_t capacity) {
  if (region_id == 0 || g_open_region.load() != region_id) return EINVAL;
  *end_ns = a::record_region_marker(region_id, false);
  std::string path = a::sidecar_trace_path();
  // A linked (not preloaded) agent records only inside regions, each into its own trace in
  // its session's directory; under memscope-run the process's one trace goes on.
  if (a::agent_is_dormant()) {
    a::flush_sidecar(memscope::format::EndReason::kRegionEnded, 0, true);
  } else {
    a::flush_sidecar_records();
  }
  if (capacity > 0) {
    size_t n = path.size() < capacity - 1 ? path.size() : capacity - 1;
    std::memcpy(trace_path, path.data(), n);
    trace_path[n] = '\0';
  }
  g_open_region.store(0);
  return 0;
}
