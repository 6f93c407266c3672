// See report_json.hpp. The document is written top-level member by member: processes and threads
// one object per line, sites and leaks one column at a time, each value dumped as it is made.
// Which sites are written is decided first (SiteSelection); the stacks, frames and strings those
// sites need are then numbered densely in table order (a stack's caller always comes before it,
// so a reader can build the tree in one pass).
#include "analyzer/report_json.hpp"

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzer/insights/correlations.hpp"
#include "analyzer/insights/insights_report.hpp"
#include "analyzer/insights/statistics.hpp"
#include "analyzer/json_columns.hpp"
#include "analyzer/leak_kinds.hpp"
#include "analyzer/summary.hpp"
#include "analyzer/summary_json.hpp"

namespace memscope::analyzer {
namespace {

using nlohmann::json;

constexpr auto kReplace = json::error_handler_t::replace;  // names need not be UTF-8

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, kReplace);
}

// [k, count, k, count, ...] over the non-empty log2 buckets: bucket 0 holds 0, bucket k holds
// [2^(k-1), 2^k).
json histogram_json(const Log2Histogram& h) {
  json out = json::array();
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (h.counts[i] == 0) continue;
    out.push_back(i);
    out.push_back(h.counts[i]);
  }
  return out;
}

// A column of a table inside a process's object, in its shortest encoding.
json encoded(const std::vector<json>& values) {
  return json::parse(encode_column(values));
}

json suppression_json(const SuppressionRule& rule) {
  return {{"rule", "leak:" + rule.pattern}, {"origin", rule.origin}};
}

// Which sites of each process the document holds, and their numbers in its `sites` array.
class SiteSelection {
 public:
  SiteSelection(const HeapReport& heap, const std::optional<SiteBudget>& budget) {
    std::vector<std::vector<bool>> keep;
    for (const ProcessHeapView& v : heap.processes) keep.emplace_back(v.sites.size(), !budget);
    if (budget) choose(heap, *budget, keep);
    for (size_t p = 0; p < heap.processes.size(); ++p) {
      const ProcessHeapView& v = heap.processes[p];
      std::vector<int64_t> number(v.sites.size(), -1);
      for (size_t i = 0; i < v.sites.size(); ++i) {
        if (!keep[p][i]) {
          ++omitted_;
          continue;
        }
        number[i] = static_cast<int64_t>(total_++);
      }
      numbers_.push_back(std::move(number));
    }
  }
  // The site's number in `sites`; -1 when left out.
  int64_t number(size_t process, size_t site) const { return numbers_[process][site]; }
  bool kept(size_t process, size_t site) const { return number(process, site) >= 0; }
  size_t written() const { return total_; }
  size_t omitted() const { return omitted_; }

 private:
  // A site's rank is its best place in any of its process's rankings; the sites within the
  // per-process budgets are kept best rank first up to the document's limit, so with many
  // processes each keeps its first places before any keeps its later ones.
  static void choose(const HeapReport& heap, const SiteBudget& b,
                     std::vector<std::vector<bool>>& keep) {
    using Key = uint64_t (*)(const SiteStats&);
    Key temporary = [](const SiteStats& s) { return s.temporary; };
    struct Candidate {
      size_t rank, process, site;
    };
    std::vector<Candidate> candidates;
    for (size_t p = 0; p < heap.processes.size(); ++p) {
      const ProcessHeapView& v = heap.processes[p];
      std::vector<size_t> rank(v.sites.size(), SIZE_MAX);
      auto place = [&](const std::vector<size_t>& order, size_t limit) {
        for (size_t k = 0; k < order.size() && k < limit; ++k)
          rank[order[k]] = std::min(rank[order[k]], k);
      };
      for (Key key :
           {site_bytes, site_allocations, temporary, site_bytes_at_peak, site_leaked_bytes})
        place(top_sites(v, key, b.per_ranking), b.per_ranking);
      place(v.leak_sites, b.leak_and_peak);
      place(v.peak_sites, b.leak_and_peak);
      for (size_t i = 0; i < v.sites.size(); ++i)
        if (rank[i] != SIZE_MAX) candidates.push_back({rank[i], p, i});
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& x, const Candidate& y) { return x.rank < y.rank; });
    if (candidates.size() > b.sites) candidates.resize(b.sites);
    for (const Candidate& c : candidates) keep[c.process][c.site] = true;
  }

  std::vector<std::vector<int64_t>> numbers_;
  size_t total_ = 0;
  size_t omitted_ = 0;
};

