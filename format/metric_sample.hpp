// The body of a RecordType::kMetricSample trace record: one memscope::PlatformMetrics encoded
// compactly (LEB128 varints, a presence bitmap per struct for its optional fields, a leading
// version byte). A body is either a key sample (complete) or a delta against the sample before
// it in the same chunk, so a 64-thread process costs a few hundred bytes per sample rather than
// two kilobytes. docs/trace-format-metrics.md describes the layout for people.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "memscope/collector.hpp"

namespace memscope::format {

// Version 2 added delta samples; version 3 writes a list element that has no counterpart in the
// base (every element of a key sample) as a change against the element before it, and changed
// doubles as fixed-point differences; version 4 writes a thread's cpu_usage_percent in a delta
// as a change against the usage its CPU time and the interval predict (usually no change at
// all); version 5 appended a thread's minor_faults, major_faults and profiler_wait_ns (optional
// fields at the end of a struct: an older body reads as having none). Versions 1 to 4 are still
// read.
inline constexpr uint8_t kMetricSampleVersion = 5;
inline constexpr uint8_t kMetricSampleOldestVersion = 1;
// Doubles travel as zigzag varints of round(value * kMetricFixedScale): 0.001 resolution.
inline constexpr double kMetricFixedScale = 1000.0;

// Appends the key (self-contained) body of `metrics` to `out`. NaN and infinite values are
// written as absent.
void encode_metric_sample(const PlatformMetrics& metrics, std::vector<uint8_t>& out);

// The writer's side: the first sample after construction or reset() is a key sample, each later
// one a delta against the previous sample. The sidecar calls reset() at a chunk boundary at
// least every two seconds, so a reader that lost a chunk loses the samples up to the next key.
// Steady-state encoding does not allocate (the previous sample is kept by copy-assignment, which
// reuses its storage).
class MetricSampleEncoder {
 public:
  void reset() { have_previous_ = false; }
  // Appends the body to `out`; true when it is a key sample.
  bool encode(const PlatformMetrics& metrics, std::vector<uint8_t>& out);

 private:
  PlatformMetrics previous_;
  bool have_previous_ = false;
};

// Decodes a body of exactly `size` bytes. A delta body needs `previous`, the sample decoded just
// before it, and is refused when `previous` is missing or is not the sample the delta was made
// against (each delta names its base by timestamp). Empty on a version this reader does not
// know, on truncated or trailing bytes and on any malformed field: never reads out of bounds.
std::optional<PlatformMetrics> decode_metric_sample(const uint8_t* data, size_t size,
                                                    const PlatformMetrics* previous = nullptr);

// True when the body is a key sample (decodable without a previous sample).
bool is_key_metric_sample(const uint8_t* data, size_t size);

// The reader's side for callers that do not keep the decoded samples themselves: remembers the
// last sample it decoded and uses it as the base of the next delta.
class MetricSampleDecoder {
 public:
  std::optional<PlatformMetrics> decode(const uint8_t* data, size_t size);
  void reset() { previous_.reset(); }

 private:
  std::optional<PlatformMetrics> previous_;
};

}  // namespace memscope::format
