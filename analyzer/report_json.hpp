// The versioned JSON report ("schema": "memscope-analysis/1"), documented in docs/json-schema.md.
#pragma once

#include <nlohmann/json.hpp>

#include "analyzer/heap_report.hpp"
#include "analyzer/session.hpp"

namespace memscope::analyzer {

inline constexpr const char* kJsonSchema = "memscope-analysis/1";

nlohmann::json json_report(const Session& session, const HeapReport& heap);

}  // namespace memscope::analyzer
