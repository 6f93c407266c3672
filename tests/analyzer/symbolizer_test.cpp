// Unit tests of the symbolizer: module choice by address and stamp, the module+offset fallback,
// and resolution of this test binary's own functions from its DWARF.
#include <doctest/doctest.h>
#include <link.h>

#include <cstring>

#include "analyzer/symbolizer.hpp"

using namespace memscope::analyzer;

namespace {

ModuleInfo module(uint64_t stamp, bool loaded, uint64_t base, const char* path) {
  ModuleInfo m;
  m.stamp = stamp;
  m.loaded = loaded;
  m.base = base;
  m.size = 0x1000;
  m.path = path;
  return m;
}

__attribute__((noinline)) void* here() {
  return __builtin_return_address(0);
}

// This executable's load bias and path, as the agent would record them.
int find_self(dl_phdr_info* info, size_t, void* out) {
  auto* m = static_cast<ModuleInfo*>(out);
  if (info->dlpi_name[0] != '\0') return 0;  // the main program has an empty name
  m->base = info->dlpi_addr;
  m->size = UINT64_MAX / 2;
  m->path = "/proc/self/exe";
  return 1;
}

}  // namespace

TEST_CASE("an address maps to the module loaded there at that time") {
  std::vector<ModuleInfo> modules = {module(10, true, 0x1000, "/a.so"),
                                     module(20, false, 0x1000, "/a.so"),
                                     module(30, true, 0x1000, "/b.so")};
  CHECK(module_at(modules, 0x1800, 15)->path == "/a.so");
  CHECK(module_at(modules, 0x1800, 35)->path == "/b.so");
  CHECK(module_at(modules, 0x1800, 5)->path == "/a.so");  // before any record: the next load
  CHECK(module_at(modules, 0x3000, 15) == nullptr);
}

TEST_CASE("an address in no module, or in a module without a file, is kept as an address") {
  Symbolizer s;
  std::vector<ModuleInfo> modules = {module(1, true, 0x1000, "linux-vdso.so.1")};
  std::vector<Frame> none = s.resolve(modules, 0x9000, 1);
  REQUIRE(none.size() == 1);
  CHECK(none[0].function.empty());
  CHECK(frame_fallback_name(none[0]) == "0x9000");
  std::vector<Frame> vdso = s.resolve(modules, 0x1234, 1);
  REQUIRE(vdso.size() == 1);
  CHECK(frame_fallback_name(vdso[0]) == "linux-vdso.so.1+0x234");
}

TEST_CASE("this binary's own return address resolves to its function, file and line") {
  ModuleInfo self;
  dl_iterate_phdr(find_self, &self);
  auto pc = reinterpret_cast<uint64_t>(here());
  Symbolizer s;
  std::vector<Frame> frames = s.resolve({self}, pc, 0);
  REQUIRE(!frames.empty());
  CHECK(frames.back().function.find("DOCTEST_ANON_FUNC") != std::string::npos);
  CHECK(frames.back().file.ends_with("symbolizer_test.cpp"));
  CHECK(frames.back().line > 0);
  s.resolve({self}, pc, 0);
  CHECK(s.distinct_addresses() == 1);  // the second lookup came from the cache
  Symbolizer off(false);
  CHECK(off.resolve({self}, pc, 0).back().function.empty());
}

TEST_CASE("C++ names are demangled") {
  CHECK(demangle("_Z3fooi") == "foo(int)");
  CHECK(demangle("main") == "main");
}
