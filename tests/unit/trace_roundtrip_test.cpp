// Writes traces with the agent's TraceWriter and reads them back with the analyzer's reader:
// records survive, and a trace cut at any byte or with flipped bytes never crashes the reader
// and keeps every chunk before the damage.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <xxhash.h>
#include <zstd.h>

#include <tuple>

#include "agent/trace_writer.hpp"
#include "analyzer/trace_reader.hpp"
#include "format/record_reader.hpp"

namespace fs = std::filesystem;
using memscope::agent::TraceWriter;
namespace format = memscope::format;
using namespace memscope::analyzer;

namespace {

struct Collect : TraceVisitor {
  std::vector<HeapEvent> events;
  std::vector<uint64_t> watermarks;
  std::vector<std::vector<uint64_t>> stacks;
  std::vector<ThreadInfo> starts;
  void heap_event(const HeapEvent& e) override { events.push_back(e); }
  void watermark(uint64_t w) override { watermarks.push_back(w); }
  void stack(uint64_t, const std::vector<uint64_t>& f) override { stacks.push_back(f); }
  void thread_start(const ThreadInfo& t) override { starts.push_back(t); }
};

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("memscope-unit-" + std::to_string(getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

// Three seals of two allocations and a free each, the way the sidecar encodes them; each seal
// writes a records chunk (thread start, stack) and then an events chunk.
std::string write_sample_trace(const fs::path& dir) {
  TraceWriter w;
  std::string error;
  REQUIRE(w.open(dir.c_str(), 4242, 1000, 2000, error));
  for (uint64_t chunk = 0; chunk < 3; ++chunk) {
    uint64_t base = 10000 * (chunk + 1);
    w.write(format::ThreadStartRecord{base, 7, 1, "worker"});
    w.write(format::StackRecord{chunk + 1, {0x401000, 0x400ff0}});
    w.write(format::ThreadSwitchRecord{7});
    for (uint64_t i = 0; i < 2; ++i)
      w.write(format::AllocRecord{base + i, 0, 0x5000 + 0x100 * i + chunk, 32 + i, chunk + 1});
    w.write(format::FreeRecord{base + 5, 0x5000 + chunk});
    w.write(format::WatermarkRecord{base + 6});
    REQUIRE(w.seal_chunk(error));
  }
  return w.path();
}

std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const std::string& path, const std::vector<char>& bytes, size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(n));
}

// Gives every field of a record a value of its own (distinct from its neighbours' and from the
// defaults), through the record's field list.
struct Filler {
  uint64_t next = 1;
  bool varint(const char*, uint64_t& x) { return x = next++ * 1000 + 3, true; }
  bool svarint(const char*, int64_t& x) { return x = -static_cast<int64_t>(next++ * 77), true; }
  template <typename T>
  bool u8(const char*, T& x) {
    return x = static_cast<T>(next++ % 7 + 1), true;
  }
  bool text(const char*, std::string& s) { return s = "text" + std::to_string(next++), true; }
  bool rest(const char*, std::string& s) { return s = "body" + std::to_string(next++), true; }
  bool stamp(const char*, uint64_t& x) { return x = 1'000'000 + next++ * 13, true; }
  bool address(const char*, uint64_t& x) { return x = 0x7f0000001000 + next++ * 48, true; }
  bool allocated(const char* n, uint64_t& x) { return address(n, x); }
  bool freed(const char* n, uint64_t& x) { return address(n, x); }
  bool new_block(const char* n, uint64_t& x) { return address(n, x); }
  bool frames(const char*, std::vector<uint64_t>& f) {
    f = {0x401000 + next, 0x400ff0 + next};
    return ++next, true;
  }
  bool tail(const char* n, uint64_t& x) { return varint(n, x); }
  bool alloc_info(const char* n, uint64_t& size, uint64_t& stack_id, uint8_t& fn) {
    return varint(n, size) && varint(n, stack_id) && u8(n, fn);
  }
};

// Every field of a record as text, through its field list: two records are equal when these are.
struct Printer {
  std::string out;
  template <typename T>
  bool put(const char* name, const T& x) {
    return out += std::string(name) + "=" + std::to_string(x) + ";", true;
  }
  bool varint(const char* n, uint64_t& x) { return put(n, x); }
  bool svarint(const char* n, int64_t& x) { return put(n, x); }
  template <typename T>
  bool u8(const char* n, T& x) {
    return put(n, static_cast<int>(x));
  }
  bool text(const char* n, std::string& s) { return out += std::string(n) + "=" + s + ";", true; }
  bool rest(const char* n, std::string& s) { return text(n, s); }
  bool stamp(const char* n, uint64_t& x) { return put(n, x); }
  bool address(const char* n, uint64_t& x) { return put(n, x); }
  bool allocated(const char* n, uint64_t& x) { return put(n, x); }
  bool freed(const char* n, uint64_t& x) { return put(n, x); }
  bool new_block(const char* n, uint64_t& x) { return put(n, x); }
  bool frames(const char* n, std::vector<uint64_t>& f) {
    for (uint64_t x : f) put(n, x);
    return true;
  }
  bool tail(const char* n, uint64_t& x) { return put(n, x); }
  bool alloc_info(const char* n, uint64_t& size, uint64_t& stack_id, uint8_t& fn) {
    return put(n, size) && put(n, stack_id) && put(n, static_cast<int>(fn));
  }
};

template <typename R>
std::string printed(R r) {
  Printer p;
  R::fields(p, r);
  return p.out;
}

// The decompressed payloads of a trace's chunks with their content, in file order.
std::vector<std::pair<uint8_t, std::vector<uint8_t>>> chunk_payloads(
    const std::vector<char>& bytes) {
  std::vector<std::pair<uint8_t, std::vector<uint8_t>>> out;
  for (size_t at = sizeof(format::FileHeader); at < bytes.size();) {
    format::ChunkHeader h;
    std::memcpy(&h, bytes.data() + at, sizeof(h));
    const char* stored = bytes.data() + at + sizeof(h);
    std::vector<uint8_t> raw(h.raw_bytes);
    if (h.codec == static_cast<uint8_t>(format::Codec::kZstd)) {
      REQUIRE(ZSTD_decompress(raw.data(), raw.size(), stored, h.stored_bytes) == h.raw_bytes);
    } else {
      std::memcpy(raw.data(), stored, h.raw_bytes);
    }
    out.emplace_back(h.content, std::move(raw));
    at += sizeof(h) + h.stored_bytes;
  }
  return out;
}

}  // namespace

