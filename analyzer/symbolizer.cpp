// See symbolizer.hpp.
#include "analyzer/symbolizer.hpp"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <unordered_map>

#include "analyzer/symbol_table.hpp"

namespace memscope::analyzer {

std::string demangle(const char* name) {
  if (name == nullptr) return {};
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return name;
  std::string result = out;
  std::free(out);
  return result;
}

namespace {

std::string hex(const std::string& bytes) {
  std::string out;
  char buf[3];
  for (unsigned char c : bytes) {
    std::snprintf(buf, sizeof(buf), "%02x", c);
    out += buf;
  }
  return out;
}

// The function name of a subprogram or inlined-subroutine DIE: the demangled linkage name
// (qualified, with parameters) when there is one, else DW_AT_name. Both follow abstract origins
// and specifications, where inlined instances and out-of-class definitions keep their names.
std::string die_function_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  for (int name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name})
    if (dwarf_attr_integrate(die, name, &attr) != nullptr)
      if (const char* s = dwarf_formstring(&attr)) return demangle(s);
  if (dwarf_attr_integrate(die, DW_AT_name, &attr) != nullptr)
    if (const char* s = dwarf_formstring(&attr)) return s;
  return {};
}

// Where an inlined subroutine was called from: DW_AT_call_file / DW_AT_call_line.
bool call_site(Dwarf_Die* inlined, Dwarf_Die* cu, std::string& file, uint32_t& line) {
  Dwarf_Attribute attr;
  Dwarf_Word file_index = 0, line_number = 0;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &file_index) != 0 ||
      dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &line_number) != 0)
    return false;
  Dwarf_Files* files = nullptr;
  size_t count = 0;
  if (dwarf_getsrcfiles(cu, &files, &count) != 0 || file_index >= count) return false;
  const char* name = dwarf_filesrc(files, file_index, nullptr, nullptr);
  file = name ? name : "";
  line = static_cast<uint32_t>(line_number);
  return true;
}

}  // namespace

class ModuleFile {
 public:
  ModuleFile(std::string path, const std::string& build_id, bool enabled)
      : path_(std::move(path)), build_id_(build_id), enabled_(enabled) {}
  ~ModuleFile() {
    if (dwfl_ != nullptr) dwfl_end(dwfl_);
  }

  // Frames for file address `offset` (a return address: the call is at offset - 1).
  const std::vector<Frame>& resolve(uint64_t offset) {
    auto [it, added] = cache_.try_emplace(offset);
    if (added) it->second = lookup(offset);
    return it->second;
  }
  uint64_t cached() const { return cache_.size(); }

 private:
  std::vector<Frame> lookup(uint64_t offset);
  Dwfl_Module* open();
  Dwfl_Module* report(const std::string& file);
  bool dwarf_frames(Dwfl_Module* m, Dwarf_Addr at, std::vector<Frame>& out);

  std::string path_;
  std::string build_id_;
  bool enabled_;
  bool opened_ = false;
  Dwfl* dwfl_ = nullptr;
  Dwfl_Module* module_ = nullptr;
  std::unique_ptr<SymbolTable> symbols_;  // read on the first frame without DWARF
  std::unordered_map<uint64_t, std::vector<Frame>> cache_;
};

Dwfl_Module* ModuleFile::report(const std::string& file) {
  static char* debuginfo_path = nullptr;  // dwfl's default: .debug dirs and /usr/lib/debug
  static const Dwfl_Callbacks callbacks = {dwfl_build_id_find_elf, dwfl_standard_find_debuginfo,
                                           dwfl_offline_section_address, &debuginfo_path};
  if (dwfl_ != nullptr) dwfl_end(dwfl_);
  symbols_.reset();  // its names belong to the module being replaced
  dwfl_ = dwfl_begin(&callbacks);
  if (dwfl_ == nullptr) return nullptr;
  // Reported at bias 0: addresses are then the file's own virtual addresses, whatever the
  // load address was, so one module file serves every process and every load of it.
  Dwfl_Module* m = dwfl_report_elf(dwfl_, path_.c_str(), file.c_str(), -1, 0, false);
  dwfl_report_end(dwfl_, nullptr, nullptr);
  return m;
}

// The file at the recorded path must be the one that was loaded: a rebuilt or upgraded file
// (another build-id) would name the wrong functions, so its debug file is tried instead.
Dwfl_Module* ModuleFile::open() {
  if (opened_) return module_;
  opened_ = true;
  if (!enabled_ || path_.empty() || path_.front() != '/') return nullptr;
  std::error_code ec;
  if (std::filesystem::exists(path_, ec)) module_ = report(path_);
  if (module_ == nullptr || build_id_.empty()) return module_;
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  int n = dwfl_module_build_id(module_, &bits, &vaddr);
  if (n > 0 &&
      std::string(reinterpret_cast<const char*>(bits), static_cast<size_t>(n)) == build_id_)
    return module_;
  std::string id = hex(build_id_);
  std::string debug = "/usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
  module_ = std::filesystem::exists(debug, ec) ? report(debug) : nullptr;
  return module_;
}