// The strings, frames and stacks the written sites use, numbered densely in table order.
class Tables {
 public:
  Tables(const HeapReport& heap, const SiteSelection& selection, size_t functions)
      : table_(*heap.stacks) {
    stack_number_.assign(table_.stack_count(), -1);
    frame_number_.assign(table_.frame_count(), -1);
    for (size_t p = 0; p < heap.processes.size(); ++p) {
      const ProcessHeapView& v = heap.processes[p];
      for (size_t i = 0; i < v.sites.size(); ++i) {
        if (!selection.kept(p, i)) continue;
        mark_stack(v.sites[i].stack);
        if (v.sites[i].function_frame) use_frame(*v.sites[i].function_frame);
      }
      for (size_t f = 0; f < v.functions.size() && f < functions; ++f)
        use_frame(*v.sites[v.functions[f].largest_site].function_frame);
    }
    number_frames();
    number_stacks();
  }

  json stack(uint32_t s) const { return s == kNoStack ? json(nullptr) : json(stack_number_[s]); }
  json name(const std::string& s) { return string(s); }
  json frame(std::optional<uint32_t> f) const {
    return f ? json(frame_number_[*f]) : json(nullptr);
  }
  size_t stacks_written() const { return stacks_.size(); }

  // "strings", "frames" and "stacks", as members of the top-level object.
  void write(std::ostream& out) {
    std::vector<json> function, file, line, module, address, offset, inlined;
    for (uint32_t f : frames_) {
      const Frame& fr = table_.frame(f);
      function.push_back(string(fr.function));
      file.push_back(string(fr.file));
      line.push_back(fr.line ? json(fr.line) : json(nullptr));
      module.push_back(string(fr.module));
      address.push_back(fr.module.empty() ? json(hex_text(fr.address)) : json(nullptr));
      offset.push_back(fr.module.empty() ? json(nullptr) : json(hex_text(fr.offset)));
      inlined.push_back(fr.inlined);
    }
    std::vector<json> frame_of, parent;
    for (const auto& [frame, caller] : stacks_) {
      frame_of.push_back(frame);
      parent.push_back(caller < 0 ? json(nullptr) : json(caller));
    }
    out << ",\n\"strings\":" << dump(strings_);
    out << ",\n\"frames\":{\"function\":" << encode_column(function)
        << ",\"file\":" << encode_column(file) << ",\"line\":" << encode_column(line)
        << ",\"module\":" << encode_column(module) << ",\"address\":" << encode_column(address)
        << ",\"offset\":" << encode_column(offset) << ",\"inlined\":" << encode_column(inlined)
        << "}";
    out << ",\n\"stacks\":{\"frame\":" << encode_column(frame_of)
        << ",\"parent\":" << encode_column(parent) << "}";
  }