TEST_CASE("every record of the schema, written by the agent's writer, reads back field for field") {
  TempDir tmp;
  TraceWriter w;
  std::string error;
  REQUIRE(w.open(tmp.path.c_str(), 4244, 1000, 2000, error));
  Filler filler;
  std::vector<std::string> written;
  std::apply(
      [&](auto... none) {
        auto one = [&](auto record) {
          using R = decltype(record);
          if constexpr (R::kType != format::RecordType::kChunkBase) {  // the writer's own
            R::fields(filler, record);
            written.push_back(printed(record));
            w.write(record);
          }
        };
        (one(none), ...);
      },
      format::AllRecords{});
  REQUIRE(w.seal_chunk(error));

  // Both chunks, records then events, decoded record by record with the schema's reader.
  std::vector<std::string> read_back;
  for (const auto& chunk : chunk_payloads(file_bytes(w.path()))) {
    const std::vector<uint8_t>& payload = chunk.second;
    format::Cursor whole(payload.data(), payload.data() + payload.size());
    format::Cursor parts[format::kEventStreams];
    bool streams = chunk.first == static_cast<uint8_t>(format::ChunkContent::kEvents);
    if (streams)
      REQUIRE(format::split_streams(payload.data(), payload.data() + payload.size(), parts));
    format::ChunkStreams c = streams ? format::ChunkStreams(parts) : format::ChunkStreams(whole);
    format::Cursor& types = *c.at[format::kTypeStream];
    format::ChunkState state;
    while (!types.at_end()) {
      uint8_t type = 0;
      REQUIRE(types.u8(type));
      bool known = false;
      std::apply(
          [&](auto... none) {
            auto one = [&](auto record) {
              using R = decltype(record);
              if (static_cast<uint8_t>(R::kType) != type || known) return;
              known = true;
              REQUIRE(format::read_record(c, state, record));
              if constexpr (R::kType == format::RecordType::kChunkBase) {
                state.last_stamp = record.stamp;
                state.have_base = true;
              } else {
                read_back.push_back(printed(record));
              }
            };
            (one(none), ...);
          },
          format::AllRecords{});
      REQUIRE(known);
    }
    CHECK(c.at_end());
  }
  // Records and heap events went to chunks of their own, so the order differs; the set not.
  CHECK(read_back.size() == written.size());
  for (const std::string& r : written)
    CHECK(std::count(read_back.begin(), read_back.end(), r) == 1);

  // The analyzer's reader takes the whole trace.
  Collect c;
  ReadResult r = read_trace(w.path(), c);
  CHECK(r.complete);
  CHECK(c.events.size() == 4);  // an allocation, a free, a realloc's free and allocation
  CHECK(c.stacks.size() == 1);
  CHECK(c.starts.size() == 1);
}

