// The loaded modules (path, load address, extent, GNU build-id), so the analyzer can symbolize
// offline. Scanned by the sidecar at start and after every dlopen/dlclose; only changes are
// written to the trace. The latest walk of the loader's list is kept for the process (and for
// its fork children, which copy it): a walk at the same loader generation gives the same list,
// and a fork child's first walk faulted in every module's notes and headers again.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace memscope::agent {

struct Module {
  uint64_t base = 0;  // load bias (dlpi_addr)
  uint64_t size = 0;  // extent of the PT_LOAD segments from the bias
  std::string path;
  std::string build_id;  // raw bytes
};

struct ModuleChanges {
  std::vector<Module> loaded;
  std::vector<Module> unloaded;
};

class ModuleMap {
 public:
  // Rescans the process and returns what changed since the last scan; `loader_generation`
  // counts the loader's loads and unloads (dl_phdr_info's dlpi_adds and dlpi_subs).
  ModuleChanges rescan(uint64_t loader_generation);

 private:
  std::map<std::pair<uint64_t, std::string>, Module> known_;
};

// In a fork child whose parent's sidecar may have been inside a walk when the fork copied it.
void forget_module_walk();

}  // namespace memscope::agent