 private:
  void mark_stack(uint32_t s) {
    for (; s != kNoStack && stack_number_[s] < 0; s = table_.node(s).parent) {
      stack_number_[s] = 0;
      use_frame(table_.node(s).frame);
    }
  }
  void use_frame(uint32_t f) { frame_number_[f] = 0; }
  // Marked frames (0) get dense numbers in table order, one per distinct frame as written: the
  // same code in images loaded at other addresses (each exec, each program run) is one frame.
  void number_frames() {
    std::unordered_map<std::string, int64_t> by_content;
    for (size_t i = 0; i < frame_number_.size(); ++i) {
      if (frame_number_[i] < 0) continue;
      const Frame& f = table_.frame(static_cast<uint32_t>(i));
      std::string key = f.module + '\0' + hex_text(f.module.empty() ? f.address : f.offset) + '\0' +
                        f.function + '\0' + f.file + '\0' + std::to_string(f.line) +
                        (f.inlined ? "i" : "");
      auto [it, added] = by_content.try_emplace(std::move(key), frames_.size());
      if (added) {
        frames_.push_back(static_cast<uint32_t>(i));
      } else {
        ++frames_merged_;
      }
      frame_number_[i] = it->second;
    }
  }
  // Marked stacks likewise, one per distinct (frame, caller) as written; a caller is numbered
  // before its callees since the table holds it first.
  void number_stacks() {
    if (frames_merged_ == 0) {  // then no two stacks merge either
      for (size_t i = 0; i < stack_number_.size(); ++i) {
        if (stack_number_[i] < 0) continue;
        const StackTable::Node& n = table_.node(static_cast<uint32_t>(i));
        stack_number_[i] = static_cast<int64_t>(stacks_.size());
        stacks_.push_back(
            {frame_number_[n.frame], n.parent == kNoStack ? -1 : stack_number_[n.parent]});
      }
      return;
    }
    std::unordered_map<uint64_t, int64_t> by_content;
    for (size_t i = 0; i < stack_number_.size(); ++i) {
      if (stack_number_[i] < 0) continue;
      const StackTable::Node& n = table_.node(static_cast<uint32_t>(i));
      int64_t parent = n.parent == kNoStack ? -1 : stack_number_[n.parent];
      uint64_t key =
          static_cast<uint64_t>(frame_number_[n.frame]) << 32 | static_cast<uint32_t>(parent);
      auto [it, added] = by_content.try_emplace(key, stacks_.size());
      if (added) stacks_.push_back({frame_number_[n.frame], parent});
      stack_number_[i] = it->second;
    }
  }
  // The number of `s` in the strings table (null for an empty one).
  json string(const std::string& s) {
    if (s.empty()) return nullptr;
    auto [it, added] = string_number_.try_emplace(s, strings_.size());
    if (added) strings_.push_back(s);
    return it->second;
  }

  const StackTable& table_;
  std::vector<int64_t> stack_number_, frame_number_;
  std::vector<uint32_t> frames_;  // a table frame per written frame
  size_t frames_merged_ = 0;      // table frames written as another one (the same code elsewhere)
  std::vector<std::pair<int64_t, int64_t>> stacks_;  // written (frame, caller; -1: none)
  json strings_ = json::array();
  std::unordered_map<std::string, size_t> string_number_;
};

struct Context {
  const AnalysisReport& report;
  const Session& session;
  const HeapReport& heap;
  const SiteSelection& selection;
  Tables& tables;
  size_t functions;  // written per process, largest first
};

// A sampled trace's 95 % interval of an estimate, [low, high], rounded.
json interval_json(const Estimate& e) {
  return json::array({std::llround(e.low()), std::llround(e.high())});
}

// A site's intervals; null for a site of an exact trace.
json site_estimate_json(const SiteEstimate* e) {
  if (e == nullptr) return nullptr;
  return {{"allocations", interval_json(e->allocations)},
          {"allocated_bytes", interval_json(e->allocated_bytes)},
          {"leaked_allocations", interval_json(e->live_allocations)},
          {"leaked_bytes", interval_json(e->live_bytes)},
          {"peak_bytes", interval_json(e->peak_bytes)}};
}

// What a sampled trace's figures are; null for an exact trace.
json sampling_json(const ProcessAnalysis& p) {
  const HeapEstimates* e = p.estimates();
  if (e == nullptr) return nullptr;
  json exact = json::array();
  if (e->sampling.phase == 1) exact = {"total_allocations", "total_frees", "total_allocated_bytes"};
  return {{"mean_bytes", e->sampling.mean_bytes},
          {"seed", e->sampling.seed},
          {"exact", exact},
          // A site with no sampled allocation is absent; with 95 % confidence it allocated
          // fewer bytes than this (no point of a Poisson process of this mean fell in them).
          {"unseen_site_bytes_below",
           std::llround(2.995732 * static_cast<double>(e->sampling.mean_bytes))},
          {"peak_heap_bytes", interval_json(e->peak_bytes)},
          {"leaked_bytes", interval_json(e->live_bytes)},
          {"leaked_allocations", interval_json(e->live_allocations)}};
}

