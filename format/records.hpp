// The trace's record schema: one struct per record type, each with its fields declared once in
// a `fields(v, r)` list. The same list drives the agent's writer (agent/trace_writer.hpp), the
// analyzer's decoder (format/record_reader.hpp) and the documentation check (tests/unit/
// format_test.cpp compares docs/trace-format.md's record table with `describe`). A visitor `v`
// offers one call per kind of field, each `bool kind(const char* name, T& field)`:
//   varint   LEB128;                 svarint  zigzag LEB128;        u8     one byte (enums too)
//   text     varint length + bytes;  rest     the rest of a framed record's body, unframed
//   stamp    an event's stamp: zigzag delta against the previous event's in the chunk (the
//            chunk's ChunkBase record starts it)
//   address  zigzag delta against the previous address field in the chunk (starts at 0)
//   allocated  an allocation's address: k (1 to RecentFrees::kSize) when it is the address of the
//            chunk's k-th latest free (allocators hand out what was just freed), else 0 then
//            an address field (also allowed for such an address: agent/number_table.hpp's
//            index may have forgotten it); either way it numbers the block: the chunk's allocations
//            are numbered 1, 2, ... in record order (a realloc's new block too)
//   freed    the block a free releases: how many allocations back in the chunk it was allocated
//            (1: the latest), or 0 then its address as an address field (a block of an earlier
//            chunk, another process or no allocation the writer saw)
//   new_block  an absolute address, 0 for none; a nonzero one takes the next block number
//   frames   varint count, then each frame as a zigzag delta against the previous one
//   tail     a varint at the end of the body that older writers left out (reads as 0)
//   alloc_info  an allocation's size, stack id and function as an index into the chunk's
//            table of them (AllocInfo)
// In an events chunk each kind goes to a stream of its own (format::EventStream).
// Adding a field means appending it to a list, bumping kVersion when an older reader would
// misread it, and adding it to docs/trace-format.md (the test says where they differ).
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "format/thread_cpu.hpp"
#include "format/trace_format.hpp"

namespace memscope::format {

// --- Heap events and what they refer to (types below kFirstSkippableType) ---

struct ThreadSwitchRecord {  // the heap events that follow belong to this thread
  static constexpr RecordType kType = RecordType::kThreadSwitch;
  static constexpr const char* kName = "ThreadSwitch";
  uint64_t tid = 0;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("tid", r.tid);
  }
};

// What allocations share: their size, stack and function, which an Alloc names by its index
// in the chunk's table (1, 2, ... in order of first use; 0: a new one, whose fields follow).
struct AllocInfo {
  uint64_t size = 0;
  uint64_t stack_id = 0;
  uint8_t fn = 0;
  bool operator==(const AllocInfo&) const = default;
};

// The reader's record of a chunk's latest frees: an allocation at one of their addresses names it
// by how many frees back it was (the writer finds it with agent/number_table.hpp's
// RecentFreeIndex).
struct RecentFrees {
  static constexpr uint32_t kSize = 64;
  uint64_t addresses[kSize] = {};
  uint64_t count = 0;  // frees seen in the chunk
  void add(uint64_t address) { addresses[count++ % kSize] = address; }
  // The address of the k-th latest free (1: the latest); false when there is none.
  bool get(uint64_t k, uint64_t& address) const {
    if (k == 0 || k > kSize || k > count) return false;
    address = addresses[(count - k) % kSize];
    return true;
  }
  void clear() { count = 0; }
};

struct AllocRecord {
  static constexpr RecordType kType = RecordType::kAlloc;
  static constexpr const char* kName = "Alloc";
  uint64_t stamp = 0;
  uint8_t fn = 0;  // AllocFn
  uint64_t ptr = 0;
  uint64_t size = 0;
  uint64_t stack_id = 0;  // 0: none
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.stamp("stamp", r.stamp) && v.alloc_info("info", r.size, r.stack_id, r.fn) &&
           v.allocated("address", r.ptr);
  }
};

