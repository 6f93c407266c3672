// The human report printed by default: one line per process, totals, and the top allocation
// sites of each process with their stacks.
#pragma once

#include <ostream>

#include "analyzer/session.hpp"

namespace memscope::analyzer {

void text_report(const Session& session, std::ostream& out, size_t top_sites);

}  // namespace memscope::analyzer
