// See suppressions.hpp.
#include "analyzer/suppressions.hpp"

#include <fstream>
#include <iterator>

namespace memscope::analyzer {
namespace {

// `*`-globbing of the whole of `text`: the classic backtracking walk, which retries only the
// most recent `*` (enough: an earlier `*` could not match more than the later one can).
bool glob(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p, ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// One-time allocations of the C runtime that no program can free and that memcheck calls still
// reachable, while the leak scan finds them lost: the chain to them runs through memory it does
// not read (docs/analysis.md lists each with the program that shows it).
SuppressionList make_builtin() {
  SuppressionList list;
  list.parse(
      // dlopen's bookkeeping of each object it maps (link map, names, version tables): linked
      // from the loader's list, whose head lives in its early mmap'ed memory; freed by dlclose.
      // Only what dlopen maps and links runs in this function, never a library's constructor.
      "leak:^dl_open_worker_begin$\n", "built-in");
  return list;
}

}  // namespace

bool suppression_matches(std::string_view pattern, std::string_view text) {
  if (text.empty()) return false;
  bool at_start = !pattern.empty() && pattern.front() == '^';
  if (at_start) pattern.remove_prefix(1);
  bool at_end = !pattern.empty() && pattern.back() == '$';
  if (at_end) pattern.remove_suffix(1);
  std::string whole;
  if (!at_start) whole += '*';
  whole += pattern;
  if (!at_end) whole += '*';
  return glob(whole, text);
}

const SuppressionList& SuppressionList::builtin() {
  static const SuppressionList list = make_builtin();
  return list;
}

std::optional<std::string> SuppressionList::parse(std::string_view text, const std::string& name) {
  std::vector<SuppressionRule> parsed;
  size_t number = 0;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = trim(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    std::string where = name + ":" + std::to_string(number);
    if (!line.starts_with("leak:"))
      return where + ": expected `leak:PATTERN`, a `#` comment or a blank line, got '" +
             std::string(line) + "'";
    std::string_view pattern = trim(line.substr(5));
    if (pattern.empty() || pattern == "^" || pattern == "$" || pattern == "^$")
      return where + ": `leak:` needs a pattern (a function, source file or module name)";
    parsed.push_back({std::string(pattern), where});
  }
  rules_.insert(rules_.end(), parsed.begin(), parsed.end());
  return std::nullopt;
}

std::optional<std::string> SuppressionList::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return path + ": cannot read the suppressions file";
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return path + ": cannot read the suppressions file";
  return parse(text, path);
}

void SuppressionList::add(const SuppressionList& other) {
  rules_.insert(rules_.end(), other.rules_.begin(), other.rules_.end());
}

const SuppressionRule* SuppressionList::match(const std::vector<const Frame*>& stack) const {
  for (const SuppressionRule& rule : rules_)
    for (const Frame* f : stack)
      if (suppression_matches(rule.pattern, f->function) ||
          suppression_matches(rule.pattern, f->file) ||
          suppression_matches(rule.pattern, f->module))
        return &rule;
  return nullptr;
}

std::optional<std::string> load_suppressions(const std::vector<std::string>& files, bool defaults,
                                             SuppressionList& out) {
  if (defaults) out.add(SuppressionList::builtin());
  for (const std::string& file : files)
    if (std::optional<std::string> error = out.load(file)) return error;
  return std::nullopt;
}

}  // namespace memscope::analyzer