TEST_CASE("records written by the agent's writer read back exactly") {
  TempDir tmp;
  std::string path = write_sample_trace(tmp.path);
  CHECK(fs::path(path).filename() == "memscope.4242.mst");
  fs::perms mode = fs::status(path).permissions() & fs::perms::all;
  CHECK(mode == (fs::perms::owner_read | fs::perms::owner_write));
  Collect c;
  ReadResult r = read_trace(path, c);
  REQUIRE(r.opened);
  CHECK(r.complete);
  CHECK(r.chunks == 6);
  CHECK(r.start_monotonic_ns == 1000);
  REQUIRE(c.events.size() == 9);
  CHECK(c.events[0].kind == EventKind::kAlloc);
  CHECK(c.events[0].ptr == 0x5000);
  CHECK(c.events[1].ptr == 0x5100);
  CHECK(c.events[1].size == 33);
  CHECK(c.events[2].kind == EventKind::kFree);
  CHECK(c.events[2].stamp == 10005);
  CHECK(c.events[5].ptr == 0x5001);  // deltas restart in each chunk
  CHECK(c.events[3].tid == 7);
  REQUIRE(c.stacks.size() == 3);
  CHECK(c.stacks[0] == std::vector<uint64_t>{0x401000, 0x400ff0});
  CHECK(c.watermarks == std::vector<uint64_t>{10006, 20006, 30006});
  CHECK(c.starts.at(0).name == "worker");
}

TEST_CASE("records and heap events go to chunks of their own, which a reader can select") {
  TempDir tmp;
  std::string path = write_sample_trace(tmp.path);
  std::vector<char> bytes = file_bytes(path);
  std::vector<uint8_t> contents;
  for (size_t at = sizeof(format::FileHeader); at < bytes.size();) {
    format::ChunkHeader h;
    std::memcpy(&h, bytes.data() + at, sizeof(h));
    contents.push_back(h.content);
    at += sizeof(h) + h.stored_bytes;
  }
  CHECK(contents == std::vector<uint8_t>{1, 2, 1, 2, 1, 2});

  Collect records;
  ReadResult only_records = read_trace(path, records, ChunkSelection::kRecords);
  CHECK(only_records.complete);
  CHECK(only_records.chunks == 3);
  CHECK(records.events.empty());
  CHECK(records.watermarks.empty());
  CHECK(records.stacks.size() == 3);
  CHECK(records.starts.size() == 3);

  Collect events;
  CHECK(read_trace(path, events, ChunkSelection::kEvents).complete);
  CHECK(events.events.size() == 9);
  CHECK(events.watermarks.size() == 3);
  CHECK(events.stacks.empty());
  CHECK(events.starts.empty());
}

TEST_CASE("damage in a chunk that was not selected is still reported") {
  TempDir tmp;
  std::string path = write_sample_trace(tmp.path);
  std::vector<char> bytes = file_bytes(path);
  format::ChunkHeader first;
  std::memcpy(&first, bytes.data() + sizeof(format::FileHeader), sizeof(first));
  // The first events chunk's payload: right after the first records chunk and its own header.
  size_t events_payload = sizeof(format::FileHeader) + 2 * sizeof(first) + first.stored_bytes;
  bytes[events_payload] ^= 0x5a;
  write_bytes(path, bytes, bytes.size());
  Collect records;
  ReadResult r = read_trace(path, records, ChunkSelection::kRecords);
  CHECK_FALSE(r.complete);
  CHECK(r.error.find("chunk 1") != std::string::npos);
  CHECK(records.stacks.size() == 3);
}