// The written sites in order, as (process, site index) pairs.
std::vector<std::pair<size_t, size_t>> written_sites(const HeapReport& heap,
                                                     const SiteSelection& selection) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t p = 0; p < heap.processes.size(); ++p)
    for (size_t i = 0; i < heap.processes[p].sites.size(); ++i)
      if (selection.kept(p, i)) out.emplace_back(p, i);
  return out;
}

// `"name":COLUMN` with value(row) giving each entry as JSON, in the column's shortest encoding.
template <typename Rows, typename Value>
void column(std::ostream& out, const char* name, const Rows& rows, Value value,
            bool first = false) {
  std::vector<json> values;
  values.reserve(rows.size());
  for (const auto& row : rows) values.push_back(value(row));
  out << (first ? "\n\"" : ",\n\"") << name << "\":" << encode_column(values);
}

// The sites table: per site its `process` and its `row` in `distinct`, the table of every other
// column with one row per distinct combination of them. Images of one executable (each fork,
// each exec of a shell script) repeat many sites whole, figures included: those are written once.
void write_sites(const Context& c, std::ostream& out) {
  using Row = std::pair<size_t, size_t>;
  std::vector<Row> rows = written_sites(c.heap, c.selection);
  auto site = [&](const Row& r) -> const SiteView& {
    return c.heap.processes[r.first].sites[r.second];
  };
  using Count = uint64_t (*)(const SiteStats&);
  static const std::pair<const char*, Count> kCounts[] = {
      {"allocations", [](const SiteStats& s) { return s.counts.allocations; }},
      {"frees", [](const SiteStats& s) { return s.counts.frees; }},
      {"allocated_bytes", [](const SiteStats& s) { return s.counts.allocated_bytes; }},
      {"freed_bytes", [](const SiteStats& s) { return s.counts.freed_bytes; }},
      {"temporary_allocations", [](const SiteStats& s) { return s.temporary; }},
      {"leaked_allocations", [](const SiteStats& s) { return s.live_allocations; }},
      {"leaked_bytes", [](const SiteStats& s) { return s.live_bytes; }},
      {"peak_allocations", [](const SiteStats& s) { return s.peak_allocations; }},
      {"peak_bytes", [](const SiteStats& s) { return s.peak_bytes; }}};
  std::vector<std::pair<std::string, std::function<json(const Row&)>>> fields = {
      {"stack", [&](const Row& r) { return c.tables.stack(site(r).stack); }},
      // where in its stack the site's function is: a digit or two where a frame's number takes five
      {"function_depth", [&](const Row& r) {
         return site(r).function_frame ? json(site(r).function_depth) : json(nullptr);
       }}};
  for (const auto& [name, value] : kCounts)  // the lambda keeps its own copy of the getter
    fields.emplace_back(name,
                        [&site, get = value](const Row& r) { return json(get(*site(r).stats)); });
  fields.emplace_back("estimate", [&](const Row& r) {  // null unless the trace is sampled
    const HeapEstimates* e = c.session.processes[r.first]->analysis->estimates();
    return site_estimate_json(e ? e->site(site(r).stats->stack_id) : nullptr);
  });
  fields.emplace_back("sizes", [&](const Row& r) { return histogram_json(site(r).stats->sizes); });
  fields.emplace_back("lifetimes_ns",
                      [&](const Row& r) { return histogram_json(site(r).stats->lifetimes); });
  std::unordered_map<std::string, size_t> distinct;  // a row's values as text -> its number
  std::vector<Row> firsts;                           // the first site of each distinct row
  std::vector<json> row_of;
  row_of.reserve(rows.size());
  for (const Row& r : rows) {
    std::string key;
    for (const auto& field : fields) key += dump(field.second(r)) + ';';
    auto [it, added] = distinct.try_emplace(std::move(key), firsts.size());
    if (added) firsts.push_back(r);
    row_of.push_back(it->second);
  }
  out << ",\n\"sites\":{";
  column(
      out, "process", rows, [](const Row& r) { return json(r.first); }, true);
  out << ",\n\"row\":" << encode_column(row_of) << ",\n\"distinct\":{";
  for (size_t f = 0; f < fields.size(); ++f)
    column(out, fields[f].first.c_str(), firsts, fields[f].second, f == 0);
  out << "}}";
}

