// See private_heap.hpp. Only system calls that are async-signal-safe (mmap, munmap, mprotect,
// madvise, getrlimit) and atomics: this file calls nothing that could allocate or lock.
#include "agent/private_heap.hpp"

#include <sys/mman.h>
#include <sys/resource.h>

#include <bit>
#include <cerrno>
#include <cstring>

namespace memscope::agent {
namespace {

constexpr unsigned kSlabShift = 16;
constexpr size_t kSlabBytes = size_t{1} << kSlabShift;  // small classes' slab; class table unit
constexpr size_t kSmallMax = 32 << 10;
constexpr unsigned kSmallClasses = 40;        // 16..128 by 16, then 4 per doubling
constexpr size_t kPurgeFrom = 256 << 10;      // freed blocks this large go back to the kernel
constexpr uint64_t kCommitStep = 4 << 20;     // made writable this much at a time
constexpr size_t kMinRegionBytes = 64 << 20;  // below this, the agent falls back (agent_memory)
constexpr uintptr_t kUnusable = 1;
constexpr uintptr_t kLogMask = kSlabBytes - 1;

uintptr_t align_up(uintptr_t v, uintptr_t to) {
  return (v + to - 1) & ~(to - 1);
}

unsigned class_for(size_t n) {
  if (n <= 128) return n == 0 ? 0 : static_cast<unsigned>((n + 15) / 16 - 1);
  if (n <= kSmallMax) {
    unsigned k = 63 - static_cast<unsigned>(__builtin_clzll(n - 1));  // 2^k < n <= 2^(k+1)
    size_t step = size_t{1} << (k - 2);
    auto quarter = static_cast<unsigned>((n - (size_t{1} << k) + step - 1) / step);  // 1..4
    return 8 + (k - 7) * 4 + quarter - 1;
  }
  if (n > PrivateHeap::kMaxRegionBytes) return ~0u;
  return kSmallClasses + (std::bit_width(n - 1) - kSlabShift);
}

size_t class_size(unsigned cls) {
  if (cls < 8) return 16 * (cls + 1);
  if (cls < kSmallClasses) {
    unsigned k = 7 + (cls - 8) / 4;
    return (size_t{1} << k) + ((cls - 8) % 4 + 1) * (size_t{1} << (k - 2));
  }
  return size_t{1} << (kSlabShift + cls - kSmallClasses);
}

bool purged_class(unsigned cls) {
  return class_size(cls) >= kPurgeFrom;
}

// A free block's first word: the next block's offset from the region base in 16-byte units.
// Another thread may be writing a block this reads (it popped the block first): the read value
// is then never used, since that thread's compare-and-swap changed the list's tag. Hidden from
// TSan for that reason; the compare-and-swaps that order real hand-overs stay visible to it.
__attribute__((no_sanitize("thread"), noinline)) uint32_t load_next(const void* block) {
  return __atomic_load_n(static_cast<const uint32_t*>(block), __ATOMIC_RELAXED);
}

void store_next(void* block, uint32_t next) {
  __atomic_store_n(static_cast<uint32_t*>(block), next, __ATOMIC_RELAXED);
}

uint64_t with_new_tag(uint64_t head, uint32_t offset) {
  return (((head >> 32) + 1) << 32) | offset;
}

// Rounds down to a power of two and below an eighth of a finite address-space limit, which the
// reservation counts against although it uses no memory.
size_t region_size(size_t wanted) {
  size_t bytes = std::bit_floor(wanted);
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    while (bytes > limit.rlim_cur / 8 && bytes > kMinRegionBytes) bytes /= 2;
  return bytes;
}

// A region of `bytes` aligned to a slab, its class table writable; 0 when the kernel refuses.
// Wiped: one mapping that a fork child gets as zeros (the kernel refusing, no region).
uintptr_t map_region(size_t bytes, bool wiped) {
  void* m = mmap(nullptr, bytes + kSlabBytes, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return 0;
  auto start = reinterpret_cast<uintptr_t>(m);
  uintptr_t base = align_up(start, kSlabBytes);
  if (base > start) munmap(m, base - start);
  munmap(reinterpret_cast<void*>(base + bytes), start + kSlabBytes - base);
  if (wiped && madvise(reinterpret_cast<void*>(base), bytes, MADV_WIPEONFORK) != 0) {
    munmap(reinterpret_cast<void*>(base), bytes);
    return 0;
  }
  size_t table = align_up(bytes >> kSlabShift, kSlabBytes);
  if (mprotect(reinterpret_cast<void*>(base), table, PROT_READ | PROT_WRITE) == 0) return base;
  munmap(reinterpret_cast<void*>(base), bytes);
  return 0;
}

}  // namespace

PrivateHeap::Region PrivateHeap::region() const {
  uintptr_t word = region_word_.load(std::memory_order_acquire);
  if (word <= kUnusable) return {};
  size_t bytes = size_t{1} << (word & kLogMask);
  return {word & ~kLogMask, bytes, align_up(bytes >> kSlabShift, kSlabBytes)};
}

// Racing threads each map a region; the first to publish its own wins, the others unmap theirs.
bool PrivateHeap::reserve() {
  int saved_errno = errno;
  uintptr_t word = kUnusable;
  for (size_t bytes = region_size(wanted_bytes_); bytes >= kMinRegionBytes; bytes /= 2) {
    uintptr_t base = map_region(bytes, fork_copy_ == ForkCopy::kWiped);
    if (base == 0) continue;
    word = base | static_cast<uintptr_t>(std::countr_zero(bytes));
    break;
  }
  uintptr_t expected = 0;
  if (!region_word_.compare_exchange_strong(expected, word, std::memory_order_acq_rel) &&
      word != kUnusable)
    munmap(reinterpret_cast<void*>(word & ~kLogMask), size_t{1} << (word & kLogMask));
  errno = saved_errno;
  return region_word_.load(std::memory_order_acquire) != kUnusable;
}

bool PrivateHeap::usable() {
  uintptr_t word = region_word_.load(std::memory_order_acquire);
  if (word == 0) return reserve();
  return word != kUnusable;
}

// The region, the class table and what was made writable stay; everything in them reads as
// zeros, as fresh memory does, so carving starts again at the start.
void PrivateHeap::forget_after_fork() {
  cursor_.store(0, std::memory_order_relaxed);
  for (auto& head : heads_) head.store(0, std::memory_order_relaxed);
  for (auto& fresh : fresh_) fresh.store(0, std::memory_order_relaxed);
}

bool PrivateHeap::owns(const void* p) const {
  Region r = region();
  return reinterpret_cast<uintptr_t>(p) - r.base < r.bytes;
}

int PrivateHeap::class_of(const Region& r, const void* p) const {
  uintptr_t offset = reinterpret_cast<uintptr_t>(p) - r.base;
  if (offset >= r.bytes) return -1;
  auto* table = reinterpret_cast<const uint8_t*>(r.base);
  return __atomic_load_n(table + (offset >> kSlabShift), __ATOMIC_RELAXED) - 1;
}

size_t PrivateHeap::usable_size(const void* p) const {
  int cls = class_of(region(), p);
  return cls < 0 ? 0 : class_size(static_cast<unsigned>(cls));
}

void* PrivateHeap::pop(unsigned cls, const Region& r) {
  uint64_t head = heads_[cls].load(std::memory_order_acquire);
  while (static_cast<uint32_t>(head) != 0) {
    auto* block = reinterpret_cast<char*>(r.base + (uint64_t{static_cast<uint32_t>(head)} << 4));
    uint64_t next = with_new_tag(head, load_next(block));
    if (heads_[cls].compare_exchange_weak(head, next, std::memory_order_acquire)) return block;
  }
  return nullptr;
}

// `first` .. `last` are already linked to each other.
void PrivateHeap::push_chain(unsigned cls, const Region& r, char* first, char* last) {
  auto offset = static_cast<uint32_t>((reinterpret_cast<uintptr_t>(first) - r.base) >> 4);
  uint64_t head = heads_[cls].load(std::memory_order_relaxed);
  uint64_t next;
  do {
    store_next(last, static_cast<uint32_t>(head));
    next = with_new_tag(head, offset);
  } while (!heads_[cls].compare_exchange_weak(head, next, std::memory_order_release,
                                              std::memory_order_relaxed));
}

// Makes the region writable up to `end` (an offset from the table's end). Threads that race
// protect overlapping ranges, which is harmless; `committed_` moves only after the call returned.
bool PrivateHeap::commit_up_to(const Region& r, uint64_t end) {
  uint64_t done = committed_.load(std::memory_order_acquire);
  if (end <= done) return true;
  uint64_t limit = r.bytes - r.table_bytes;
  uint64_t target = align_up(end, kCommitStep) < limit ? align_up(end, kCommitStep) : limit;
  int saved_errno = errno;
  bool ok = mprotect(reinterpret_cast<void*>(r.base + r.table_bytes + done), target - done,
                     PROT_READ | PROT_WRITE) == 0;
  errno = saved_errno;
  if (!ok) return false;
  while (done < target && !committed_.compare_exchange_weak(done, target, std::memory_order_release,
                                                            std::memory_order_acquire)) {
  }
  return true;
}

// The next untouched block of the class's newest slab; null when it has none left. A slab's
// (next, last) pair only grows and no slab is carved twice, so a value never comes back: the
// compare-and-swap needs no tag.
void* PrivateHeap::take_fresh(unsigned cls, const Region& r) {
  uint64_t fresh = fresh_[cls].load(std::memory_order_acquire);
  uint64_t step = class_size(cls) >> 4;
  while (fresh != 0) {
    uint64_t next = fresh >> 32, last = fresh & 0xffffffffu;
    uint64_t after = next + step > last ? 0 : ((next + step) << 32) | last;
    if (fresh_[cls].compare_exchange_weak(fresh, after, std::memory_order_acquire))
      return reinterpret_cast<void*>(r.base + (next << 4));
  }
  return nullptr;
}

// A fresh slab (returning its first block, the others handed out from fresh_ as they are
// needed) or a fresh run. Address space is never handed back, so fresh memory is zero. Linking
// every block of a slab at once would write to each of its 16 pages: a fork child's sidecar,
// whose first allocations of each size all find a fresh slab, took 16 page faults per size.
void* PrivateHeap::carve(unsigned cls, const Region& r) {
  size_t size = class_size(cls);
  size_t run = cls < kSmallClasses ? kSlabBytes : size;
  uintptr_t data = r.base + r.table_bytes;
  uint64_t limit = r.bytes - r.table_bytes;
  uint64_t cursor = cursor_.load(std::memory_order_relaxed);
  uint64_t start;
  do {
    start = align_up(data + cursor, run) - data;  // runs aligned to their size, in addresses
    if (start + run > limit) return nullptr;
  } while (!cursor_.compare_exchange_weak(cursor, start + run, std::memory_order_relaxed));
  if (!commit_up_to(r, start + run)) return nullptr;
  auto* slab = reinterpret_cast<char*>(data + start);
  auto* table = reinterpret_cast<uint8_t*>(r.base);
  __atomic_store_n(table + ((data + start - r.base) >> kSlabShift), static_cast<uint8_t>(cls + 1),
                   __ATOMIC_RELAXED);
  size_t blocks = run / size;
  if (blocks < 2) return slab;
  char* last = slab + (blocks - 1) * size;
  uint64_t second = (reinterpret_cast<uintptr_t>(slab + size) - r.base) >> 4;
  uint64_t expected = 0;  // another thread's slab may still have blocks: then link ours now
  if (fresh_[cls].compare_exchange_strong(
          expected, (second << 32) | ((reinterpret_cast<uintptr_t>(last) - r.base) >> 4),
          std::memory_order_release, std::memory_order_relaxed))
    return slab;
  for (char* b = slab + size; b < last; b += size)
    store_next(b, static_cast<uint32_t>((reinterpret_cast<uintptr_t>(b + size) - r.base) >> 4));
  push_chain(cls, r, slab + size, last);
  return slab;
}

void* PrivateHeap::allocate(size_t size) {
  unsigned cls = class_for(size);
  if (cls >= kClasses || !usable()) {
    errno = ENOMEM;
    return nullptr;
  }
  Region r = region();
  if (void* p = pop(cls, r)) {
    if (purged_class(cls)) store_next(p, 0);  // the rest is zero since the purge
    return p;
  }
  if (void* p = take_fresh(cls, r)) return p;
  void* p = carve(cls, r);
  if (p == nullptr) errno = ENOMEM;
  return p;
}

// Fresh blocks and purged ones are zero already; a reused small block is cleared.
void* PrivateHeap::allocate_zeroed(size_t count, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(count, size, &total) || class_for(total) >= kClasses || !usable()) {
    errno = ENOMEM;
    return nullptr;
  }
  unsigned cls = class_for(total);
  Region r = region();
  if (void* p = pop(cls, r)) {
    if (purged_class(cls)) {
      store_next(p, 0);
    } else {
      std::memset(p, 0, total);
    }
    return p;
  }
  if (void* p = take_fresh(cls, r)) return p;
  void* p = carve(cls, r);
  if (p == nullptr) errno = ENOMEM;
  return p;
}

// A power-of-two class at least as large as the alignment: its blocks are aligned to their size.
void* PrivateHeap::allocate_aligned(size_t alignment, size_t size) {
  if (alignment <= 16) return allocate(size);
  size_t need = size > alignment ? size : alignment;
  if (need > kMaxRegionBytes) {
    errno = ENOMEM;
    return nullptr;
  }
  return allocate(std::bit_ceil(need));
}

void* PrivateHeap::reallocate(void* p, size_t size) {
  size_t have = usable_size(p);
  if (size <= have && (size >= have / 2 || have == 16)) return p;
  void* fresh = allocate(size);
  if (fresh == nullptr) return nullptr;
  std::memcpy(fresh, p, size < have ? size : have);
  release(p);
  return fresh;
}

void* PrivateHeap::allocate(size_t size, LocalCache& cache) {
  unsigned cls = class_for(size);
  if (cls >= kClasses || cache.head[cls] == 0) return allocate(size);
  Region r = region();
  auto* block = reinterpret_cast<char*>(r.base + (uint64_t{cache.head[cls]} << 4));
  cache.head[cls] = *reinterpret_cast<uint32_t*>(block);
  --cache.count[cls];
  return block;
}

// Purged classes stay out of the cache: their blocks go back to the kernel at once.
void PrivateHeap::release(void* p, LocalCache& cache) {
  Region r = region();
  int cls = class_of(r, p);
  if (cls < 0) return;
  auto c = static_cast<unsigned>(cls);
  if (purged_class(c) || cache.count[c] >= kPurgeFrom / class_size(c)) return release(p);
  *static_cast<uint32_t*>(p) = cache.head[c];
  cache.head[c] = static_cast<uint32_t>((reinterpret_cast<uintptr_t>(p) - r.base) >> 4);
  ++cache.count[c];
}

void PrivateHeap::release(void* p) {
  Region r = region();
  int cls = class_of(r, p);
  if (cls < 0) return;
  auto c = static_cast<unsigned>(cls);
  if (purged_class(c)) {
    int saved_errno = errno;
    madvise(p, class_size(c), MADV_DONTNEED);
    errno = saved_errno;
  }
  push_chain(c, r, static_cast<char*>(p), static_cast<char*>(p));
}

}  // namespace memscope::agent
