// Leak suppressions, in LeakSanitizer's syntax: `leak:PATTERN` lines, PATTERN matched against
// the function, source file and module path of every frame of a leaking site's stack. Applied
// by memscope-analyze (heap_report.cpp), so an old trace can be re-judged; a suppressed leak is
// counted and listed apart, never dropped. The built-in list holds one-time allocations of the
// runtime that no program can free; docs/analysis.md, "Leak suppressions", lists them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/symbolizer.hpp"

namespace memscope::analyzer {

struct SuppressionRule {
  std::string pattern;  // as written after `leak:`
  std::string origin;   // "FILE:LINE", or "built-in" for the default list
};

// LeakSanitizer's match: `pattern` occurs in `text`, `*` matching any run of characters, a
// leading `^` anchoring it at the start of `text` and a trailing `$` at its end.
bool suppression_matches(std::string_view pattern, std::string_view text);

class SuppressionList {
 public:
  // The rules memscope applies unless --no-default-suppressions.
  static const SuppressionList& builtin();

  // Adds the rules of a suppressions file (`name` in messages). On a line that is neither a
  // `leak:PATTERN` rule, a `#` comment nor blank, adds nothing and returns "NAME:LINE: why".
  std::optional<std::string> parse(std::string_view text, const std::string& name);
  // parse() of the file at `path`; also fails, saying so, when it cannot be read.
  std::optional<std::string> load(const std::string& path);
  void add(const SuppressionList& other);

  // The first rule that matches a function, file or module of any frame; null when none does.
  const SuppressionRule* match(const std::vector<const Frame*>& stack) const;
  const std::vector<SuppressionRule>& rules() const { return rules_; }

 private:
  std::vector<SuppressionRule> rules_;
};

// What --suppressions FILE (repeatable) and --no-default-suppressions asked for, made one list:
// the built-in rules first unless `defaults` is false, then each file's. The first error
// ("FILE:LINE: why") when a file cannot be read or has a malformed line.
std::optional<std::string> load_suppressions(const std::vector<std::string>& files, bool defaults,
                                             SuppressionList& out);

}  // namespace memscope::analyzer
