// The agent's private heap (agent/private_heap.hpp): every size gets a block of its own that
// holds it, aligned requests are aligned, freed blocks are reused (a small region survives far
// more than its size in allocations), also through a thread's cache, calloc's blocks are zero
// even when reused, threads that free each other's blocks never get one twice, a fork child
// allocates whatever the parent's threads were doing, threads taking a fresh slab's blocks at
// once never get one twice, only the heap's own blocks are its own, and a wiped heap's fork
// child sees zeros and starts afresh.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "agent/private_heap.hpp"

using memscope::agent::PrivateHeap;

namespace {

constexpr size_t kRegion = size_t{256} << 20;

bool all_bytes(const void* p, size_t n, unsigned char value) {
  const auto* b = static_cast<const unsigned char*>(p);
  return std::all_of(b, b + n, [&](unsigned char c) { return c == value; });
}

std::vector<size_t> probe_sizes() {
  std::vector<size_t> sizes = {0,     1,     15,     16,     17,     100,
                               128,   129,   1000,   4096,   32767,  32768,
                               32769, 65536, 100000, 262144, 262145, size_t{5} << 20};
  for (size_t s = 1; s <= 2048; s += 7) sizes.push_back(s);
  return sizes;
}

}  // namespace

TEST_CASE("every size gets a block of its own that holds it") {
  PrivateHeap heap(kRegion);
  REQUIRE(heap.usable());
  std::vector<std::pair<uintptr_t, size_t>> blocks;
  for (size_t size : probe_sizes()) {
    void* p = heap.allocate(size);
    REQUIRE(p != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(p) % 16 == 0);
    CHECK(heap.owns(p));
    CHECK(heap.usable_size(p) >= size);
    std::memset(p, 0x5a, size);
    blocks.emplace_back(reinterpret_cast<uintptr_t>(p), heap.usable_size(p));
  }
  std::sort(blocks.begin(), blocks.end());
  for (size_t i = 1; i < blocks.size(); ++i)
    CHECK(blocks[i - 1].first + blocks[i - 1].second <= blocks[i].first);
}

TEST_CASE("aligned requests are aligned, up to a run's own size") {
  PrivateHeap heap(kRegion);
  for (size_t alignment = 16; alignment <= (size_t{1} << 20); alignment *= 2) {
    for (size_t size : {size_t{1}, alignment / 2, alignment, alignment + 1, size_t{70000}}) {
      void* p = heap.allocate_aligned(alignment, size);
      REQUIRE(p != nullptr);
      CHECK(reinterpret_cast<uintptr_t>(p) % alignment == 0);
      CHECK(heap.usable_size(p) >= size);
      std::memset(p, 1, size);
    }
  }
}

TEST_CASE("freed blocks are reused: a 64 MiB region serves 4 GiB of allocations") {
  PrivateHeap heap(size_t{64} << 20);
  void* first = heap.allocate(48);
  heap.release(first);
  CHECK(heap.allocate(48) == first);  // the free list is a stack
  void* big = heap.allocate(size_t{3} << 20);
  heap.release(big);
  CHECK(heap.allocate(size_t{3} << 20) == big);
  heap.release(big);
  for (int round = 0; round < 1000; ++round) {
    std::vector<void*> held;
    for (size_t size = 8; size <= (size_t{2} << 20); size *= 2) {
      void* p = heap.allocate(size);
      REQUIRE(p != nullptr);
      std::memset(p, round & 0xff, std::min<size_t>(size, 4096));
      held.push_back(p);
    }
    for (void* p : held) heap.release(p);
  }
}

