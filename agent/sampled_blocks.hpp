// The addresses of the live sampled blocks (memscope-run --sample-bytes), so that the free of a
// sampled block is recorded and the free of any other block never reaches the ring. Lock-free:
// a fixed table of buckets, one cache line of eight addresses each, filled and emptied by
// compare-and-swap; no probing past a bucket, so removal needs no tombstones. A bucket that
// ever found no empty slot is marked overflowed, and from then on every free that hashes to it
// is recorded (the analyzer ignores a free it cannot match in a sampled trace): a full bucket
// costs ring records, never a lost free. The table is static (4 MiB of zero pages, touched only
// by a sampled run). A block is added after the real allocation returned and removed before
// the real free is called, so an address handed out again is always gone from the table first.
#pragma once

#include <atomic>
#include <cstdint>

namespace memscope::agent {

void add_sampled_block(const void* ptr);
// True when the block was sampled (now forgotten), or may have been (an overflowed bucket).
bool forget_sampled_block(const void* ptr);

}  // namespace memscope::agent
