// Sampled tracing (memscope-run --sample-bytes N, MEMSCOPE_SAMPLE_BYTES): which allocations
// reach the ring. Allocated bytes are sampled as a Poisson process of mean N bytes, as
// tcmalloc, jemalloc's prof and Perfetto's heapprofd do: each thread counts down the bytes to
// its next sampled byte, an exponential draw; an allocation that contains it is sampled, so one
// of s bytes is sampled with probability 1 - exp(-s/N), whatever the sizes around it (the
// analyzer weights it by the inverse, analyzer/sample_estimate.hpp). An unsampled allocation
// costs the countdown and three thread-owned counters: no clock, no stack, no ring write. The
// counters give the exact totals (allocations, frees, bytes allocated): each thread owns a
// block of a static pool, read by the sidecar when it writes the kSampling record, and left in
// place when the thread ends, so nothing needs flushing (threads past the pool share one block
// through atomic additions). The draws of a thread are seeded by MEMSCOPE_SAMPLE_SEED and the
// order in which threads first allocate. Off (every call recorded) when N is 0.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "agent/config.hpp"
#include "agent/sampled_blocks.hpp"
#include "format/sampling.hpp"

namespace memscope::agent {

// A cache line each: two threads' counters in one line would bounce it between their cores on
// every call (perf put 70 % of a sampled storm's hook time on that one add).
struct alignas(64) SampleCounts {
  std::atomic<uint64_t> allocations{0};
  std::atomic<uint64_t> frees{0};
  std::atomic<uint64_t> allocated_bytes{0};
};

struct SamplerThread {
  int64_t countdown = 0;           // bytes before the next sampled byte
  uint64_t rng = 0;                // xorshift state; 0: the thread has not started sampling
  SampleCounts* counts = nullptr;  // its own block; null before the start and past the pool
};
extern thread_local constinit SamplerThread t_sampler __attribute__((tls_model("initial-exec")));

inline bool sampling_on() {
  return g_config.sample_bytes != 0;
}

// Adds one to a counter only its owner thread writes (the sidecar only reads it).
inline void bump(std::atomic<uint64_t>& counter, uint64_t by) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

// The slow paths: a thread's first call or one past the pool, and a sampled allocation.
bool count_alloc_slow(const void* ptr, size_t size);
void count_free_slow();
bool take_sample(SamplerThread& t, const void* ptr);

// Counts an allocation; true when it is to be recorded (always when sampling is off).
inline bool keep_alloc(const void* ptr, size_t size) {
  if (!sampling_on()) return true;
  SamplerThread& t = t_sampler;
  if (t.counts == nullptr) return count_alloc_slow(ptr, size);
  bump(t.counts->allocations, 1);
  bump(t.counts->allocated_bytes, size);
  t.countdown -= static_cast<int64_t>(size);
  return t.countdown < 0 && take_sample(t, ptr);
}

// Counts a free; true when it is to be recorded: the block was sampled (or sampling is off).
inline bool keep_free(const void* ptr) {
  if (!sampling_on()) return true;
  SampleCounts* counts = t_sampler.counts;
  if (counts == nullptr) {
    count_free_slow();
  } else {
    bump(counts->frees, 1);
  }
  return forget_sampled_block(ptr);
}

// What of a realloc to record: nothing, the free of its old block alone (the new one is not
// sampled), or the whole realloc (its new block is sampled; the old one may not have been, and
// the analyzer then sees only the allocation). Counted as one free and, for a size above 0,
// one allocation, as the heap model counts a realloc.
struct ReallocSampling {
  bool old_sampled = true;  // the old block was sampled (and is now out of the table)
  bool new_sampled = true;  // the new block is to be recorded
};
ReallocSampling keep_realloc(const void* old_ptr, size_t size);
// After the real call: the new block joins the table when sampled; a failed realloc (null for a
// size above 0), which left the old block alone, puts it back and takes its counts back.
void settle_realloc(const void* old_ptr, size_t size, ReallocSampling sampling,
                    const void* new_ptr);

// The exact totals counted so far over every thread, with the mean and seed.
format::SamplingRecord sampling_totals(uint8_t phase);
// A fork child counts from zero: its parent's counts are in the parent's trace.
void reset_sampler_after_fork();

}  // namespace memscope::agent