TEST_CASE("a thread's cache reuses its blocks and passes on what exceeds 256 KiB a class") {
  PrivateHeap heap(kRegion);
  static PrivateHeap::LocalCache cache;
  void* p = heap.allocate(48, cache);
  heap.release(p, cache);
  CHECK(heap.allocate(48, cache) == p);
  heap.release(p);  // the shared lists take a cached thread's block, and the other way round
  void* shared = heap.allocate(48);
  CHECK(shared == p);
  std::vector<void*> blocks;
  for (int i = 0; i < 6000; ++i) blocks.push_back(heap.allocate(48));
  for (void* b : blocks) heap.release(b, cache);  // 5,461 blocks of 48 bytes fill the cache
  CHECK(heap.allocate(48) == blocks.back());      // the rest went to the shared list
  for (int i = 0; i < 5461; ++i) CHECK(heap.allocate(48, cache) == blocks[5460 - i]);
  void* big = heap.allocate(size_t{1} << 20, cache);
  heap.release(big, cache);  // never cached: it goes back to the kernel
  CHECK(heap.allocate(size_t{1} << 20) == big);
  CHECK(all_bytes(big, size_t{1} << 20, 0));
}

TEST_CASE("reallocate keeps the contents, in place while the block still fits") {
  PrivateHeap heap(kRegion);
  auto* p = static_cast<unsigned char*>(heap.allocate(100));
  for (int i = 0; i < 100; ++i) p[i] = static_cast<unsigned char>(i);
  CHECK(heap.reallocate(p, 110) == p);  // the 112-byte class
  auto* q = static_cast<unsigned char*>(heap.reallocate(p, 100000));
  REQUIRE(q != nullptr);
  for (int i = 0; i < 100; ++i) CHECK(q[i] == i);
  auto* r = static_cast<unsigned char*>(heap.reallocate(q, 10));
  REQUIRE(r != nullptr);
  CHECK(r != q);  // a 100,000-byte run is not kept for 10 bytes
  for (int i = 0; i < 10; ++i) CHECK(r[i] == i);
}

TEST_CASE("zeroed blocks are zero, fresh or reused") {
  PrivateHeap heap(kRegion);
  for (size_t size : {size_t{24}, size_t{3000}, size_t{40000}, size_t{1} << 20}) {
    void* dirty = heap.allocate(size);
    std::memset(dirty, 0xab, size);
    heap.release(dirty);
    void* p = heap.allocate_zeroed(1, size);
    CHECK(p == dirty);
    CHECK(all_bytes(p, size, 0));
    void* fresh = heap.allocate_zeroed(size, 1);
    CHECK(all_bytes(fresh, size, 0));
  }
  errno = 0;
  CHECK(heap.allocate_zeroed(SIZE_MAX / 2, 3) == nullptr);
  CHECK(errno == ENOMEM);
}

TEST_CASE("a full region says so; ownership is exact") {
  PrivateHeap heap(size_t{64} << 20);
  errno = 0;
  CHECK(heap.allocate(size_t{64} << 20) == nullptr);
  CHECK(errno == ENOMEM);
  CHECK(heap.allocate(size_t{1} << 40) == nullptr);
  void* ours = heap.allocate(32);
  CHECK(heap.owns(ours));
  void* theirs = std::malloc(32);
  int on_stack = 0;
  CHECK_FALSE(heap.owns(theirs));
  CHECK_FALSE(heap.owns(&on_stack));
  CHECK_FALSE(heap.owns(nullptr));
  std::free(theirs);
  PrivateHeap untouched(kRegion);
  CHECK_FALSE(untouched.owns(ours));  // nothing reserved before the first use
}

