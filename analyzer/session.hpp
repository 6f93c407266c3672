// A set of traces analysed together: files and directories expanded, processes linked into
// their tree (fork children to their parent at the fork, exec'd images to the image they
// replaced, spawned programs to their parent), then read parents first so a fork child can
// start from its parent's heap.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "analyzer/process_analysis.hpp"

namespace memscope::analyzer {

// kExec: a new image in the same process; kSpawn: a child started by a fork memscope did not
// follow (vfork, posix_spawn, a raw clone), known by the image it exec'd (gzip under tar).
enum class Origin { kRoot, kFork, kExec, kSpawn };

struct TracedProcess {
  std::unique_ptr<ProcessAnalysis> analysis;
  uint64_t start_ns = 0;
  Origin origin = Origin::kRoot;
  const TracedProcess* parent = nullptr;
};

struct Session {
  std::vector<std::unique_ptr<TracedProcess>> processes;  // in start order
  std::vector<std::string> errors;                        // inputs that could not be read at all
};

// Expands and reads every input. Inputs that are not traces become `errors`, never exceptions.
// `replay_events`: ignore the agent's heap summaries and replay every event (the same figures).
Session analyze(const std::vector<std::string>& inputs, bool replay_events = false);

const char* origin_name(Origin origin);

// The name a process was run by: the last component of its argv[0] (a symlink's own name, such
// as redis-server for /usr/bin/redis-check-rdb, as ps shows it), else its executable's.
std::string process_name(const ProcessInfo& info);

}  // namespace memscope::analyzer