// Alloc as versions 1 and 2 wrote it; only the reader knows it.
struct AllocRecordV2 : AllocRecord {
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.stamp("stamp", r.stamp) && v.u8("fn", r.fn) && v.address("address", r.ptr) &&
           v.varint("size", r.size) && v.varint("stack id", r.stack_id);
  }
};

struct FreeRecord {
  static constexpr RecordType kType = RecordType::kFree;
  static constexpr const char* kName = "Free";
  uint64_t stamp = 0;
  uint64_t ptr = 0;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.stamp("stamp", r.stamp) && v.freed("address", r.ptr);
  }
};

// Free as versions 1 and 2 wrote it; only the reader knows it.
struct FreeRecordV2 : FreeRecord {
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.stamp("stamp", r.stamp) && v.address("address", r.ptr);
  }
};

// Two heap events: the old block freed at `stamp`, the new one (unless new_ptr is 0: the block
// was freed) allocated at stamp + after_minus_before.
struct ReallocRecord {
  static constexpr RecordType kType = RecordType::kRealloc;
  static constexpr const char* kName = "Realloc";
  uint64_t stamp = 0;
  uint8_t fn = 0;
  uint64_t after_minus_before = 0;
  uint64_t old_ptr = 0;
  uint64_t new_ptr = 0;
  uint64_t size = 0;
  uint64_t stack_id = 0;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.stamp("stamp", r.stamp) && v.u8("fn", r.fn) &&
           v.varint("after - before", r.after_minus_before) && v.freed("old address", r.old_ptr) &&
           v.new_block("new address", r.new_ptr) && v.varint("size", r.size) &&
           v.varint("stack id", r.stack_id);
  }
};

// Realloc as versions 1 and 2 wrote it; only the reader knows it.
struct ReallocRecordV2 : ReallocRecord {
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.stamp("stamp", r.stamp) && v.u8("fn", r.fn) &&
           v.varint("after - before", r.after_minus_before) &&
           v.address("old address", r.old_ptr) && v.varint("new address", r.new_ptr) &&
           v.varint("size", r.size) && v.varint("stack id", r.stack_id);
  }
};

struct StackRecord {
  static constexpr RecordType kType = RecordType::kStack;
  static constexpr const char* kName = "Stack";
  uint64_t id = 0;
  std::vector<uint64_t> frames;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("id", r.id) && v.frames("frames", r.frames);
  }
};

struct WatermarkRecord {  // every event stamped earlier is in this or an earlier chunk
  static constexpr RecordType kType = RecordType::kWatermark;
  static constexpr const char* kName = "Watermark";
  uint64_t stamp = 0;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("stamp", r.stamp);
  }
};

struct ChunkBaseRecord {  // the base of the stamp deltas, before a chunk's first event
  static constexpr RecordType kType = RecordType::kChunkBase;
  static constexpr const char* kName = "ChunkBase";
  uint64_t stamp = 0;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("stamp", r.stamp);
  }
};

// --- Framed records (kFirstSkippableType and above): a varint body length first ---

struct ProcessInfoRecord {
  static constexpr RecordType kType = RecordType::kProcessInfo;
  static constexpr const char* kName = "ProcessInfo";
  uint64_t pid = 0;
  uint64_t ppid = 0;
  uint64_t parent_pid = 0;  // the traced parent of a fork child, else 0
  uint64_t fork_stamp = 0;
  std::string exe;
  std::string cmdline;          // NUL-separated
  std::string malloc_provider;  // the library whose malloc the program uses
  uint64_t stack_depth = 0;     // 0: stacks off
  uint64_t ring_slots = 0;
  uint64_t drop_when_full = 0;
  uint64_t sidecar_tid = 0;  // memscope's own thread, which writes this record
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("pid", r.pid) && v.varint("ppid", r.ppid) &&
           v.varint("parent pid", r.parent_pid) && v.varint("fork stamp", r.fork_stamp) &&
           v.text("exe", r.exe) && v.text("cmdline", r.cmdline) &&
           v.text("malloc provider", r.malloc_provider) && v.varint("stack depth", r.stack_depth) &&
           v.varint("ring slots", r.ring_slots) && v.varint("drop when full", r.drop_when_full) &&
           v.tail("sidecar tid", r.sidecar_tid);
  }
};