TEST_CASE("past the size limit the writer drops chunks, then writes only what it is told to") {
  TempDir tmp;
  TraceWriter w;
  std::string error;
  constexpr uint64_t kLimit = 4096;
  w.limit_size(kLimit);
  REQUIRE(w.open(tmp.path.c_str(), 4243, 1000, 2000, error));
  uint64_t stamp = 100;
  while (!w.truncated()) {
    w.write(format::ThreadSwitchRecord{7});
    for (int i = 0; i < 200; ++i) {
      stamp += 977;  // irregular: little to compress
      w.write(format::AllocRecord{stamp, 0, stamp * 2654435761u, stamp % 1000, 0});
    }
    REQUIRE(w.seal_chunk(error));
  }
  uint64_t at_limit = fs::file_size(w.path());
  CHECK(at_limit <= kLimit);
  w.write(format::FreeRecord{stamp + 1, 0x5000});  // dropped: the writer is truncated
  REQUIRE(w.seal_chunk(error));
  CHECK(fs::file_size(w.path()) == at_limit);
  w.write(format::TraceTruncatedRecord{stamp + 2, kLimit});
  REQUIRE(w.seal_past_limit(error));
  CHECK(fs::file_size(w.path()) > at_limit);
  CHECK(fs::file_size(w.path()) <= kLimit + 64);

  struct Marker : Collect {
    uint64_t limit = 0;
    void trace_truncated(uint64_t, uint64_t bytes) override { limit = bytes; }
  } c;
  ReadResult r = read_trace(w.path(), c);
  CHECK(r.complete);  // the reader reads it whole; the analysis (ProcessAnalysis) marks it
  CHECK(c.limit == kLimit);
  CHECK_FALSE(c.events.empty());
  CHECK(c.events.back().stamp <= stamp);
}

TEST_CASE("a second trace for the same pid (an exec'd image) gets the next name") {
  TempDir tmp;
  write_sample_trace(tmp.path);
  CHECK(fs::path(write_sample_trace(tmp.path)).filename() == "memscope.4242.1.mst");
}

TEST_CASE("a symbolic link at the trace path is refused") {
  TempDir tmp;
  fs::create_symlink(tmp.path / "elsewhere", tmp.path / "memscope.4242.mst");
  TraceWriter w;
  std::string error;
  CHECK_FALSE(w.open(tmp.path.c_str(), 4242, 0, 0, error));
  CHECK(error.find("symbolic link") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp.path / "elsewhere"));
}

TEST_CASE("a trace cut at any byte keeps every complete chunk and never crashes") {
  TempDir tmp;
  std::string path = write_sample_trace(tmp.path);
  std::vector<char> bytes = file_bytes(path);
  Collect full;
  read_trace(path, full);
  std::string cut = (tmp.path / "cut.mst").string();
  size_t previous_events = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    write_bytes(cut, bytes, n);
    Collect c;
    ReadResult r = read_trace(cut, c);
    CHECK(c.events.size() >= previous_events);  // more bytes never lose events
    previous_events = c.events.size();
    if (n < sizeof(memscope::format::FileHeader)) CHECK_FALSE(r.opened);
    // A cut between two chunks looks like a clean end (the missing ProcessEnd tells the
    // analysis); anywhere else the reader must say the trace is incomplete.
    if (r.opened && r.complete) CHECK(c.events.size() % 3 == 0);
  }
}

