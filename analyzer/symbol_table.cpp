// See symbol_table.hpp.
#include "analyzer/symbol_table.hpp"

#include <gelf.h>

#include <algorithm>

namespace memscope::analyzer {
namespace {

// Among symbols at one address, the one a reader expects: global, then weak, then local.
int binding_rank(const GElf_Sym& sym) {
  switch (GELF_ST_BIND(sym.st_info)) {
    case STB_GLOBAL:
      return 0;
    case STB_WEAK:
      return 1;
    default:
      return 2;
  }
}

}  // namespace

SymbolTable::SymbolTable(Dwfl_Module* module) {
  struct Candidate {
    uint64_t address;
    int rank;
    uint64_t size;
    const char* name;
  };
  std::vector<Candidate> found;
  int count = dwfl_module_getsymtab(module);
  for (int i = 1; i < count; ++i) {
    GElf_Sym sym;
    GElf_Addr address = 0;
    GElf_Word section = 0;
    const char* name =
        dwfl_module_getsym_info(module, i, &sym, &address, &section, nullptr, nullptr);
    int type = GELF_ST_TYPE(sym.st_info);
    if (name == nullptr || *name == '\0' || section == SHN_UNDEF || address == 0 ||
        (type != STT_FUNC && type != STT_GNU_IFUNC))
      continue;
    found.push_back({address, binding_rank(sym), sym.st_size, name});
  }
  std::sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
    return a.address != b.address ? a.address < b.address : a.rank < b.rank;
  });
  for (const Candidate& c : found)
    if (symbols_.empty() || symbols_.back().address != c.address)
      symbols_.push_back({c.address, c.size, c.name});
}

const char* SymbolTable::function_at(uint64_t at) const {
  auto after = std::upper_bound(symbols_.begin(), symbols_.end(), at,
                                [](uint64_t a, const Symbol& s) { return a < s.address; });
  if (after == symbols_.begin()) return nullptr;
  const Symbol& s = *(after - 1);
  if (s.size != 0 && at - s.address >= s.size) return nullptr;  // in a gap between functions
  return s.name;
}

}  // namespace memscope::analyzer
