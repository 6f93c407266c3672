// The summary figures as the JSON report's `summary` object (docs/json-schema.md): one place
// for the field names, used by the JSON report and the JUnit export.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/summary.hpp"

namespace memscope::analyzer {

// Every Summary field by its JSON name, the leak kinds as <kind>_allocations and <kind>_bytes
// (none when unknown): what the JSON's `summary` holds and the gate's fields are.
std::vector<std::pair<std::string, std::optional<uint64_t>>> summary_fields(const Summary& s);

// summary_fields as an object; an unknown figure is null.
nlohmann::json summary_json(const Summary& s);

}  // namespace memscope::analyzer
