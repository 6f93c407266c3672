// Writes traces with the agent's TraceWriter and reads them back with the analyzer's reader:
// records survive, and a trace cut at any byte or with flipped bytes never crashes the reader
// and keeps every chunk before the damage.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agent/trace_writer.hpp"
#include "analyzer/trace_reader.hpp"

namespace fs = std::filesystem;
using memscope::agent::TraceWriter;
namespace format = memscope::format;
using memscope::format::RecordType;
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
    w.framed(RecordType::kThreadStart, [&] {
      w.varint(base);
      w.varint(7);
      w.varint(1);
      w.bytes("worker");
    });
    w.begin(RecordType::kStack);
    w.varint(chunk + 1);
    w.varint(2);
    w.svarint(0x401000);
    w.svarint(-0x10);
    w.begin(RecordType::kThreadSwitch);
    w.varint(7);
    for (uint64_t i = 0; i < 2; ++i) {
      w.event(RecordType::kAlloc, base + i);
      w.u8(0);
      w.address(0x5000 + 0x100 * i + chunk);
      w.varint(32 + i);
      w.varint(chunk + 1);
    }
    w.event(RecordType::kFree, base + 5);
    w.address(0x5000 + chunk);
    w.begin(RecordType::kWatermark);
    w.varint(base + 6);
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

}  // namespace

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
    w.begin(RecordType::kThreadSwitch);
    w.varint(7);
    for (int i = 0; i < 200; ++i) {
      w.event(RecordType::kAlloc, stamp += 977);  // irregular: little to compress
      w.u8(0);
      w.address(stamp * 2654435761u);
      w.varint(stamp % 1000);
      w.varint(0);
    }
    REQUIRE(w.seal_chunk(error));
  }
  uint64_t at_limit = fs::file_size(w.path());
  CHECK(at_limit <= kLimit);
  w.event(RecordType::kFree, stamp + 1);  // dropped: the writer is truncated
  w.address(0x5000);
  REQUIRE(w.seal_chunk(error));
  CHECK(fs::file_size(w.path()) == at_limit);
  w.framed(RecordType::kTraceTruncated, [&] {
    w.varint(stamp + 2);
    w.varint(kLimit);
  });
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
