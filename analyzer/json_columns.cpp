// See json_columns.hpp. Every candidate is written out as text and the shortest kept: a column
// is built once per report, so trying each encoding costs a few passes over its values.
#include "analyzer/json_columns.hpp"

#include <cstdint>
#include <optional>

namespace memscope::analyzer {
namespace {

using nlohmann::json;

std::string text(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string join(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i];
  }
  return out + "]";
}

std::string join(const std::vector<int64_t>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(items[i]);
  }
  return out + "]";
}

// {"length":n,"default":D,"gaps":[...],"values":[...]}: rows are D but those at the gaps (the
// first row's number, then the distance from the previous one), which take the values in order.
// Only for a value on most rows (else each other row's gap costs more than the default saves),
// found by a majority vote: counting every distinct text of a column of a million stacks took
// a map of hundreds of MB.
std::optional<std::string> sparse(const std::vector<std::string>& texts) {
  const std::string* common = &texts[0];
  size_t votes = 0;
  for (const std::string& t : texts) {
    if (votes == 0) common = &t;
    if (t == *common) {
      ++votes;
    } else {
      --votes;
    }
  }
  size_t others = 0;
  for (const std::string& t : texts) others += t == *common ? 0 : 1;
  if (others * 2 >= texts.size()) return std::nullopt;
  std::vector<int64_t> gaps;
  std::vector<std::string> values;
  size_t last = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (texts[i] == *common) continue;
    gaps.push_back(static_cast<int64_t>(i - last));
    values.push_back(texts[i]);
    last = i;
  }
  return "{\"length\":" + std::to_string(texts.size()) + ",\"default\":" + *common +
         ",\"gaps\":" + join(gaps) + ",\"values\":" + join(values) + "}";
}

// {"runs":[...],"lengths":[...]}: each value repeated its length times.
std::string runs(const std::vector<std::string>& texts) {
  std::vector<std::string> values;
  std::vector<int64_t> lengths;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i && texts[i] == texts[i - 1]) {
      ++lengths.back();
      continue;
    }
    values.push_back(texts[i]);
    lengths.push_back(1);
  }
  return "{\"runs\":" + join(values) + ",\"lengths\":" + join(lengths) + "}";
}

std::optional<int64_t> integer(const json& j) {
  if (j.is_number_unsigned() && j.get<uint64_t>() <= INT64_MAX) return j.get<int64_t>();
  if (j.is_number_integer()) return j.get<int64_t>();
  return std::nullopt;
}

// {"deltas":[...]}: each row the previous one plus its delta (the first, its delta from 0);
// integers only.
std::optional<std::string> deltas(const std::vector<json>& values) {
  std::vector<json> out;
  int64_t previous = 0;
  for (const json& v : values) {
    std::optional<int64_t> x = integer(v);
    int64_t delta;  // a step past int64's range (values near both ends) has no delta form
    if (!x || __builtin_sub_overflow(*x, previous, &delta)) return std::nullopt;
    out.push_back(delta);
    previous = *x;
  }
  return "{\"deltas\":" + encode_column(out, false) + "}";
}

// {"back":[...]}: row i holds i - back[i], null where back[i] is 0; for columns naming an
// earlier row (or none), as a stack's caller does.
std::optional<std::string> back(const std::vector<json>& values) {
  std::vector<json> out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].is_null()) {
      out.push_back(0);
      continue;
    }
    std::optional<int64_t> x = integer(values[i]);
    if (!x || *x < 0 || static_cast<size_t>(*x) >= i) return std::nullopt;
    out.push_back(static_cast<int64_t>(i) - *x);
  }
  return "{\"back\":" + encode_column(out, false) + "}";
}

}  // namespace

std::string encode_column(const std::vector<json>& values, bool differences) {
  std::vector<std::string> texts;
  texts.reserve(values.size());
  for (const json& v : values) texts.push_back(text(v));
  std::string best = join(texts);
  if (values.empty()) return best;
  auto consider = [&](const std::optional<std::string>& candidate) {
    if (candidate && candidate->size() < best.size()) best = *candidate;
  };
  consider(sparse(texts));
  consider(runs(texts));
  std::vector<std::string>().swap(texts);  // freed before the differences, which need their own
  if (differences) {  // one level: a column of differences is not differenced again
    consider(deltas(values));
    consider(back(values));
  }
  return best;
}

