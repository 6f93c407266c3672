// The body of a RecordType::kSampling trace record: the trace is sampled (memscope-run
// --sample-bytes N), so only sampled allocations and the frees of sampled blocks are in it.
// Written once at the start (phase 0: the mean and the seed, zero totals) and again at each
// process end (phase 1: the exact totals the agent counted on every thread; the last one wins).
// One field list drives the agent's encoder and the analyzer's decoder. docs/trace-format.md,
// "Sampling", describes the same for people.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "format/body_fields.hpp"
#include "format/trace_format.hpp"

namespace memscope::format {

inline constexpr uint8_t kSamplingVersion = 1;

struct SamplingRecord {
  uint8_t phase = 0;         // 0: at the start, 1: at an end (totals final)
  uint64_t mean_bytes = 0;   // mean of the exponential gap between sampled bytes
  uint64_t seed = 0;         // the per-thread draws' seed (MEMSCOPE_SAMPLE_SEED or a random one)
  uint64_t allocations = 0;  // exact: every block handed out (a realloc's new block included)
  uint64_t frees = 0;        // exact: every block released (a realloc's old block included)
  uint64_t allocated_bytes = 0;  // exact: requested bytes of every allocation
};

template <typename V>
bool sampling_fields(V& v, SamplingRecord& r) {
  uint8_t version = kSamplingVersion;
  return v.u8(version) && version == kSamplingVersion && v.u8(r.phase) && v.varint(r.mean_bytes) &&
         v.varint(r.seed) && v.varint(r.allocations) && v.varint(r.frees) &&
         v.varint(r.allocated_bytes);
}

inline void encode_sampling(const SamplingRecord& record, std::vector<uint8_t>& out) {
  encode_body(record, out, [](auto& v, SamplingRecord& r) { return sampling_fields(v, r); });
}

// Nothing when the body is malformed, has trailing bytes, is of another version, or says a
// mean of 0 (no estimate could be made from it).
inline std::optional<SamplingRecord> decode_sampling(const uint8_t* data, size_t size) {
  std::optional<SamplingRecord> record = decode_body<SamplingRecord>(
      data, size, 1, [](auto& v, SamplingRecord& r) { return sampling_fields(v, r); });
  if (!record || record->phase > 1 || record->mean_bytes == 0) return std::nullopt;
  return record;
}

}  // namespace memscope::format
