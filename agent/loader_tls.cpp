// See loader_tls.hpp.
#include "agent/loader_tls.hpp"

#include <link.h>
#include <sys/auxv.h>

#include <atomic>
#include <cstdint>
#include <cstring>

namespace memscope::agent {
namespace {

constexpr size_t kDtvEntryBytes = 16;  // sizeof(dtv_t) on x86_64
constexpr const char* kOwnModules[] = {"libmemscope_agent.so"};

std::atomic<size_t> g_own_tls_modules{1};  // the agent itself, until counted
std::atomic<uintptr_t> g_loader_begin{0};
std::atomic<uintptr_t> g_loader_end{0};

bool is_own_module(const char* path) {
  if (path == nullptr) return false;
  for (const char* name : kOwnModules)
    if (strstr(path, name) != nullptr) return true;
  return false;
}

struct Scan {
  size_t own_tls = 0;
  uintptr_t loader_base = 0;
  uintptr_t loader_begin = 0;
  uintptr_t loader_end = 0;
};

int scan_module(dl_phdr_info* info, size_t, void* data) {
  auto* scan = static_cast<Scan*>(data);
  if (info->dlpi_tls_modid != 0 && is_own_module(info->dlpi_name)) ++scan->own_tls;
  if (info->dlpi_addr != scan->loader_base) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (scan->loader_begin == 0 || begin < scan->loader_begin) scan->loader_begin = begin;
    if (begin + ph.p_memsz > scan->loader_end) scan->loader_end = begin + ph.p_memsz;
  }
  return 0;
}

}  // namespace

void count_memscope_tls_modules() {
  Scan scan;
  scan.loader_base = getauxval(AT_BASE);
  dl_iterate_phdr(scan_module, &scan);
  g_own_tls_modules.store(scan.own_tls);
  g_loader_begin.store(scan.loader_begin);
  g_loader_end.store(scan.loader_end);
}

size_t program_visible_calloc_bytes(size_t count, size_t size, const void* caller) {
  auto pc = reinterpret_cast<uintptr_t>(caller);
  size_t own = g_own_tls_modules.load(std::memory_order_relaxed);
  bool loader_dtv = size == kDtvEntryBytes &&
                    pc >= g_loader_begin.load(std::memory_order_relaxed) &&
                    pc < g_loader_end.load(std::memory_order_relaxed) && count > own;
  return (loader_dtv ? count - own : count) * size;
}

}  // namespace memscope::agent