namespace {

constexpr size_t kMaxRows = size_t{1} << 28;  // an encoding claiming more rows is damaged

// As a parser reads it: unsigned when not negative.
json number(int64_t x) {
  return x < 0 ? json(x) : json(static_cast<uint64_t>(x));
}

bool all_integers(const json& a) {
  if (!a.is_array()) return false;
  for (const json& v : a)
    if (!integer(v)) return false;
  return true;
}

json expand_runs(const json& c) {
  const json& values = c["runs"];
  const json& lengths = c.contains("lengths") ? c["lengths"] : json();
  if (!values.is_array() || !all_integers(lengths) || values.size() != lengths.size())
    return nullptr;
  json out = json::array();
  for (size_t i = 0; i < values.size(); ++i) {
    int64_t n = *integer(lengths[i]);
    if (n < 0 || out.size() + static_cast<size_t>(n) > kMaxRows) return nullptr;
    for (int64_t k = 0; k < n; ++k) out.push_back(values[i]);
  }
  return out;
}

json expand_deltas(const json& c) {
  json d = expand_column(c["deltas"]);
  if (!all_integers(d)) return nullptr;
  json out = json::array();
  int64_t x = 0;
  for (const json& step : d) {
    if (__builtin_add_overflow(x, *integer(step), &x)) return nullptr;  // a damaged document
    out.push_back(number(x));
  }
  return out;
}

json expand_back(const json& c) {
  json distances = expand_column(c["back"]);
  if (!all_integers(distances)) return nullptr;
  json out = json::array();
  for (const json& b : distances) {
    int64_t back = *integer(b), i = static_cast<int64_t>(out.size());
    if (back < 0 || back > i) return nullptr;
    out.push_back(back == 0 ? json(nullptr) : number(i - back));
  }
  return out;
}

json expand_sparse(const json& c) {
  if (!c.contains("length") || !c.contains("default") || !integer(c["length"]) ||
      !all_integers(c.value("gaps", json())) || !c.value("values", json()).is_array())
    return nullptr;
  int64_t n = *integer(c["length"]);
  const json& gaps = c["gaps"];
  const json& values = c["values"];
  if (n < 0 || static_cast<size_t>(n) > kMaxRows || gaps.size() != values.size()) return nullptr;
  json out(static_cast<size_t>(n), c["default"]);
  int64_t at = 0;
  for (size_t i = 0; i < gaps.size(); ++i) {
    if (__builtin_add_overflow(at, *integer(gaps[i]), &at) || at < 0 || at >= n) return nullptr;
    out[static_cast<size_t>(at)] = values[i];
  }
  return out;
}

}  // namespace

json expand_column(const json& column) {
  if (column.is_array()) return column;
  if (!column.is_object()) return nullptr;
  if (column.contains("runs")) return expand_runs(column);
  if (column.contains("deltas")) return expand_deltas(column);
  if (column.contains("back")) return expand_back(column);
  return expand_sparse(column);
}

json expand_columns(const json& table) {
  if (!table.is_object()) return table;
  json out = json::object();
  for (const auto& [name, value] : table.items()) {
    json expanded = value.is_array() || value.is_object() ? expand_column(value) : value;
    out[name] = expanded.is_null() && !value.is_null() ? value : expanded;
  }
  return out;
}

json expand_sites(const json& table) {
  if (!table.is_object() || !table.contains("distinct")) return expand_columns(table);
  json out = table;
  out.erase("distinct");
  out.erase("row");
  out = expand_columns(out);
  json distinct = expand_columns(table["distinct"]);
  json row = expand_column(table["row"]);
  if (!distinct.is_object() || !all_integers(row)) return out;
  for (const auto& [name, values] : distinct.items()) {
    json column = json::array();
    for (const json& r : row) {
      std::optional<int64_t> i = integer(r);
      bool inside = values.is_array() && *i >= 0 && static_cast<size_t>(*i) < values.size();
      column.push_back(inside ? values[static_cast<size_t>(*i)] : json(nullptr));
    }
    out[name] = std::move(column);
  }
  return out;
}

}  // namespace memscope::analyzer