TEST_CASE("threads that free each other's blocks never share one") {
  PrivateHeap heap(kRegion);
  constexpr int kThreads = 4;
  constexpr int kRounds = 20000;
  std::atomic<void*> mailbox[kThreads] = {};
  std::atomic<int> shared{0};
  // A block holds its size, then its owner's byte: two owners at once would mix them.
  auto check_and_release = [&](void* p) {
    size_t size;
    std::memcpy(&size, p, sizeof size);
    auto* body = static_cast<unsigned char*>(p) + sizeof size;
    if (!all_bytes(body, size - sizeof size, body[0])) ++shared;
    heap.release(p);
  };
  auto work = [&](int me) {
    for (int i = 0; i < kRounds; ++i) {
      size_t size = 16 + static_cast<size_t>((i * 37 + me * 11) % 600);
      auto* p = static_cast<unsigned char*>(heap.allocate(size));
      std::memcpy(p, &size, sizeof size);
      std::memset(p + sizeof size, me + 1, size - sizeof size);
      // Leaves it for the previous thread and takes what the next one left.
      if (void* mine = mailbox[me].exchange(p)) check_and_release(mine);
      if (void* other = mailbox[(me + 1) % kThreads].exchange(nullptr)) check_and_release(other);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(work, t);
  for (auto& t : threads) t.join();
  for (auto& m : mailbox)
    if (void* p = m.load()) check_and_release(p);
  CHECK(shared.load() == 0);
}

// A fresh slab's blocks are handed out one at a time (PrivateHeap::take_fresh): threads taking
// them at once across many slabs of one class must each get blocks of their own, and
// allocate_zeroed's zero.
TEST_CASE("threads taking fresh blocks of one class at once never share one") {
  PrivateHeap heap(kRegion);
  constexpr int kThreads = 4;
  constexpr int kBlocks = 20000;  // 48-byte blocks: about 15 slabs per thread
  std::vector<std::vector<uintptr_t>> got(kThreads);
  std::atomic<int> not_zero{0};
  auto work = [&](int me) {
    for (int i = 0; i < kBlocks; ++i) {
      // allocate's blocks may hold a free list's link (a slab linked at once when another
      // thread's fresh slab was still in use); allocate_zeroed's must be zero, fresh or not.
      bool zeroed = i % 2 != 0;
      void* p = zeroed ? heap.allocate_zeroed(1, 48) : heap.allocate(48);
      if (p == nullptr || (zeroed && !all_bytes(p, 48, 0))) ++not_zero;
      if (p != nullptr) std::memset(p, me + 1, 48);
      got[me].push_back(reinterpret_cast<uintptr_t>(p));
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(work, t);
  for (auto& t : threads) t.join();
  std::vector<uintptr_t> all;
  for (const auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  CHECK(not_zero.load() == 0);
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  for (size_t i = 1; i < all.size(); ++i) REQUIRE(all[i] - all[i - 1] >= 48);
  CHECK(heap.owns(reinterpret_cast<void*>(all.front())));
  CHECK(heap.owns(reinterpret_cast<void*>(all.back())));
}

TEST_CASE("a fork child allocates whatever the parent's threads were doing") {
  PrivateHeap heap(kRegion);
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    while (!stop.load()) heap.release(heap.allocate(200));
  });
  for (int i = 0; i < 20; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      for (int j = 0; j < 1000; ++j) heap.release(heap.allocate(200 + static_cast<size_t>(j)));
      _exit(heap.allocate(200) != nullptr ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  stop.store(true);
  churn.join();
}

TEST_CASE("a wiped heap's blocks read as zeros in a fork child, which starts that heap afresh") {
  PrivateHeap heap(kRegion, PrivateHeap::ForkCopy::kWiped);
  PrivateHeap shared(kRegion);
  std::vector<unsigned char*> blocks;
  for (size_t size : {size_t{100}, size_t{5000}, size_t{128} << 10}) {
    auto* p = static_cast<unsigned char*>(heap.allocate(size));
    REQUIRE(p != nullptr);
    std::memset(p, 7, size);
    blocks.push_back(p);
  }
  heap.release(heap.allocate(100));  // a free list the child must not follow
  auto* kept = static_cast<unsigned char*>(shared.allocate(5000));
  std::memset(kept, 7, 5000);
  pid_t pid = fork();
  if (pid == 0) {
    bool zeros = all_bytes(blocks[0], 100, 0) && all_bytes(blocks[1], 5000, 0) &&
                 all_bytes(blocks[2], size_t{128} << 10, 0) && all_bytes(kept, 5000, 7);
    heap.forget_after_fork();
    std::vector<void*> fresh;
    for (int i = 0; i < 1000; ++i) {
      auto* p = static_cast<unsigned char*>(heap.allocate(100 + static_cast<size_t>(i)));
      if (p == nullptr || !all_bytes(p, 100, 0) || heap.usable_size(p) < 100 + size_t(i)) _exit(2);
      std::memset(p, 1, 100);
      fresh.push_back(p);
    }
    for (void* p : fresh) heap.release(p);
    _exit(zeros ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(all_bytes(blocks[0], 100, 7));  // the parent keeps its contents
  CHECK(all_bytes(blocks[2], size_t{128} << 10, 7));
}
