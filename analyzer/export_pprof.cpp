// See export_pprof.hpp. Field numbers are those of profile.proto; proto3 leaves zero scalars
// out, and repeated fields may come in any order, so the Profile is written as it is built and
// the tables that are only complete at the end (mappings, string table) are written last.
#include "analyzer/export_pprof.hpp"

#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <tuple>
#include <unordered_map>

namespace memscope::analyzer {
namespace {

// The protocol buffers wire format: a key (field number << 3 | wire type), then a varint
// (type 0) or a varint length and that many bytes (type 2).
class Proto {
 public:
  void uint(int field, uint64_t v) {
    if (v == 0) return;
    key(field, 0);
    varint(v);
  }
  void bytes(int field, const std::string& s) {
    key(field, 2);
    varint(s.size());
    buf_ += s;
  }
  void message(int field, const Proto& m) { bytes(field, m.buf_); }
  void packed(int field, const std::vector<uint64_t>& values) {
    Proto p;
    for (uint64_t v : values) p.varint(v);
    if (!values.empty()) message(field, p);
  }
  const std::string& data() const { return buf_; }

 private:
  void key(int field, int type) { varint(static_cast<uint64_t>(field) << 3 | type); }
  void varint(uint64_t v) {
    for (; v >= 0x80; v >>= 7) buf_ += static_cast<char>((v & 0x7f) | 0x80);
    buf_ += static_cast<char>(v);
  }
  std::string buf_;
};

// Field numbers of profile.proto.
namespace field {
enum Profile {
  kSampleType = 1,
  kSample = 2,
  kMapping = 3,
  kLocation = 4,
  kFunction = 5,
  kStringTable = 6,
  kTimeNanos = 9,
  kPeriodType = 11,
  kPeriod = 12,
  kComment = 13,
  kDefaultSampleType = 14
};
}  // namespace field

std::string hex(const std::string& bytes);

struct MappingRecord {
  const ModuleInfo* module;
  bool main = false;  // the first process's executable: pprof takes the first mapping as "File"

  bool has_functions = false;  // pprof symbolizes a mapping itself only when these are false
  bool has_filenames = false;
  bool has_lines = false;
  bool has_inline = false;
};

class ProfileBuilder {
 public:
  explicit ProfileBuilder(uint64_t sample_bytes);
  void add_process(const ProcessHeapView& v);
  std::string finish();

 private:
  int64_t str(const std::string& s);
  uint64_t mapping(const ModuleInfo* m);
  uint64_t function(const Frame& f);
  uint64_t location(size_t process, const Frame* const* frames, size_t count, uint64_t mapping);
  uint64_t pseudo_location(const std::string& name);
  std::vector<uint64_t> locations(size_t process, const ProcessAnalysis& p, const SiteView& site);
  void sample(const ProcessAnalysis& p, const SiteView& site);