// The index of `rule` among the rules applied (top-level `suppressions`).
json suppression_index(const HeapReport& heap, const std::optional<SuppressionRule>& rule) {
  if (!rule) return nullptr;
  for (size_t i = 0; i < heap.suppressions.size(); ++i)
    if (heap.suppressions[i].pattern == rule->pattern &&
        heap.suppressions[i].origin == rule->origin)
      return i;
  return nullptr;
}

// The leaks table: every written site with blocks live at the end, largest first per process;
// its kinds (null when unknown) and the suppression that matched it.
void write_leaks(const Context& c, std::ostream& out) {
  using Row = std::pair<size_t, size_t>;
  std::vector<Row> rows;
  std::vector<std::optional<format::KindCounts>> kinds;
  for (size_t p = 0; p < c.heap.processes.size(); ++p)
    for (size_t i : c.heap.processes[p].leak_sites) {
      if (!c.selection.kept(p, i)) continue;
      rows.emplace_back(p, i);
      kinds.push_back(site_leak_kinds(*c.session.processes[p]->analysis,
                                      c.heap.processes[p].sites[i].stats->stack_id));
    }
  auto site = [&](const Row& r) -> const SiteView& {
    return c.heap.processes[r.first].sites[r.second];
  };
  std::vector<size_t> index(rows.size());
  for (size_t k = 0; k < index.size(); ++k) index[k] = k;
  out << ",\n\"leaks\":{";
  column(
      out, "site", rows, [&](const Row& r) { return json(c.selection.number(r.first, r.second)); },
      true);
  column(out, "kind", index, [&](size_t k) {
    std::optional<format::LeakKind> kind = kinds[k] ? leading_kind(*kinds[k]) : std::nullopt;
    return kind ? json(kLeakKindNames[static_cast<size_t>(*kind)]) : json(nullptr);
  });
  for (size_t kind = 0; kind < format::kLeakKinds; ++kind) {
    std::string name = kLeakKindNames[kind];
    column(out, (name + "_allocations").c_str(), index,
           [&](size_t k) { return kinds[k] ? json((*kinds[k])[kind].blocks) : json(nullptr); });
    column(out, (name + "_bytes").c_str(), index,
           [&](size_t k) { return kinds[k] ? json((*kinds[k])[kind].bytes) : json(nullptr); });
  }
  column(out, "suppression", rows,
         [&](const Row& r) { return suppression_index(c.heap, site(r).suppressed_by); });
  out << "}";
}

// The sites grouped by function, largest allocated bytes first, as columns: the name (in
// `strings`), the frame of its largest site, and the figures summed over its sites.
json functions_json(const Context& c, const ProcessHeapView& v) {
  std::vector<json> name, frame, sites;
  using Field = uint64_t (*)(const SiteStats&);
  static const std::pair<const char*, Field> kFigures[] = {
      {"allocations", [](const SiteStats& s) { return s.counts.allocations; }},
      {"allocated_bytes", [](const SiteStats& s) { return s.counts.allocated_bytes; }},
      {"temporary_allocations", [](const SiteStats& s) { return s.temporary; }},
      {"peak_bytes", [](const SiteStats& s) { return s.peak_bytes; }},
      {"leaked_allocations", [](const SiteStats& s) { return s.live_allocations; }},
      {"leaked_bytes", [](const SiteStats& s) { return s.live_bytes; }}};
  std::vector<std::vector<json>> figures(std::size(kFigures));
  for (size_t k = 0; k < v.functions.size() && k < c.functions; ++k) {
    const FunctionView& f = v.functions[k];
    name.push_back(c.tables.name(f.name));
    frame.push_back(c.tables.frame(v.sites[f.largest_site].function_frame));
    sites.push_back(f.sites);
    for (size_t i = 0; i < figures.size(); ++i) figures[i].push_back(kFigures[i].second(f.totals));
  }
  json out = {{"function", encoded(name)}, {"frame", encoded(frame)}, {"sites", encoded(sites)}};
  for (size_t i = 0; i < figures.size(); ++i) out[kFigures[i].first] = encoded(figures[i]);
  out["omitted"] = v.functions.size() - name.size();
  return out;
}

