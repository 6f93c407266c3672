// The summary figures as the JSON report's `summary` object (docs/json-schema.md): one place
// for the field names, used by the JSON report and the JUnit export.
#pragma once

#include <nlohmann/json.hpp>

#include "analyzer/summary.hpp"

namespace memscope::analyzer {

// Every Summary field; a leak kind's _allocations and _bytes are null when unknown.
nlohmann::json summary_json(const Summary& s);

}  // namespace memscope::analyzer