  Proto profile_;
  std::vector<std::string> strings_{""};  // index 0 must be the empty string
  std::unordered_map<std::string, int64_t> string_ids_{{"", 0}};
  std::vector<MappingRecord> mappings_;
  std::map<const ModuleInfo*, uint64_t> mapping_ids_;
  std::map<std::pair<std::string, std::string>, uint64_t> functions_;     // (name, file)
  std::map<std::tuple<size_t, uint64_t, uint64_t>, uint64_t> locations_;  // process, map, addr
  std::map<std::string, uint64_t> pseudo_;
  size_t processes_ = 0;
  std::string main_exe_;
  uint64_t time_nanos_ = 0;
};

Proto value_type(int64_t type, int64_t unit) {
  Proto p;
  p.uint(1, static_cast<uint64_t>(type));
  p.uint(2, static_cast<uint64_t>(unit));
  return p;
}

// A sampled trace's values are the analyzer's unbiased estimates, already weighted (pprof
// scales nothing): the sample types say so by their names, `_estimate` appended, and the
// period is the agent's mean sampling interval in bytes.
ProfileBuilder::ProfileBuilder(uint64_t sample_bytes) {
  const std::string suffix = sample_bytes != 0 ? "_estimate" : "";
  const std::pair<const char*, const char*> types[] = {{"alloc_objects", "count"},
                                                       {"alloc_space", "bytes"},
                                                       {"inuse_objects", "count"},
                                                       {"inuse_space", "bytes"}};
  for (const auto& [type, unit] : types)
    profile_.message(field::kSampleType, value_type(str(type + suffix), str(unit)));
  profile_.message(field::kPeriodType, value_type(str("space"), str("bytes")));
  profile_.uint(field::kPeriod, sample_bytes != 0 ? sample_bytes : 1);  // exact: every one
  profile_.uint(field::kDefaultSampleType, static_cast<uint64_t>(str("alloc_space" + suffix)));
  if (sample_bytes != 0)
    profile_.uint(
        field::kComment,
        static_cast<uint64_t>(str("memscope: sampled (one byte in " + std::to_string(sample_bytes) +
                                  " on average): every value is an estimate")));
}

int64_t ProfileBuilder::str(const std::string& s) {
  auto [it, added] = string_ids_.emplace(s, static_cast<int64_t>(strings_.size()));
  if (added) strings_.push_back(s);
  return it->second;
}

uint64_t ProfileBuilder::mapping(const ModuleInfo* m) {
  if (m == nullptr) return 0;
  auto [it, added] = mapping_ids_.emplace(m, mappings_.size() + 1);
  if (added) mappings_.push_back({m, processes_ == 0 && m->path == main_exe_});
  return it->second;
}

uint64_t ProfileBuilder::function(const Frame& f) {
  auto [it, added] = functions_.emplace(std::make_pair(f.function, f.file), functions_.size() + 1);
  if (added) {
    Proto fn;
    fn.uint(1, it->second);
    fn.uint(2, static_cast<uint64_t>(str(f.function)));
    fn.uint(3, static_cast<uint64_t>(str(f.function)));  // only the demangled name is known
    fn.uint(4, static_cast<uint64_t>(str(f.file)));
    profile_.message(field::kFunction, fn);
  }
  return it->second;
}

// One recorded address: its inlined frames first, the real function last, as profile.proto
// orders Lines ("line[i] is inlined into line[i+1]"). Unnamed frames get no Line, so pprof can
// still symbolize the address from the mapping's file.
uint64_t ProfileBuilder::location(size_t process, const Frame* const* frames, size_t count,
                                  uint64_t mapping_id) {
  uint64_t address = frames[0]->address;
  auto [it, added] =
      locations_.emplace(std::make_tuple(process, mapping_id, address), locations_.size() + 1);
  if (!added) return it->second;
  Proto loc;
  loc.uint(1, it->second);
  loc.uint(2, mapping_id);
  loc.uint(3, address);
  MappingRecord* rec = mapping_id ? &mappings_[mapping_id - 1] : nullptr;
  for (size_t i = 0; i < count; ++i) {
    const Frame& f = *frames[i];
    if (f.function.empty()) continue;
    Proto line;
    line.uint(1, function(f));
    line.uint(2, f.line);
    loc.message(4, line);
    if (rec) {
      rec->has_functions = true;
      rec->has_filenames |= !f.file.empty();
      rec->has_lines |= f.line != 0;
      rec->has_inline |= f.inlined;
    }
  }
  profile_.message(field::kLocation, loc);
  return it->second;
}

// A site without frames keeps its weight under a frame that says why.
uint64_t ProfileBuilder::pseudo_location(const std::string& name) {
  auto [it, added] = pseudo_.emplace(name, 0);
  if (!added) return it->second;
  Frame f;
  f.function = name;
  const Frame* frames[] = {&f};
  // A process index no process has, one per name, keeps pseudo locations apart.
  it->second = location(SIZE_MAX - pseudo_.size(), frames, 1, 0);
  return it->second;
}

std::vector<uint64_t> ProfileBuilder::locations(size_t process, const ProcessAnalysis& p,
                                                const SiteView& site) {
  std::vector<uint64_t> ids;
  if (!site.has_stack())
    ids.push_back(pseudo_location(site.stats->stack_id == kInheritedStack ? "[inherited at fork]"
                                                                          : "[no stack recorded]"));
  std::vector<const Frame*> group;
  for (const Frame* f : site.frames()) {
    group.push_back(f);
    if (f->inlined) continue;  // the frames of one address end with the real function
    const ModuleInfo* m = module_at(p.modules(), f->address, site.stats->first_stamp);
    ids.push_back(location(process, group.data(), group.size(), mapping(m)));
    group.clear();
  }
  if (!group.empty()) {  // a stack cut off inside inlined frames
    const ModuleInfo* m = module_at(p.modules(), group[0]->address, site.stats->first_stamp);
    ids.push_back(location(process, group.data(), group.size(), mapping(m)));
  }
  return ids;
}

void ProfileBuilder::sample(const ProcessAnalysis& p, const SiteView& site) {
  const SiteStats& s = *site.stats;
  if (s.counts.allocations == 0 && s.live_allocations == 0) return;
  Proto sample;
  sample.packed(1, locations(processes_, p, site));
  sample.packed(2,
                {s.counts.allocations, s.counts.allocated_bytes, s.live_allocations, s.live_bytes});
  Proto label;  // which process, when a profile holds several
  label.uint(1, static_cast<uint64_t>(str("pid")));
  label.uint(3, p.info().pid);
  sample.message(3, label);
  profile_.message(field::kSample, sample);
}

void ProfileBuilder::add_process(const ProcessHeapView& v) {
  const ProcessAnalysis& p = *v.process->analysis;
  if (processes_ == 0) main_exe_ = p.info().exe;
  uint64_t start = p.read_result().start_realtime_ns;
  if (start != 0 && (time_nanos_ == 0 || start < time_nanos_)) time_nanos_ = start;
  std::string comment = "memscope: pid " + std::to_string(p.info().pid) + ":";
  for (const std::string& a : p.info().argv) comment += " " + a;
  profile_.uint(field::kComment, static_cast<uint64_t>(str(comment)));
  for (const SiteView& site : v.sites) sample(p, site);
  ++processes_;
}

std::string ProfileBuilder::finish() {
  // Ids stay as assigned; only the order of the messages puts the executable first.
  std::vector<size_t> order(mappings_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_partition(order.begin(), order.end(), [this](size_t i) { return mappings_[i].main; });
  for (size_t i : order) {
    const MappingRecord& r = mappings_[i];
    Proto m;
    m.uint(1, i + 1);
    m.uint(2, r.module->base);
    m.uint(3, r.module->base + r.module->size);
    // file_offset 0: addresses minus the load bias are file addresses (the reports' offsets).
    m.uint(5, static_cast<uint64_t>(str(r.module->path)));
    m.uint(6, static_cast<uint64_t>(str(hex(r.module->build_id))));
    m.uint(7, r.has_functions);
    m.uint(8, r.has_filenames);
    m.uint(9, r.has_lines);
    m.uint(10, r.has_inline);
    profile_.message(field::kMapping, m);
  }
  profile_.uint(field::kTimeNanos, time_nanos_);
  for (const std::string& s : strings_) profile_.bytes(field::kStringTable, s);
  return profile_.data();
}

// The trace keeps a build-id as raw bytes; pprof, like `file` and debuginfod, names it in hex.
std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

bool gzip(const std::string& in, std::string& out) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer rather than zlib's, as pprof reads.
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return false;
  out.resize(deflateBound(&zs, in.size()));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END;
}

}  // namespace

std::string pprof_profile(const HeapReport& heap) {
  ProfileBuilder builder(sampled_mean_bytes(heap));
  for (const ProcessHeapView& v : heap.processes) builder.add_process(v);
  return builder.finish();
}

bool write_pprof(const HeapReport& heap, const std::string& path, std::string& error) {
  std::string compressed;
  if (!gzip(pprof_profile(heap), compressed)) {
    error = "cannot compress the profile";
    return false;
  }
  std::ofstream out(path, std::ios::binary);
  if (!out.write(compressed.data(), static_cast<std::streamsize>(compressed.size()))) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace memscope::analyzer