TEST_CASE("a flipped byte costs at most its chunk") {
  TempDir tmp;
  std::string path = write_sample_trace(tmp.path);
  std::vector<char> bytes = file_bytes(path);
  std::string bad = (tmp.path / "bad.mst").string();
  for (size_t i = sizeof(memscope::format::FileHeader); i < bytes.size(); ++i) {
    std::vector<char> copy = bytes;
    copy[i] ^= 0x5a;
    write_bytes(bad, copy, copy.size());
    Collect c;
    ReadResult r = read_trace(bad, c);
    CHECK(r.opened);
    INFO("flipped byte ", i);
    CHECK_FALSE(r.complete);
    CHECK(c.events.size() <= 9);
  }
}

namespace {

// A trace file of `version` holding one raw chunk of `content` with `payload`.
std::string write_raw_trace(const fs::path& dir, uint16_t version, format::ChunkContent content,
                            const std::vector<uint8_t>& payload) {
  format::FileHeader header{};
  std::memcpy(header.magic, format::kFileMagic, sizeof(header.magic));
  header.version = version;
  header.header_bytes = sizeof(header);
  format::ChunkHeader chunk{};
  chunk.magic = format::kChunkMagic;
  chunk.codec = static_cast<uint8_t>(format::Codec::kRaw);
  chunk.content = static_cast<uint8_t>(content);
  chunk.stored_bytes = chunk.raw_bytes = static_cast<uint32_t>(payload.size());
  chunk.checksum = XXH64(payload.data(), payload.size(), 0);
  std::string path = (dir / ("v" + std::to_string(version) + ".mst")).string();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&header), sizeof(header));
  out.write(reinterpret_cast<const char*>(&chunk), sizeof(chunk));
  out.write(reinterpret_cast<const char*>(payload.data()),
            static_cast<std::streamsize>(payload.size()));
  return path;
}

}  // namespace

TEST_CASE("a version 2 trace, records one after another, still reads") {
  TempDir tmp;
  // ChunkBase 1000, ThreadSwitch 7, Alloc (stamp +5, calloc, at 0x40, 24 bytes, stack 3), Free
  // (stamp +2, the same block): version 2's layout, all in one stream.
  std::vector<uint8_t> payload = {7, 0xe8, 0x07, 1, 7, 2, 10, 1, 0x80, 0x01, 24, 3, 3, 4, 0};
  std::string path = write_raw_trace(tmp.path, 2, format::ChunkContent::kEvents, payload);
  Collect c;
  ReadResult r = read_trace(path, c);
  CHECK(r.complete);
  REQUIRE(c.events.size() == 2);
  CHECK(c.events[0].stamp == 1005);
  CHECK(c.events[0].fn == 1);
  CHECK(c.events[0].ptr == 0x40);
  CHECK(c.events[0].size == 24);
  CHECK(c.events[0].stack_id == 3);
  CHECK(c.events[0].tid == 7);
  CHECK(c.events[1].kind == EventKind::kFree);
  CHECK(c.events[1].stamp == 1007);
  CHECK(c.events[1].ptr == 0x40);
}

TEST_CASE("a trace of a version this reader does not know is refused, naming those it reads") {
  TempDir tmp;
  std::string path =
      write_raw_trace(tmp.path, format::kVersion + 1, format::ChunkContent::kRecords, {});
  Collect c;
  ReadResult r = read_trace(path, c);
  CHECK_FALSE(r.opened);
  CHECK(r.error.find("version " + std::to_string(format::kVersion + 1)) != std::string::npos);
  CHECK(r.error.find("reads versions 1 to " + std::to_string(format::kVersion)) !=
        std::string::npos);
}

TEST_CASE("allocations that repeat a size, stack and function name it by index") {
  TempDir tmp;
  TraceWriter w;
  std::string error;
  REQUIRE(w.open(tmp.path.c_str(), 4245, 1000, 2000, error));
  w.write(format::ThreadSwitchRecord{9});
  for (uint64_t i = 0; i < 3000; ++i)
    w.write(format::AllocRecord{5000 + i, static_cast<uint8_t>(i % 2), 0x10000 + 64 * i, 16 + i % 3,
                                1 + i % 5});
  REQUIRE(w.seal_chunk(error));
  Collect c;
  REQUIRE(read_trace(w.path(), c).complete);
  REQUIRE(c.events.size() == 3000);
  for (uint64_t i = 0; i < 3000; ++i) {
    INFO("allocation ", i);
    CHECK(c.events[i].fn == i % 2);
    CHECK(c.events[i].size == 16 + i % 3);
    CHECK(c.events[i].stack_id == 1 + i % 5);
    CHECK(c.events[i].ptr == 0x10000 + 64 * i);
  }
  // 30 distinct infos, written once each (0, size, stack, fn); the rest are one-byte indexes,
  // so an allocation takes its type, stamp, index, "no free's address" (0) and two address bytes.
  format::ChunkHeader events;
  std::vector<char> bytes = file_bytes(w.path());
  std::memcpy(&events, bytes.data() + sizeof(format::FileHeader), sizeof(events));
  CHECK(events.content == static_cast<uint8_t>(format::ChunkContent::kEvents));
  CHECK(events.raw_bytes <= 3000 * 6 + 30 * 3 + 32);
}

