// Whether root may write its traces into an output directory: not when another user can change
// the directory or one above it, since they could then replace, remove or plant trace files
// that root writes and memscope-run reads back.
#pragma once

#include <string>

namespace memscope::runner {

// Empty when memscope-run is not root, or when only root can change `dir` (an existing
// directory) and the path to it; otherwise why not: "it is writable by every user, so ...".
std::string output_dir_problem_for_root(const std::string& dir);

}  // namespace memscope::runner
