// bench_alloc_storm: an allocation-heavy multi-threaded workload for measuring profiler overhead.
//
// THREADS threads (default 4) each perform OPS operations (default 2,000,000). Each operation
// replaces one block of a per-thread live set (LIVE slots, default 4096): it frees the old block
// and allocates a new one of a mixed size (70% 16-256 B, 25% 256 B-4 KiB, 5% 4-64 KiB), through
// one of four call sites at call depths 2 to 5 (so a profiler records distinct stacks), and writes
// and hashes a few bytes of it (a little work per allocation). One operation in eight also makes
// a short-lived temporary block. Everything is driven by per-thread fixed-seed generators, so the
// allocation sequence and the checksum printed at the end are the same on every run.
//
// Usage: bench_alloc_storm [THREADS] [OPS_PER_THREAD] [LIVE]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "splitmix_rng.hpp"

namespace {

// A chain of non-inlined frames ending in malloc; Site makes each call site's frames distinct.
template <int Site, int Depth>
[[gnu::noinline]] void* alloc_at(std::size_t n) {
  void* p;
  if constexpr (Depth == 0) {
    p = std::malloc(n);
  } else {
    p = alloc_at<Site, Depth - 1>(n);
  }
  asm volatile("" : : "r"(p) : "memory");  // keeps the frame: no tail call
  return p;
}

template <int Depth>
[[gnu::noinline]] void release_at(void* p) {
  if constexpr (Depth == 0) {
    std::free(p);
  } else {
    release_at<Depth - 1>(p);
  }
  asm volatile("" : : : "memory");
}

std::size_t pick_size(Rng& rng) {
  std::uint64_t r = rng.next();
  unsigned bucket = static_cast<unsigned>(r % 100);
  r >>= 8;
  if (bucket < 70) return 16 + r % 241;
  if (bucket < 95) return 256 + r % 3841;
  return 4096 + r % 61441;
}

void* allocate(Rng& rng, std::size_t n) {
  switch (rng.next() % 4) {
    case 0:
      return alloc_at<0, 2>(n);
    case 1:
      return alloc_at<1, 3>(n);
    case 2:
      return alloc_at<2, 4>(n);
    default:
      return alloc_at<3, 5>(n);
  }
}

std::uint64_t touch(void* p, std::size_t n, std::uint64_t seed) {
  auto* b = static_cast<unsigned char*>(p);
  std::size_t k = n < 64 ? n : 64;
  std::uint64_t h = seed;
  for (std::size_t i = 0; i < k; ++i) {
    b[i] = static_cast<unsigned char>(h >> (i % 8 * 8));
    h = (h ^ b[i]) * 0x100000001b3ULL;
  }
  b[n - 1] = static_cast<unsigned char>(h);
  return h ^ b[k / 2];
}

std::uint64_t worker(unsigned index, std::uint64_t ops, std::size_t live) {
  Rng rng{0x1234567ULL + index * 0x9e3779b97f4a7c15ULL};
  auto** slots = static_cast<void**>(std::calloc(live, sizeof(void*)));
  auto* sizes = static_cast<std::size_t*>(std::calloc(live, sizeof(std::size_t)));
  if (!slots || !sizes) std::abort();
  std::uint64_t sum = 0;
  for (std::uint64_t op = 0; op < ops; ++op) {
    std::size_t j = rng.next() % live;
    if (slots[j]) {
      sum += static_cast<unsigned char*>(slots[j])[sizes[j] - 1];
      release_at<2>(slots[j]);
    }
    std::size_t n = pick_size(rng);
    void* p = allocate(rng, n);
    if (!p) std::abort();
    sum += touch(p, n, op);
    slots[j] = p;
    sizes[j] = n;
    if (op % 8 == 0) {
      std::size_t t = 16 + rng.next() % 512;
      void* tmp = alloc_at<4, 1>(t);
      if (!tmp) std::abort();
      sum += touch(tmp, t, sum);
      release_at<0>(tmp);
    }
  }
  for (std::size_t j = 0; j < live; ++j) std::free(slots[j]);
  std::free(slots);
  std::free(sizes);
  return sum;
}

unsigned long long arg(int argc, char** argv, int i, unsigned long long fallback) {
  if (argc <= i) return fallback;
  char* end = nullptr;
  unsigned long long v = std::strtoull(argv[i], &end, 10);
  if (!end || *end || v == 0) {
    std::fprintf(stderr, "usage: %s [THREADS] [OPS_PER_THREAD] [LIVE]\n", argv[0]);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  const auto threads = static_cast<unsigned>(arg(argc, argv, 1, 4));
  const auto ops = static_cast<std::uint64_t>(arg(argc, argv, 2, 2000000));
  const auto live = static_cast<std::size_t>(arg(argc, argv, 3, 4096));
  std::vector<std::uint64_t> sums(threads);
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&sums, t, ops, live] { sums[t] = worker(t, ops, live); });
  }
  for (auto& th : pool) th.join();
  std::uint64_t checksum = 0;
  for (unsigned t = 0; t < threads; ++t) checksum = checksum * 31 + sums[t];
  std::printf("alloc_storm: threads=%u ops_per_thread=%llu live=%zu checksum=%llu\n", threads,
              static_cast<unsigned long long>(ops), live,
              static_cast<unsigned long long>(checksum));
  return 0;
}