TEST_CASE("a free names its block by number, an allocation a latest free, else the address") {
  TempDir tmp;
  TraceWriter w;
  std::string error;
  REQUIRE(w.open(tmp.path.c_str(), 4246, 1000, 2000, error));
  w.write(format::ThreadSwitchRecord{3});
  w.write(format::AllocRecord{5000, 0, 0x9000, 32, 1});  // freed in the next chunk
  REQUIRE(w.seal_chunk(error));
  w.write(format::ThreadSwitchRecord{3});
  constexpr uint64_t kBlocks = 4000;
  uint64_t stamp = 6000;
  for (uint64_t i = 0; i < kBlocks; ++i)
    w.write(format::AllocRecord{stamp++, 0, 0x100000 + 4096 * ((i * 7919) % kBlocks), 16, 2});
  // A realloc's new block is numbered too; its old block was allocated in this chunk.
  w.write(format::ReallocRecord{stamp++, 2, 3, 0x100000, 0x7000, 64, 2});
  w.write(format::FreeRecord{stamp++, 0x7000});
  w.write(format::FreeRecord{stamp++, 0x9000});    // allocated in the chunk before
  w.write(format::FreeRecord{stamp++, 0x123450});  // never allocated: an unmatched free
  w.write(format::FreeRecord{stamp++, 0x9000});    // a second free of the same address
  for (uint64_t i = 1; i < kBlocks; ++i)           // newest first: one byte each mostly
    w.write(format::FreeRecord{stamp++, 0x100000 + 4096 * (((kBlocks - i) * 7919) % kBlocks)});
  // Addresses used again: one freed long ago (by address), the latest free's (by its place).
  const uint64_t latest = 0x100000 + 4096 * (7919 % kBlocks);
  w.write(format::AllocRecord{stamp++, 0, 0x100000, 16, 2});
  w.write(format::AllocRecord{stamp++, 0, latest, 16, 2});
  w.write(format::FreeRecord{stamp++, 0x100000});
  w.write(format::FreeRecord{stamp++, latest});
  REQUIRE(w.seal_chunk(error));
  Collect c;
  REQUIRE(read_trace(w.path(), c).complete);
  std::vector<std::pair<EventKind, uint64_t>> expected{{EventKind::kAlloc, 0x9000}};
  for (uint64_t i = 0; i < kBlocks; ++i)
    expected.push_back({EventKind::kAlloc, 0x100000 + 4096 * ((i * 7919) % kBlocks)});
  expected.push_back({EventKind::kFree, 0x100000});
  expected.push_back({EventKind::kAlloc, 0x7000});
  for (uint64_t ptr : {0x7000, 0x9000, 0x123450, 0x9000})
    expected.push_back({EventKind::kFree, ptr});
  for (uint64_t i = 1; i < kBlocks; ++i)
    expected.push_back({EventKind::kFree, 0x100000 + 4096 * (((kBlocks - i) * 7919) % kBlocks)});
  expected.push_back({EventKind::kAlloc, 0x100000});
  expected.push_back({EventKind::kAlloc, latest});
  expected.push_back({EventKind::kFree, 0x100000});
  expected.push_back({EventKind::kFree, latest});
  REQUIRE(c.events.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("event ", i);
    CHECK(c.events[i].kind == expected[i].first);
    CHECK(c.events[i].ptr == expected[i].second);
  }
}
