// The addresses of the live sampled blocks (memscope-run --sample-bytes), so that the free of a
// sampled block is recorded and the free of any other block never reaches the ring. Lock-free:
// a fixed table of buckets, one cache line each (seven addresses and an overflow flag), filled
// and emptied by compare-and-swap; no probing past a bucket, so removal needs no tombstones. A
// bucket that ever found no empty slot is marked overflowed, and from then on every free that
// hashes to it is recorded (the analyzer ignores a free it cannot match in a sampled trace): a
// full bucket costs ring records, never a lost free. The table is static (4 MiB of zero pages,
// touched only by a sampled run). A block is added after the real allocation returned and
// removed before the real free is called, so an address handed out again is always gone from
// the table first.
//
// Most frees are of unsampled blocks while few sampled blocks live, so a free first reads a
// small filter (16 KiB, which stays in cache where the table would not): one counter per group
// of sixteen buckets, the additions to the group minus its removals. A free whose group counts
// zero holds no sampled block, and needs neither the table nor a call. The counter rises before
// an address is stored and falls after one is removed (release and acquire on the slot order
// the two), so it never reads zero while a block of its group is in the table; an overflowed
// bucket keeps one count for good, so its frees still reach the flag.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace memscope::agent {

constexpr unsigned kSampledBucketBits = 16;
constexpr unsigned kBucketsPerGroupBits = 4;
constexpr size_t kSampledGroups = size_t{1} << (kSampledBucketBits - kBucketsPerGroupBits);
extern std::atomic<uint32_t> g_sampled_in_group[kSampledGroups];

inline size_t sampled_bucket_of(const void* ptr) {
  // Blocks are 16-byte aligned: the low bits carry nothing.
  uint64_t address = reinterpret_cast<uint64_t>(ptr);
  return static_cast<size_t>(((address >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - kSampledBucketBits));
}

void add_sampled_block(const void* ptr);
// The table's part of forget_sampled_block, for a block whose group counts one or more.
bool forget_in_table(const void* ptr, size_t bucket);

// True when the block was sampled (now forgotten), or may have been (an overflowed bucket).
inline bool forget_sampled_block(const void* ptr) {
  size_t bucket = sampled_bucket_of(ptr);
  if (g_sampled_in_group[bucket >> kBucketsPerGroupBits].load(std::memory_order_relaxed) == 0)
    return false;
  return forget_in_table(ptr, bucket);
}

}  // namespace memscope::agent
