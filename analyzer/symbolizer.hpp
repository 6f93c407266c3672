// Offline symbolization of recorded return addresses with elfutils' libdwfl: the trace's module
// map says which file (path, load bias, build-id) held an address; DWARF gives function, file,
// line and inlined frames (separate debug files found by build-id under /usr/lib/debug); the
// symbol table names what has no DWARF; anything else stays `module+0xoffset`, never dropped.
// Each distinct address of each module file is resolved once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analyzer/trace_reader.hpp"

namespace memscope::analyzer {

struct Frame {
  std::string function;  // demangled; empty when unknown
  std::string file;      // source file; empty when unknown
  uint32_t line = 0;     // 0 when unknown
  std::string module;    // path of the module; empty when the address is in no known module
  uint64_t address = 0;  // the address as recorded (a return address)
  uint64_t offset = 0;   // address minus the module's load bias (the file's virtual address)
  bool inlined = false;  // inlined into the frame that follows it
};

// One module file as the trace named it; resolves file addresses to frames.
class ModuleFile;

class Symbolizer {
 public:
  explicit Symbolizer(bool enabled = true);
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // The frames for return address `pc` of a process with module map `modules`, at `stamp`
  // (which picks among modules loaded at the same address at different times): innermost
  // inlined frame first, the frame of the real function last. Never empty.
  std::vector<Frame> resolve(const std::vector<ModuleInfo>& modules, uint64_t pc, uint64_t stamp);

  // Distinct (module file, address) pairs resolved so far: each was looked up once.
  uint64_t distinct_addresses() const;

 private:
  ModuleFile& file_for(const ModuleInfo& m);

  bool enabled_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<ModuleFile>> files_;
};

// A C++ symbol demangled, or `name` as it is.
std::string demangle(const char* name);

// An address or offset as every report writes it: "0x" and lower-case hex digits.
std::string hex_text(uint64_t value);

// `module+0xoffset` for a frame without a function name, or `0xaddress` without a module.
std::string frame_fallback_name(const Frame& f);

// The module map entry that held `pc` at `stamp`, or null.
const ModuleInfo* module_at(const std::vector<ModuleInfo>& modules, uint64_t pc, uint64_t stamp);

}  // namespace memscope::analyzer
