// The agent's own allocator (agent_memory.cpp serves every agent allocation from one). Its
// memory comes from a single anonymous mapping reserved PROT_NONE and MAP_NORESERVE on first use
// and made writable as it fills, so nothing is loaded at run time, nothing comes from the
// program's heap or brk, and "is this block ours" is a range check.
//
// Blocks are carved by size class: 40 classes up to 32 KiB in 64 KiB slabs, then one power of
// two per class, each block its own run aligned to its size. A byte per 64 KiB of the region
// (its first pages) names the class of the slab or run that starts there, so blocks carry no
// header. Each class keeps a free list: a stack of 32-bit block offsets with a 32-bit tag,
// changed by compare-and-swap only, and the blocks of its newest slab not yet handed out (taken
// one at a time, so a slab's pages are touched as they are needed). No operation takes a lock or
// waits for another thread, so a signal handler may allocate, and a fork child (one thread,
// whatever the others were doing) finds every list consistent: a thread caught between its
// compare-and-swaps loses at most the slab it was carving. Freed runs of 256 KiB and more go back
// to the kernel (MADV_DONTNEED). A thread that no signal handler can interrupt (the sidecar blocks
// every signal) may keep a LocalCache as well: plain stacks without compare-and-swap, up to 256 KiB
// per class, the rest going to the shared lists; a fork child forgets the cache its parent's thread
// left.
// A heap made ForkCopy::kWiped holds what a fork child never reads (agent_memory.hpp's
// ScopedUnshared): its whole region reads as zeros in the child.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace memscope::agent {

class PrivateHeap {
  static constexpr unsigned kClasses = 61;  // 40 slab classes, then 64 KiB ... 64 GiB

 public:
  // One thread's free blocks, never touched by another thread or a signal handler.
  struct LocalCache {
    uint32_t head[kClasses] = {};  // block offsets, as in the shared lists
    uint32_t count[kClasses] = {};
  };

  // 64 GiB of address space: block offsets in 16-byte units then fit the lists' 32 bits.
  static constexpr size_t kMaxRegionBytes = size_t{64} << 30;

  // How a fork child sees the region: as the parent left it (a copy, shared until written), or
  // as zeros (MADV_WIPEONFORK: the parent then writes its blocks after a fork without a
  // copy-on-write fault per page); such a child must call forget_after_fork() before allocating.
  enum class ForkCopy { kShared, kWiped };

  // Reserves at most `region_bytes` (a power of two), less under a finite RLIMIT_AS.
  explicit constexpr PrivateHeap(size_t region_bytes = kMaxRegionBytes,
                                 ForkCopy fork_copy = ForkCopy::kShared)
      : wanted_bytes_(region_bytes), fork_copy_(fork_copy) {}
  PrivateHeap(const PrivateHeap&) = delete;
  PrivateHeap& operator=(const PrivateHeap&) = delete;

  // Reserves the region if nobody has yet; false when it cannot be reserved at all.
  bool usable();
  bool owns(const void* p) const;

  // Null when the region is full (or unusable). Blocks are 16-byte aligned.
  void* allocate(size_t size);
  void* allocate_zeroed(size_t count, size_t size);
  void* allocate_aligned(size_t alignment, size_t size);
  // Only for blocks this heap owns.
  void* reallocate(void* p, size_t size);
  void release(void* p);
  // The same for the one thread that owns `cache`; either release may take either's blocks.
  void* allocate(size_t size, LocalCache& cache);
  void release(void* p, LocalCache& cache);
  size_t usable_size(const void* p) const;
  // In a fork child of a kWiped heap, first thing: every block reads as zeros, the heap starts
  // afresh in the same region (its free lists held the parent's blocks).
  void forget_after_fork();

 private:
  struct Region {
    uintptr_t base = 0;
    size_t bytes = 0;
    size_t table_bytes = 0;  // the class table at the start of the region
  };

  Region region() const;
  bool reserve();
  void* pop(unsigned cls, const Region& r);
  void push_chain(unsigned cls, const Region& r, char* first, char* last);
  void* take_fresh(unsigned cls, const Region& r);
  void* carve(unsigned cls, const Region& r);
  bool commit_up_to(const Region& r, uint64_t end);
  int class_of(const Region& r, const void* p) const;

  size_t wanted_bytes_;
  ForkCopy fork_copy_;
  // base | log2(bytes): the region is 64 KiB aligned, so its size fits the low bits; 1 when
  // no region could be reserved.
  std::atomic<uintptr_t> region_word_{0};
  // Offsets from the end of the class table: carved so far, writable so far.
  std::atomic<uint64_t> cursor_{0};
  std::atomic<uint64_t> committed_{0};
  std::atomic<uint64_t> heads_[kClasses] = {};
  // Per slab class, the newest slab's blocks never handed out: the next one's offset (in 16-byte
  // units from the base) in the high half, the last one's in the low half; 0 when none is left.
  std::atomic<uint64_t> fresh_[kClasses] = {};
};

}  // namespace memscope::agent