struct ModuleRecord {
  static constexpr RecordType kType = RecordType::kModule;
  static constexpr const char* kName = "Module";
  uint64_t stamp = 0;
  uint8_t loaded = 1;
  uint64_t base = 0;  // load bias
  uint64_t size = 0;  // extent
  std::string path;
  std::string build_id;  // GNU build-id bytes
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("stamp", r.stamp) && v.u8("loaded", r.loaded) && v.varint("base", r.base) &&
           v.varint("size", r.size) && v.text("path", r.path) && v.text("build id", r.build_id);
  }
};

struct ThreadStartRecord {
  static constexpr RecordType kType = RecordType::kThreadStart;
  static constexpr const char* kName = "ThreadStart";
  uint64_t stamp = 0;
  uint64_t tid = 0;
  uint64_t parent_tid = 0;
  std::string name;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("stamp", r.stamp) && v.varint("tid", r.tid) &&
           v.varint("parent tid", r.parent_tid) && v.text("name", r.name);
  }
};

struct ThreadEndRecord {
  static constexpr RecordType kType = RecordType::kThreadEnd;
  static constexpr const char* kName = "ThreadEnd";
  uint64_t stamp = 0;
  uint64_t tid = 0;
  std::string name;
  uint64_t ring_waits = 0;
  uint64_t ring_wait_ns = 0;
  uint64_t dropped_events = 0;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("stamp", r.stamp) && v.varint("tid", r.tid) && v.text("name", r.name) &&
           v.varint("ring waits", r.ring_waits) && v.varint("ring wait ns", r.ring_wait_ns) &&
           v.varint("dropped events", r.dropped_events);
  }
};

struct ThreadNameRecord {  // a rename seen by the sidecar
  static constexpr RecordType kType = RecordType::kThreadName;
  static constexpr const char* kName = "ThreadName";
  uint64_t stamp = 0;
  uint64_t tid = 0;
  std::string name;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("stamp", r.stamp) && v.varint("tid", r.tid) && v.text("name", r.name);
  }
};

struct ProcessEndRecord {
  static constexpr RecordType kType = RecordType::kProcessEnd;
  static constexpr const char* kName = "ProcessEnd";
  uint64_t stamp = 0;
  EndReason reason = EndReason::kUnknown;
  int64_t detail = 0;  // exit status or signal
  uint64_t dropped_events = 0;
  uint64_t ring_waits = 0;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("stamp", r.stamp) && v.u8("reason", r.reason) &&
           v.svarint("detail", r.detail) && v.varint("dropped events", r.dropped_events) &&
           v.varint("ring waits", r.ring_waits);
  }
};

struct RegionRecord {  // a region opened and closed through the C++ API
  static constexpr RecordType kType = RecordType::kRegion;
  static constexpr const char* kName = "Region";
  uint64_t stamp = 0;
  uint64_t id = 0;
  uint8_t begin = 0;  // 1 begin, 0 end
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("stamp", r.stamp) && v.varint("region id", r.id) && v.u8("begin", r.begin);
  }
};

struct MetricSampleRecord {  // body: docs/trace-format-metrics.md
  static constexpr RecordType kType = RecordType::kMetricSample;
  static constexpr const char* kName = "MetricSample";
  uint64_t stamp = 0;
  std::string body;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("stamp", r.stamp) && v.rest("body", r.body);
  }
};

// A framed record whose body another header defines (named beside each use below): the schema
// sees one opaque field, the rest of the record.
template <RecordType Type, const char* Name>
struct BodyFrame {
  static constexpr RecordType kType = Type;
  static constexpr const char* kName = Name;
  std::string body;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.rest("body", r.body);
  }
};

inline constexpr char kHeapSummaryName[] = "HeapSummary";  // body: heap/heap_summary.hpp
using HeapSummaryRecord = BodyFrame<RecordType::kHeapSummary, kHeapSummaryName>;