// A process's peak, and how many of the sites live at that moment (those with `peak_bytes`) a
// bounded report left out.
json peak_json(const Context& c, size_t p) {
  const ProcessAnalysis& analysis = *c.session.processes[p]->analysis;
  const HeapTotals& t = analysis.heap().totals();
  if (t.peak_bytes == 0) return nullptr;
  size_t omitted = 0;
  for (size_t i : c.heap.processes[p].peak_sites) omitted += c.selection.kept(p, i) ? 0 : 1;
  return {{"process", p},          {"pid", analysis.info().pid},        {"stamp_ns", t.peak_stamp},
          {"bytes", t.peak_bytes}, {"allocations", t.peak_allocations}, {"sites_omitted", omitted}};
}

// Columns, one entry per bucket.
json heap_over_time_json(const HeapTimeline& tl) {
  std::vector<json> start, live, live_peak, allocations, frees, allocated, freed;
  for (const HeapBucket& b : tl.buckets()) {
    start.push_back(b.start_ns);
    live.push_back(b.live_bytes_end);
    live_peak.push_back(b.live_bytes_peak);
    allocations.push_back(b.allocations);
    frees.push_back(b.frees);
    allocated.push_back(b.allocated_bytes);
    freed.push_back(b.freed_bytes);
  }
  return {{"bucket_ns", tl.bucket_ns()},           {"start_ns", encoded(start)},
          {"live_bytes", encoded(live)},           {"live_bytes_peak", encoded(live_peak)},
          {"allocations", encoded(allocations)},   {"frees", encoded(frees)},
          {"allocated_bytes", encoded(allocated)}, {"freed_bytes", encoded(freed)}};
}

json thread_json(size_t p, const ProcessAnalysis& analysis, const ThreadView& t) {
  const ThreadInfo& info = *t.info;
  return {{"process", p},
          {"pid", analysis.info().pid},
          {"tid", info.tid},
          {"name", info.name},
          {"parent_tid", info.parent_tid ? json(info.parent_tid) : json(nullptr)},
          {"start_ns", info.start_stamp},
          {"end_ns", info.end_stamp ? json(info.end_stamp) : json(nullptr)},
          {"end_at_process_end", info.end_at_process_end},
          {"known_from", thread_source_name(info.source)},
          {"allocations", t.heap.counts.allocations},
          {"frees", t.heap.counts.frees},
          {"allocated_bytes", t.heap.counts.allocated_bytes},
          {"freed_bytes", t.heap.counts.freed_bytes},
          {"temporary_allocations", t.heap.temporary},
          {"live_allocations", t.heap.live_allocations},
          {"live_bytes", t.heap.live_bytes},
          {"cpu_time_ns", t.cpu_time_ns ? json(*t.cpu_time_ns) : json(nullptr)},
          {"ring_waits", info.ring_waits},
          {"ring_wait_ns", info.ring_wait_ns},
          {"exact_cpu", info.cpu_at_start && info.cpu_at_end}};
}

json leak_check_json(const ProcessAnalysis& p) {
  const format::LeakScanRecord* scan = p.leak_scan();
  json j = {{"status", leak_check_status(p)}, {"complete", process_leak_kinds(p).has_value()}};
  if (scan == nullptr) return j;
  j["freeres"] = freeres_outcome(scan->freeres);
  j["per_site"] = scan->level == format::LeakCheckLevel::kFull;
  j["duration_ns"] = scan->duration_ns;
  j["root_bytes"] = scan->root_bytes;
  j["block_bytes"] = scan->block_bytes;
  j["threads_scanned"] = scan->threads_scanned;
  j["threads_unscanned"] = scan->threads_unscanned;
  return j;
}

// The number of the site holding a fork child's inherited blocks; null for none.
json inherited_site(const Context& c, size_t p) {
  const ProcessHeapView& v = c.heap.processes[p];
  for (size_t i = 0; i < v.sites.size(); ++i)
    if (v.sites[i].stats->stack_id == kInheritedStack && c.selection.kept(p, i))
      return c.selection.number(p, i);
  return nullptr;
}

