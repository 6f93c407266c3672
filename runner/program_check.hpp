// Checks, before running it, that a program can be traced at all: it exists and is executable,
// it is built for the agent's ELF class and machine (no 32-bit program for a 64-bit agent), it is
// dynamically linked (LD_PRELOAD cannot reach a static binary) and the loader will honour
// LD_PRELOAD for it (not for setuid/setgid binaries run by another user).
#pragma once

#include <optional>
#include <string>

namespace memscope::runner {

struct ResolvedProgram {
  std::string path;
};

// Finds `name` the way execvp does. On failure, `error` says what to do.
std::optional<ResolvedProgram> resolve_program(const std::string& name, std::string& error,
                                               int& exit_status);
// Empty when traceable; otherwise a message explaining why not and what to do.
std::string traceability_problem(const std::string& path);

}  // namespace memscope::runner