// The innermost function scope at `at` (a subprogram, or an inlined subroutine within one).
bool innermost_function(Dwarf_Die* cu, Dwarf_Addr at, Dwarf_Die& out) {
  Dwarf_Die* scopes = nullptr;
  int n = dwarf_getscopes(cu, at, &scopes);
  bool found = false;
  for (int i = 0; i < n && !found; ++i) {
    int tag = dwarf_tag(&scopes[i]);
    if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
      out = scopes[i];
      found = true;
    }
  }
  std::free(scopes);
  return found;
}

// Walks outward from the innermost function scope at `at` through the concrete scopes that hold
// it (dwarf_getscopes would continue into an inlined function's abstract definition instead):
// each inlined subroutine is a frame located at the current line, and its call site becomes the
// location of the next frame; the enclosing subprogram ends the walk. Without a function scope
// the line table's answer is not trusted (it may belong to a neighbouring sequence).
bool ModuleFile::dwarf_frames(Dwfl_Module* m, Dwarf_Addr at, std::vector<Frame>& out) {
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(m, at, &bias);
  Dwarf_Die innermost;
  if (cu == nullptr || !innermost_function(cu, at - bias, innermost)) return false;
  std::string file;
  uint32_t line = 0;
  if (Dwfl_Line* l = dwfl_module_getsrc(m, at)) {
    int lineno = 0;
    const char* name = dwfl_lineinfo(l, nullptr, &lineno, nullptr, nullptr, nullptr);
    file = name ? name : "";
    line = static_cast<uint32_t>(lineno);
  }
  Dwarf_Die* scopes = nullptr;
  int n = dwarf_getscopes_die(&innermost, &scopes);
  for (int i = 0; i < n; ++i) {
    int tag = dwarf_tag(&scopes[i]);
    if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) continue;
    Frame f;
    f.function = die_function_name(&scopes[i]);
    f.file = file;
    f.line = line;
    f.inlined = tag == DW_TAG_inlined_subroutine;
    out.push_back(std::move(f));
    if (!out.back().inlined || !call_site(&scopes[i], cu, file, line)) break;
  }
  std::free(scopes);
  return !out.empty();
}

std::vector<Frame> ModuleFile::lookup(uint64_t offset) {
  std::vector<Frame> frames;
  Dwfl_Module* m = open();
  Dwarf_Addr at = offset > 0 ? offset - 1 : 0;
  if (m != nullptr) dwarf_frames(m, at, frames);
  if (frames.empty()) frames.emplace_back();
  Frame& outer = frames.back();
  if (m != nullptr && outer.function.empty()) {
    // No DWARF (stripped, or no debug file): the symbol table, .dynsym at least.
    if (!symbols_) symbols_ = std::make_unique<SymbolTable>(m);
    if (const char* name = symbols_->function_at(at)) outer.function = demangle(name);
  }
  for (Frame& f : frames) {
    f.module = path_;
    f.offset = offset;
  }
  return frames;
}

Symbolizer::Symbolizer(bool enabled) : enabled_(enabled) {}

Symbolizer::~Symbolizer() = default;

ModuleFile& Symbolizer::file_for(const ModuleInfo& m) {
  auto& slot = files_[{m.path, m.build_id}];
  if (!slot) slot = std::make_unique<ModuleFile>(m.path, m.build_id, enabled_);
  return *slot;
}

std::vector<Frame> Symbolizer::resolve(const std::vector<ModuleInfo>& modules, uint64_t pc,
                                       uint64_t stamp) {
  const ModuleInfo* m = module_at(modules, pc, stamp);
  std::vector<Frame> frames;
  if (m == nullptr) {
    frames.emplace_back();
  } else {
    frames = file_for(*m).resolve(pc - m->base);
  }
  for (Frame& f : frames) f.address = pc;
  return frames;
}

uint64_t Symbolizer::distinct_addresses() const {
  uint64_t n = 0;
  for (const auto& [key, file] : files_) n += file->cached();
  return n;
}

std::string hex_text(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

std::string frame_fallback_name(const Frame& f) {
  if (f.module.empty()) return hex_text(f.address);
  return std::filesystem::path(f.module).filename().string() + "+" + hex_text(f.offset);
}

// A module is live from its load record to the first later unload record of the same path at the
// same base. The sidecar notices a dlopen only at its next cycle, so an address no live module
// holds at `stamp` goes to the first module loaded there afterwards, else the latest one.
const ModuleInfo* module_at(const std::vector<ModuleInfo>& modules, uint64_t pc, uint64_t stamp) {
  const ModuleInfo* later = nullptr;
  const ModuleInfo* latest = nullptr;
  for (size_t i = 0; i < modules.size(); ++i) {
    const ModuleInfo& m = modules[i];
    if (!m.loaded || pc < m.base || pc - m.base >= m.size) continue;
    uint64_t unloaded = UINT64_MAX;
    for (size_t j = i + 1; j < modules.size() && unloaded == UINT64_MAX; ++j)
      if (!modules[j].loaded && modules[j].base == m.base && modules[j].path == m.path)
        unloaded = modules[j].stamp;
    if (m.stamp <= stamp && stamp < unloaded) return &m;
    if (m.stamp > stamp && (later == nullptr || m.stamp < later->stamp)) later = &m;
    latest = &m;
  }
  return later != nullptr ? later : latest;
}

}  // namespace memscope::analyzer