// A recommendation names its site by the trace's stack id, which this document does not carry:
// in its place, the site's row in `sites` and its stack (null when a bounded report left it out).
void name_recommendation_sites(const Context& c, size_t p, json& process) {
  if (!process.contains("performance_insights")) return;
  json& insights = process["performance_insights"];
  if (!insights.is_object() || !insights.contains("recommendations")) return;
  const ProcessHeapView& v = c.heap.processes[p];
  for (json& r : insights["recommendations"]) {
    if (!r.contains("site") || !r["site"].contains("stack_id")) continue;
    uint64_t id = r["site"]["stack_id"].get<uint64_t>();
    r["site"].erase("stack_id");
    r["site"]["site"] = nullptr;
    r["site"]["stack"] = nullptr;
    for (size_t i = 0; i < v.sites.size(); ++i) {
      if (v.sites[i].stats->stack_id != id || !c.selection.kept(p, i)) continue;
      r["site"]["site"] = c.selection.number(p, i);
      r["site"]["stack"] = c.tables.stack(v.sites[i].stack);
      break;
    }
  }
}

// Figures and blocks with nothing measured are left out rather than written as null or empty
// (docs/json-schema.md: absent means not measured): in a run of many short processes most are,
// and as nulls they were a sixth of the document. Array entries stay (their places count).
void drop_unmeasured(json& j) {
  if (j.is_array())
    for (json& entry : j) drop_unmeasured(entry);
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end();) {
    drop_unmeasured(*it);
    bool empty = it->is_null() || ((it->is_object() || it->is_array()) && it->empty());
    it = empty ? j.erase(it) : std::next(it);
  }
}

// The insights of one process, unmeasured figures left out, and its correlations without the
// series they relate, which are the same in every process (top-level `correlations`); a
// correlation with fewer aligned samples than it needs was not measured, and is left out too.
void compact_insights(json& process) {
  for (const char* block : {"performance_insights", "correlations"}) {
    if (!process.contains(block)) continue;
    drop_unmeasured(process[block]);
    if (process[block].empty()) process.erase(block);
  }
  if (process.contains("correlations")) {
    json& all = process["correlations"];
    for (auto it = all.begin(); it != all.end();) {
      bool measured = it->value("samples", size_t{0}) >= insights::kMinCorrelationSamples;
      it->erase("x");
      it->erase("y");
      it = measured ? std::next(it) : all.erase(it);
    }
    if (all.empty()) process.erase("correlations");
  }
  json& metrics = process["metrics"];
  if (metrics.contains("series") && metrics["series"].empty()) metrics.erase("series");
}

// What each correlation relates, `series: {name: {x, y}}`, the same for every process, and
// the aligned samples a process needs for it to be measured.
json correlation_series() {
  json series = json::object();
  for (const insights::Correlation& c : insights::correlations({}))
    series[c.name] = {{"x", c.x}, {"y", c.y}};
  return {{"min_samples", insights::kMinCorrelationSamples}, {"series", series}};
}

// The key of the process `tp` came from: its index in the session.
json parent_key(const Session& session, const TracedProcess& tp) {
  for (size_t i = 0; i < session.processes.size(); ++i)
    if (session.processes[i].get() == tp.parent) return i;
  return nullptr;
}

