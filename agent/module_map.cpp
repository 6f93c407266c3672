// See module_map.hpp.
#include "agent/module_map.hpp"

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace memscope::agent {
namespace {

std::string executable_path() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string read_build_id(const dl_phdr_info* info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    auto* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const char* name = p + sizeof(ElfW(Nhdr));
      const char* desc = name + ((note->n_namesz + 3) & ~3u);
      if (desc + note->n_descsz > end) break;
      if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0)
        return std::string(desc, note->n_descsz);
      p = desc + ((note->n_descsz + 3) & ~3u);
    }
  }
  return {};
}

int collect(dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::vector<Module>*>(data);
  Module m;
  m.base = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD) m.size = std::max<uint64_t>(m.size, ph.p_vaddr + ph.p_memsz);
  }
  m.path = info->dlpi_name ? info->dlpi_name : "";
  if (m.path.empty() && out->empty()) m.path = executable_path();  // the first entry is the program
  m.build_id = read_build_id(info);
  out->push_back(std::move(m));
  return 0;
}

// The latest walk and the loader generation it saw. Never destroyed: a fork child that exits
// at once runs the static destructors while its sidecar may still be scanning.
struct Walk {
  uint64_t generation = 0;
  std::vector<Module> modules;
};
Walk* g_walk = nullptr;

const std::vector<Module>& walk_at(uint64_t generation) {
  if (g_walk == nullptr) g_walk = new Walk;
  if (g_walk->generation != generation || g_walk->modules.empty()) {
    g_walk->modules.clear();
    dl_iterate_phdr(collect, &g_walk->modules);
    g_walk->generation = generation;
  }
  return g_walk->modules;
}

}  // namespace

void forget_module_walk() {
  g_walk = nullptr;  // the parent's copy, perhaps half written: left as it is
}

ModuleChanges ModuleMap::rescan(uint64_t loader_generation) {
  std::vector<Module> now = walk_at(loader_generation);
  ModuleChanges changes;
  std::map<std::pair<uint64_t, std::string>, Module> current;
  for (auto& m : now) {
    auto key = std::make_pair(m.base, m.path);
    if (!known_.count(key)) changes.loaded.push_back(m);
    current.emplace(key, std::move(m));
  }
  for (auto& [key, m] : known_)
    if (!current.count(key)) changes.unloaded.push_back(m);
  known_ = std::move(current);
  return changes;
}

}  // namespace memscope::agent
