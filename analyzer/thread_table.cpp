// See thread_table.hpp.
#include "analyzer/thread_table.hpp"

#include <algorithm>

#include "analyzer/session.hpp"

namespace memscope::analyzer {
namespace {

bool lists(const PlatformMetrics& m, uint64_t tid) {
  return std::any_of(m.threads.begin(), m.threads.end(), [&](const ThreadResourceMetrics& t) {
    return static_cast<uint64_t>(t.thread_id) == tid;
  });
}

// The last sample that listed threads at all (per-thread sampling may be off, or stopped).
const PlatformMetrics* last_thread_listing(const std::vector<PlatformMetrics>& samples) {
  for (auto it = samples.rbegin(); it != samples.rend(); ++it)
    if (!it->threads.empty()) return &*it;
  return nullptr;
}

void add_sampled(std::map<uint64_t, ThreadInfo>& threads, uint64_t sidecar_tid,
                 const std::vector<PlatformMetrics>& samples) {
  for (const PlatformMetrics& m : samples) {
    for (const ThreadResourceMetrics& t : m.threads) {
      auto tid = static_cast<uint64_t>(t.thread_id);
      if (tid == 0 || tid == sidecar_tid) continue;
      auto [it, added] = threads.try_emplace(tid);
      ThreadInfo& known = it->second;
      if (added) {
        known.tid = tid;
        known.source = ThreadSource::kSamples;
        known.start_stamp = m.timestamp_ns;  // it started at most one interval earlier
      }
      // The agent's name is the thread's own at its end; a sampled thread's latest is this one.
      if (known.source == ThreadSource::kSamples && !t.thread_name.empty())
        known.name = t.thread_name;
    }
  }
}

// The main thread existed from the process's start, recorded or not.
// Unnamed, it goes by the process's name, as the kernel names a main thread after its image.
void add_main(std::map<uint64_t, ThreadInfo>& threads, const ProcessInfo& info,
              uint64_t trace_start_ns) {
  if (info.pid == 0) return;
  auto [it, added] = threads.try_emplace(info.pid);
  ThreadInfo& main = it->second;
  if (added) {
    main.tid = info.pid;
    main.source = ThreadSource::kProcess;
    main.name = process_name(info);
  }
  if (main.source != ThreadSource::kAgent) main.start_stamp = trace_start_ns;
}

}  // namespace

uint64_t find_sidecar_tid(const ProcessInfo& info, const std::map<uint64_t, ThreadInfo>& threads,
                          const std::vector<PlatformMetrics>& samples) {
  if (info.sidecar_tid != 0) return info.sidecar_tid;
  for (const PlatformMetrics& m : samples)
    for (const ThreadResourceMetrics& t : m.threads)
      if (t.thread_name == "memscope" && !threads.contains(static_cast<uint64_t>(t.thread_id)))
        return static_cast<uint64_t>(t.thread_id);
  return 0;
}

void complete_thread_table(std::map<uint64_t, ThreadInfo>& threads, const ProcessInfo& info,
                           uint64_t sidecar_tid, uint64_t trace_start_ns,
                           const std::vector<PlatformMetrics>& samples, const ProcessEnd* end) {
  add_sampled(threads, sidecar_tid, samples);
  add_main(threads, info, trace_start_ns);
  if (end == nullptr) return;
  const PlatformMetrics* last = last_thread_listing(samples);
  for (auto& [tid, t] : threads) {
    if (t.end_stamp != 0) continue;
    // Started before the last listing and missing from it: it ended unrecorded, when is unknown.
    if (last && last->timestamp_ns > t.start_stamp && !lists(*last, tid)) continue;
    t.end_stamp = std::max(end->stamp, t.start_stamp);
    t.end_at_process_end = true;
  }
}

}  // namespace memscope::analyzer
