// See sampled_blocks.hpp.
#include "agent/sampled_blocks.hpp"

namespace memscope::agent {

std::atomic<uint32_t> g_sampled_in_group[kSampledGroups];

namespace {

constexpr size_t kBuckets = size_t{1} << kSampledBucketBits;
constexpr size_t kSlotsPerBucket = 7;

struct alignas(64) Bucket {
  std::atomic<uint64_t> slots[kSlotsPerBucket];
  std::atomic<uint64_t> overflowed;  // in the same line: a free reads one line of the table
};
static_assert(sizeof(Bucket) == 64);

Bucket g_buckets[kBuckets];

std::atomic<uint32_t>& group_of(size_t bucket) {
  return g_sampled_in_group[bucket >> kBucketsPerGroupBits];
}

}  // namespace

void add_sampled_block(const void* ptr) {
  uint64_t address = reinterpret_cast<uint64_t>(ptr);
  size_t b = sampled_bucket_of(ptr);
  group_of(b).fetch_add(1, std::memory_order_relaxed);
  for (std::atomic<uint64_t>& slot : g_buckets[b].slots) {
    uint64_t empty = 0;
    if (slot.load(std::memory_order_relaxed) == 0 &&
        slot.compare_exchange_strong(empty, address, std::memory_order_release,
                                     std::memory_order_relaxed))
      return;
  }
  // Not stored: the first overflow keeps its count for good, any later one gives it back.
  if (g_buckets[b].overflowed.exchange(1, std::memory_order_relaxed) != 0)
    group_of(b).fetch_sub(1, std::memory_order_relaxed);
}

bool forget_in_table(const void* ptr, size_t bucket) {
  uint64_t address = reinterpret_cast<uint64_t>(ptr);
  Bucket& b = g_buckets[bucket];
  for (std::atomic<uint64_t>& slot : b.slots) {
    uint64_t expected = address;
    if (slot.load(std::memory_order_relaxed) == address &&
        slot.compare_exchange_strong(expected, 0, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      group_of(bucket).fetch_sub(1, std::memory_order_release);
      return true;
    }
  }
  return b.overflowed.load(std::memory_order_relaxed) != 0;
}

}  // namespace memscope::agent
