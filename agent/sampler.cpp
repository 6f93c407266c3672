// See sampler.hpp.
#include "agent/sampler.hpp"

#include <cstring>
#include <initializer_list>

namespace memscope::agent {

thread_local constinit SamplerThread t_sampler __attribute__((tls_model("initial-exec")));

namespace {

constexpr uint32_t kCountBlocks = 4096;

SampleCounts g_counts[kCountBlocks];
SampleCounts g_shared_counts;  // threads past the pool, by atomic additions
std::atomic<uint32_t> g_threads_sampling{0};

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A uniform draw in (0, 1] from xorshift64*.
double uniform(SamplerThread& t) {
  t.rng ^= t.rng >> 12;
  t.rng ^= t.rng << 25;
  t.rng ^= t.rng >> 27;
  uint64_t bits = (t.rng * 0x2545F4914F6CDD1Dull) >> 11;
  return static_cast<double>(bits + 1) * 0x1.0p-53;
}

// The natural logarithm of x in (0, 1], by hand: libm's log cannot be linked into the agent
// (its static copy resolves a loader-internal symbol). x = m * 2^e with m in [1, 2), and
// ln m = 2 atanh((m - 1) / (m + 1)), whose series converges fast for m - 1 < 1 (error < 1e-9).
double natural_log(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int exponent = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  bits = (bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1023} << 52);
  double m;
  std::memcpy(&m, &bits, sizeof m);
  double z = (m - 1) / (m + 1), z2 = z * z, term = z, sum = 0;
  for (int k = 1; k <= 21; k += 2, term *= z2) sum += term / k;
  return exponent * 0.6931471805599453 + 2 * sum;
}

// Bytes before the next sampled byte: the floor of an exponential draw of mean N, so that an
// allocation of s bytes holds a sampled byte exactly when the countdown falls below 0 in it.
int64_t draw_gap(SamplerThread& t) {
  double gap = -natural_log(uniform(t)) * static_cast<double>(g_config.sample_bytes);
  return gap >= 0x1.0p62 ? INT64_C(1) << 62 : static_cast<int64_t>(gap);
}

void start_thread(SamplerThread& t) {
  uint32_t ordinal = g_threads_sampling.fetch_add(1, std::memory_order_relaxed);
  t.rng = splitmix64(g_config.sample_seed ^ splitmix64(ordinal));
  if (t.rng == 0) t.rng = 1;
  t.countdown = draw_gap(t);
  t.counts = ordinal < kCountBlocks ? &g_counts[ordinal] : nullptr;
}

bool count_shared_alloc(SamplerThread& t, const void* ptr, size_t size) {
  g_shared_counts.allocations.fetch_add(1, std::memory_order_relaxed);
  g_shared_counts.allocated_bytes.fetch_add(size, std::memory_order_relaxed);
  t.countdown -= static_cast<int64_t>(size);
  return t.countdown < 0 && take_sample(t, ptr);
}

}  // namespace

bool count_alloc_slow(const void* ptr, size_t size) {
  SamplerThread& t = t_sampler;
  if (t.rng == 0) start_thread(t);
  if (t.counts == nullptr) return count_shared_alloc(t, ptr, size);
  return keep_alloc(ptr, size);
}

void count_free_slow() {
  SamplerThread& t = t_sampler;
  if (t.rng == 0) start_thread(t);
  if (t.counts != nullptr) return bump(t.counts->frees, 1);
  g_shared_counts.frees.fetch_add(1, std::memory_order_relaxed);
}

bool take_sample(SamplerThread& t, const void* ptr) {
  t.countdown = draw_gap(t);  // from the end of this block on: the process is memoryless
  if (ptr != nullptr) add_sampled_block(ptr);  // a realloc's new block: added once it exists
  return true;
}

ReallocSampling keep_realloc(const void* old_ptr, size_t size) {
  if (!sampling_on()) return {};
  // The new block's address is not known yet: the free part decides before the call, the
  // countdown decides the new block (it depends on the size alone); settle_realloc adds it.
  ReallocSampling s;
  s.old_sampled = keep_free(old_ptr);
  s.new_sampled = size != 0 && keep_alloc(nullptr, size);
  return s;
}

void settle_realloc(const void* old_ptr, size_t size, ReallocSampling sampling,
                    const void* new_ptr) {
  if (!sampling_on()) return;
  if (new_ptr != nullptr || size == 0) {
    if (sampling.new_sampled && new_ptr != nullptr) add_sampled_block(new_ptr);
    return;
  }
  if (sampling.old_sampled) add_sampled_block(old_ptr);
  SampleCounts* counts = t_sampler.counts;
  if (counts == nullptr) counts = &g_shared_counts;
  counts->frees.fetch_sub(1, std::memory_order_relaxed);
  counts->allocations.fetch_sub(1, std::memory_order_relaxed);
  counts->allocated_bytes.fetch_sub(size, std::memory_order_relaxed);
}

format::SamplingRecord sampling_totals(uint8_t phase) {
  format::SamplingRecord r;
  r.phase = phase;
  r.mean_bytes = g_config.sample_bytes;
  r.seed = g_config.sample_seed;
  uint32_t used = g_threads_sampling.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < used && i < kCountBlocks; ++i) {
    r.allocations += g_counts[i].allocations.load(std::memory_order_relaxed);
    r.frees += g_counts[i].frees.load(std::memory_order_relaxed);
    r.allocated_bytes += g_counts[i].allocated_bytes.load(std::memory_order_relaxed);
  }
  r.allocations += g_shared_counts.allocations.load(std::memory_order_relaxed);
  r.frees += g_shared_counts.frees.load(std::memory_order_relaxed);
  r.allocated_bytes += g_shared_counts.allocated_bytes.load(std::memory_order_relaxed);
  return r;
}

// Only the blocks threads took, and only where a count is not zero already: the pool is 256 KiB
// of the parent's memory, and a write to each of its pages would cost every fork child 64 page
// faults (a fresh page each, or a copy of the parent's), most of them on a pool never used.
void reset_sampler_after_fork() {
  uint32_t used = g_threads_sampling.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < used && i < kCountBlocks; ++i) {
    SampleCounts& c = g_counts[i];
    for (std::atomic<uint64_t>* count : {&c.allocations, &c.frees, &c.allocated_bytes})
      if (count->load(std::memory_order_relaxed) != 0) count->store(0, std::memory_order_relaxed);
  }
  g_shared_counts.allocations.store(0, std::memory_order_relaxed);
  g_shared_counts.frees.store(0, std::memory_order_relaxed);
  g_shared_counts.allocated_bytes.store(0, std::memory_order_relaxed);
}

}  // namespace memscope::agent
