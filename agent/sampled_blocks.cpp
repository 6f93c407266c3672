// See sampled_blocks.hpp.
#include "agent/sampled_blocks.hpp"

#include <cstddef>

namespace memscope::agent {
namespace {

constexpr unsigned kBucketBits = 16;
constexpr size_t kBuckets = size_t{1} << kBucketBits;
constexpr size_t kSlotsPerBucket = 8;

struct alignas(64) Bucket {
  std::atomic<uint64_t> slots[kSlotsPerBucket];
};

Bucket g_buckets[kBuckets];
std::atomic<bool> g_overflowed[kBuckets];

size_t bucket_of(uint64_t address) {
  // Blocks are 16-byte aligned: the low bits carry nothing.
  return static_cast<size_t>(((address >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - kBucketBits));
}

}  // namespace

void add_sampled_block(const void* ptr) {
  uint64_t address = reinterpret_cast<uint64_t>(ptr);
  size_t b = bucket_of(address);
  for (std::atomic<uint64_t>& slot : g_buckets[b].slots) {
    uint64_t empty = 0;
    if (slot.load(std::memory_order_relaxed) == 0 &&
        slot.compare_exchange_strong(empty, address, std::memory_order_relaxed))
      return;
  }
  g_overflowed[b].store(true, std::memory_order_relaxed);
}

bool forget_sampled_block(const void* ptr) {
  uint64_t address = reinterpret_cast<uint64_t>(ptr);
  size_t b = bucket_of(address);
  for (std::atomic<uint64_t>& slot : g_buckets[b].slots) {
    uint64_t expected = address;
    if (slot.load(std::memory_order_relaxed) == address &&
        slot.compare_exchange_strong(expected, 0, std::memory_order_relaxed))
      return true;
  }
  return g_overflowed[b].load(std::memory_order_relaxed);
}

}  // namespace memscope::agent
