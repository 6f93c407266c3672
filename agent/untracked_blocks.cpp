// See untracked_blocks.hpp. Only passthrough frees and the frees made inside the runtimes'
// freeres look here, so a linear scan of a small table costs nothing on the program's path.
#include "agent/untracked_blocks.hpp"

#include <atomic>
#include <cstdint>

namespace memscope::agent {
namespace {

constexpr size_t kSlots = 512;
std::atomic<uintptr_t> g_blocks[kSlots];

}  // namespace

void remember_untracked(const void* block) {
  auto address = reinterpret_cast<uintptr_t>(block);
  for (auto& slot : g_blocks) {
    uintptr_t empty = 0;
    if (slot.compare_exchange_strong(empty, address)) return;
  }
}

bool forget_untracked(const void* block) {
  auto address = reinterpret_cast<uintptr_t>(block);
  for (auto& slot : g_blocks) {
    uintptr_t expected = address;
    if (slot.load(std::memory_order_relaxed) == address &&
        slot.compare_exchange_strong(expected, 0))
      return true;
  }
  return false;
}

}  // namespace memscope::agent
