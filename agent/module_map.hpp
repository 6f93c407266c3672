// The loaded modules (path, load address, extent, GNU build-id), so the analyzer can symbolize
// offline. Scanned by the sidecar at start and after every dlopen/dlclose; only changes are
// written to the trace.
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
  // Rescans the process and returns what changed since the last scan.
  ModuleChanges rescan();

 private:
  std::map<std::pair<uint64_t, std::string>, Module> known_;
};

}  // namespace memscope::agent
