// The function symbols of one module, sorted by address for a binary search. The fallback for
// frames without DWARF: libdwfl's own address lookup scans every symbol for every address, which
// took seconds for a stripped cc1plus with a few thousand distinct frames.
#pragma once

#include <elfutils/libdwfl.h>

#include <cstdint>
#include <string>
#include <vector>

namespace memscope::analyzer {

class SymbolTable {
 public:
  // Reads the module's symbol table (.symtab, else .dynsym) once.
  explicit SymbolTable(Dwfl_Module* module);
  // The (mangled) name of the function holding file address `at`; nullptr when none does.
  const char* function_at(uint64_t at) const;

 private:
  struct Symbol {
    uint64_t address;
    uint64_t size;  // 0: unknown, the symbol then reaches to the next one
    const char* name;
  };
  std::vector<Symbol> symbols_;  // by address; one per address, the global one first
};

}  // namespace memscope::analyzer
