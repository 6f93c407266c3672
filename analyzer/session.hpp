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

enum class Origin { kRoot, kFork, kExec };

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

}  // namespace memscope::analyzer
