// The body of a RecordType::kMetricSample trace record: one memscope::PlatformMetrics encoded
// compactly (LEB128 varints, a presence bitmap per struct for its optional fields, a leading
// version byte). docs/trace-format-metrics.md describes the layout for people.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "memscope/collector.hpp"

namespace memscope::format {

inline constexpr uint8_t kMetricSampleVersion = 1;
// Doubles travel as zigzag varints of round(value * kMetricFixedScale): 0.001 resolution.
inline constexpr double kMetricFixedScale = 1000.0;

// Appends the encoded body of `metrics` to `out`. NaN and infinite values are written as absent.
void encode_metric_sample(const PlatformMetrics& metrics, std::vector<uint8_t>& out);

// Decodes a body of exactly `size` bytes. Empty on a version this reader does not know, on
// truncated or trailing bytes and on any malformed field: never reads out of bounds.
std::optional<PlatformMetrics> decode_metric_sample(const uint8_t* data, size_t size);

}  // namespace memscope::format