json process_json(const Context& c, size_t index) {
  const TracedProcess& tp = *c.session.processes[index];
  const ProcessHeapView& v = c.heap.processes[index];
  const ProcessAnalysis& p = *tp.analysis;
  const ProcessInfo& info = p.info();
  json j = {{"key", index}};
  j.update(summary_json(c.report.processes[index].summary));
  j["pid"] = info.pid;
  j["ppid"] = info.ppid;
  j["parent"] = parent_key(c.session, tp);
  j["parent_pid"] = tp.parent ? json(tp.parent->analysis->info().pid) : json(nullptr);
  j["how"] = origin_name(tp.origin);
  j["name"] = process_name(info);
  j["executable"] = info.exe;
  j["argv"] = info.argv;
  j["trace"] = p.path();
  j["malloc_provider"] = info.malloc_provider;
  j["ended"] = describe_end(p);
  j["complete"] = p.read_result().complete;
  j["heap_source"] = p.heap_replayed() ? "replay" : "summary";
  j["warning"] = p.read_result().error.empty() ? json(nullptr) : json(p.read_result().error);
  j["temporary_allocations"] = p.estimates() ? json(nullptr) : json(p.heap().totals().temporary);
  j["leak_check"] = leak_check_json(p);
  j["sampling"] = sampling_json(p);
  j["sidecar_tid"] = p.sidecar_tid() ? json(p.sidecar_tid()) : json(nullptr);
  j["sites"] = v.sites.size();
  j["inherited_site"] = inherited_site(c, index);
  j["peak"] = peak_json(c, index);
  j["functions"] = functions_json(c, v);
  j["heap_over_time"] = heap_over_time_json(p.timeline());
  j["metrics"] = {{"samples", p.metric_samples().size()},
                  {"undecodable_samples", p.undecodable_samples()}};
  // metrics.series, correlations, performance_insights
  insights::add_insights_json(c.report.processes[index].insights, j);
  name_recommendation_sites(c, index, j);
  compact_insights(j);
  if (const ForkSnapshot* inherited = p.inherited()) {
    j["inherited"] = {{"total_allocations", inherited->totals.allocations},
                      {"total_allocated_bytes", inherited->totals.allocated_bytes},
                      {"live_allocations", inherited->totals.live_allocations},
                      {"live_bytes", inherited->totals.live_bytes}};
  }
  return j;
}

// One array member, an entry per line; `each(emit)` calls emit(entry) for every entry.
template <typename Each>
void write_array(std::ostream& out, const char* name, Each each) {
  out << ",\n\"" << name << "\":[";
  bool first = true;
  each([&](const json& entry) {
    out << (first ? "\n" : ",\n") << dump(entry);
    first = false;
  });
  out << "]";
}

json bounded_json(const std::optional<SiteBudget>& budget, const SiteSelection& selection) {
  if (!budget) return nullptr;
  return {{"per_ranking", budget->per_ranking},
          {"leak_and_peak", budget->leak_and_peak},
          {"sites", budget->sites},
          {"sites_written", selection.written()},
          {"sites_omitted", selection.omitted()}};
}

}  // namespace

JsonWritten write_json_report(const AnalysisReport& report, std::ostream& out,
                              const std::optional<SiteBudget>& budget) {
  const Session& session = *report.session;
  const HeapReport& heap = report.heap;
  SiteSelection selection(heap, budget);
  size_t functions = budget ? budget->per_ranking : SIZE_MAX;
  Tables tables(heap, selection, functions);
  Context c{report, session, heap, selection, tables, functions};
  out << "{\"schema\":" << dump(kJsonSchema);
  out << ",\n\"summary\":" << dump(summary_json(report.summary));
  out << ",\n\"bounded\":" << dump(bounded_json(budget, selection));
  out << ",\n\"runtime_modules\":" << dump(runtime_module_prefixes());
  out << ",\n\"correlations\":" << dump(correlation_series());
  json largest_peak = nullptr;
  write_array(out, "processes", [&](auto emit) {
    for (size_t p = 0; p < session.processes.size(); ++p) {
      json j = process_json(c, p);
      if (!j["peak"].is_null() &&
          (largest_peak.is_null() || j["peak"]["bytes"] > largest_peak["bytes"]))
        largest_peak = j["peak"];
      emit(j);
    }
  });
  write_array(out, "threads", [&](auto emit) {
    for (size_t p = 0; p < session.processes.size(); ++p)
      for (const ThreadView& t : heap.processes[p].threads)
        emit(thread_json(p, *session.processes[p]->analysis, t));
  });
  write_sites(c, out);
  write_leaks(c, out);
  json suppressions = json::array();
  for (const SuppressionRule& rule : heap.suppressions)
    suppressions.push_back(suppression_json(rule));
  out << ",\n\"suppressions\":" << dump(suppressions);
  out << ",\n\"peak\":" << dump(largest_peak);
  out << ",\n\"errors\":" << dump(session.errors);
  tables.write(out);
  out << "\n}\n";
  return {selection.written(), selection.omitted()};
}

}  // namespace memscope::analyzer
