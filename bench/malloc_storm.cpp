// bench_malloc_storm: the plain malloc/free storm of issue 15, where a profiler's cost per heap
// event shows directly (natively about 20 ns per event, with almost no work between events).
//
// THREADS threads (default 2) each run ITERATIONS iterations (default 2,000,000) over a table of
// 1024 slots: free the block in a random slot, then malloc a random 8-520 B block into it. One
// iteration in 64 also builds a short std::string and one in 256 inserts into a small std::map,
// as ordinary C++ code does between its raw allocations. Per-thread fixed-seed generators make the
// sequence, and the checksum printed at the end, the same on every run.
//
// Usage: bench_malloc_storm [THREADS] [ITERATIONS]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "splitmix_rng.hpp"

namespace {

constexpr std::size_t kSlots = 1024;

std::uint64_t storm(unsigned thread, std::uint64_t iterations) {
  Rng rng{0x5eed0000ULL + thread};
  std::vector<unsigned char*> table(kSlots, nullptr);
  std::map<std::uint64_t, std::string> names;
  std::uint64_t checksum = 0;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    std::uint64_t r = rng.next();
    unsigned char*& slot = table[r % kSlots];
    std::free(slot);
    std::size_t size = 8 + (r >> 20) % 513;
    slot = static_cast<unsigned char*>(std::malloc(size));
    slot[0] = static_cast<unsigned char>(i);
    checksum += size;
    if (i % 64 == 0) {
      std::string label = "storm iteration " + std::to_string(i);
      checksum += label.size();
    }
    if (i % 256 == 0) {
      names[r % 512] = "entry " + std::to_string(r % 1000);
      checksum += names.size();
    }
  }
  for (unsigned char* p : table) std::free(p);
  return checksum;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned threads = argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 2;
  std::uint64_t iterations = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 2000000;
  if (threads == 0 || iterations == 0) {
    std::fprintf(stderr, "usage: bench_malloc_storm [THREADS>0] [ITERATIONS>0]\n");
    return 2;
  }
  std::vector<std::uint64_t> sums(threads);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&sums, t, iterations] { sums[t] = storm(t, iterations); });
  }
  std::uint64_t total = 0;
  for (unsigned t = 0; t < threads; ++t) {
    workers[t].join();
    total += sums[t];
  }
  std::printf("malloc_storm: %u threads x %llu iterations, checksum %llu\n", threads,
              static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(total));
  return 0;
}