struct ThreadCpuFrame {  // body: format/thread_cpu.hpp
  static constexpr RecordType kType = RecordType::kThreadCpu;
  static constexpr const char* kName = "ThreadCpu";
  ThreadCpuRecord cpu;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return thread_cpu_fields(v, r.cpu);
  }
};

inline constexpr char kLeakScanName[] = "LeakScan";  // body: format/leak_scan.hpp
using LeakScanFrame = BodyFrame<RecordType::kLeakScan, kLeakScanName>;

struct TraceTruncatedRecord {  // the trace reached its size limit (MEMSCOPE_MAX_TRACE_BYTES)
  static constexpr RecordType kType = RecordType::kTraceTruncated;
  static constexpr const char* kName = "TraceTruncated";
  uint64_t stamp = 0;
  uint64_t limit_bytes = 0;
  template <typename V, typename R>
  static bool fields(V& v, R& r) {
    return v.varint("stamp", r.stamp) && v.varint("limit bytes", r.limit_bytes);
  }
};

inline constexpr char kHwCountersName[] = "HwCounters";  // body: format/hw_counters.hpp
using HwCountersFrame = BodyFrame<RecordType::kHwCounters, kHwCountersName>;

inline constexpr char kSamplingName[] = "Sampling";  // body: format/sampling.hpp
using SamplingFrame = BodyFrame<RecordType::kSampling, kSamplingName>;

// Every record type, in type order: what the documentation check and the tests iterate.
using AllRecords =
    std::tuple<ThreadSwitchRecord, AllocRecord, FreeRecord, ReallocRecord, StackRecord,
               WatermarkRecord, ChunkBaseRecord, ProcessInfoRecord, ModuleRecord, ThreadStartRecord,
               ThreadEndRecord, ThreadNameRecord, ProcessEndRecord, RegionRecord,
               MetricSampleRecord, HeapSummaryRecord, ThreadCpuFrame, LeakScanFrame,
               TraceTruncatedRecord, HwCountersFrame, SamplingFrame>;

template <typename R>
constexpr bool kFramed = R::kType >= RecordType::kFirstSkippableType;
// Heap event records: their first field is the event's stamp (the writer starts a chunk's
// stamp deltas from it).
template <typename R>
constexpr bool kHeapEvent = R::kType == RecordType::kAlloc || R::kType == RecordType::kFree ||
                            R::kType == RecordType::kRealloc;

// A record's field list as text, "name, name Δ, …": what docs/trace-format.md's record table
// shows in its fields column.
struct FieldDescriber {
  std::string out;
  bool add(const char* name, const char* suffix) {
    if (!out.empty()) out += ", ";
    out += name;
    out += suffix;
    return true;
  }
  template <typename T>
  bool varint(const char* n, T&) {
    return add(n, "");
  }
  template <typename T>
  bool svarint(const char* n, T&) {
    return add(n, " (zigzag)");
  }
  template <typename T>
  bool u8(const char* n, T&) {
    return add(n, " u8");
  }
  bool text(const char* n, std::string&) { return add(n, " (bytes)"); }
  bool rest(const char* n, std::string&) { return add(n, " (rest of the record)"); }
  bool stamp(const char* n, uint64_t&) { return add(n, " Δ"); }
  bool address(const char* n, uint64_t&) { return add(n, " Δ"); }
  bool allocated(const char* n, uint64_t&) { return add(n, " (a latest free back, or 0 then Δ)"); }
  bool freed(const char* n, uint64_t&) { return add(n, " (block number back, or 0 then Δ)"); }
  bool new_block(const char* n, uint64_t&) { return add(n, " (numbered unless 0)"); }
  bool frames(const char* n, std::vector<uint64_t>&) { return add(n, " (count, then Δ each)"); }
  bool tail(const char* n, uint64_t&) { return add(n, " (optional)"); }
  bool alloc_info(const char* n, uint64_t&, uint64_t&, uint8_t&) {
    return add(n, " (an index, or 0 then size, stack id, fn u8)");
  }
};

template <typename R>
std::string describe() {
  FieldDescriber d;
  R r;
  R::fields(d, r);
  return d.out;
}

}  // namespace memscope::format
