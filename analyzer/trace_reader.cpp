// See trace_reader.hpp.
#include "analyzer/trace_reader.hpp"

#include <xxhash.h>
#include <zstd.h>

#include <cstring>
#include <fstream>

#include "format/trace_format.hpp"

namespace memscope::analyzer {
namespace {

using format::Cursor;
using format::RecordType;

std::vector<std::string> split_nul(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\0', start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Decodes the records of one chunk. Returns false at the first malformed record.
class ChunkDecoder {
 public:
  ChunkDecoder(TraceVisitor& v) : visitor_(v) {}
  bool decode(const uint8_t* begin, const uint8_t* end);

 private:
  bool stamp(Cursor& c, uint64_t& out);
  bool address(Cursor& c, uint64_t& out);
  bool alloc(Cursor& c);
  bool free_record(Cursor& c);
  bool realloc_record(Cursor& c);
  bool stack(Cursor& c);
  bool skippable(Cursor& c, uint8_t type);
  bool process_info(Cursor& c);
  bool module(Cursor& c);
  bool thread_start(Cursor& c);
  bool thread_end(Cursor& c);
  bool thread_name(Cursor& c);
  bool process_end(Cursor& c);

  TraceVisitor& visitor_;
  uint32_t tid_ = 0;
  uint64_t last_stamp_ = 0;
  uint64_t last_address_ = 0;
  bool have_base_ = false;
};

bool ChunkDecoder::address(Cursor& c, uint64_t& out) {
  int64_t delta;
  if (!c.svarint(delta)) return false;
  last_address_ += static_cast<uint64_t>(delta);
  out = last_address_;
  return true;
}

bool ChunkDecoder::stamp(Cursor& c, uint64_t& out) {
  int64_t delta;
  if (!have_base_ || !c.svarint(delta)) return false;
  last_stamp_ += static_cast<uint64_t>(delta);
  out = last_stamp_;
  return true;
}

bool ChunkDecoder::alloc(Cursor& c) {
  HeapEvent e{EventKind::kAlloc, 0, tid_, 0, 0, 0, 0};
  if (!stamp(c, e.stamp) || !c.u8(e.fn) || !address(c, e.ptr) || !c.varint(e.size) ||
      !c.varint(e.stack_id))
    return false;
  visitor_.heap_event(e);
  return true;
}

bool ChunkDecoder::free_record(Cursor& c) {
  HeapEvent e{EventKind::kFree, 0, tid_, 0, 0, 0, 0};
  if (!stamp(c, e.stamp) || !address(c, e.ptr)) return false;
  visitor_.heap_event(e);
  return true;
}

bool ChunkDecoder::realloc_record(Cursor& c) {
  uint8_t fn;
  uint64_t before, after_delta, old_ptr, new_ptr, size, stack_id;
  if (!stamp(c, before) || !c.u8(fn) || !c.varint(after_delta) || !address(c, old_ptr) ||
      !c.varint(new_ptr) || !c.varint(size) || !c.varint(stack_id))
    return false;
  visitor_.heap_event({EventKind::kFree, fn, tid_, before, old_ptr, 0, 0});
  if (new_ptr != 0)
    visitor_.heap_event(
        {EventKind::kAlloc, fn, tid_, before + after_delta, new_ptr, size, stack_id});
  return true;
}

bool ChunkDecoder::stack(Cursor& c) {
  uint64_t id, count;
  if (!c.varint(id) || !c.varint(count) || count > c.remaining()) return false;
  std::vector<uint64_t> frames(count);
  int64_t previous = 0;
  for (auto& f : frames) {
    int64_t delta;
    if (!c.svarint(delta)) return false;
    previous += delta;
    f = static_cast<uint64_t>(previous);
  }
  visitor_.stack(id, frames);
  return true;
}

bool ChunkDecoder::process_info(Cursor& c) {
  ProcessInfo p;
  std::string cmdline;
  uint64_t drop = 0;
  if (!c.varint(p.pid) || !c.varint(p.ppid) || !c.varint(p.parent_pid) || !c.varint(p.fork_stamp) ||
      !c.bytes(p.exe) || !c.bytes(cmdline) || !c.bytes(p.malloc_provider) ||
      !c.varint(p.stack_depth) || !c.varint(p.ring_slots) || !c.varint(drop))
    return false;
  p.argv = split_nul(cmdline);
  p.drop_when_full = drop != 0;
  visitor_.process_info(p);
  return true;
}

bool ChunkDecoder::module(Cursor& c) {
  ModuleInfo m;
  uint8_t loaded;
  if (!c.varint(m.stamp) || !c.u8(loaded) || !c.varint(m.base) || !c.varint(m.size) ||
      !c.bytes(m.path) || !c.bytes(m.build_id))
    return false;
  m.loaded = loaded != 0;
  visitor_.module(m);
  return true;
}

bool ChunkDecoder::thread_start(Cursor& c) {
  ThreadInfo t;
  if (!c.varint(t.start_stamp) || !c.varint(t.tid) || !c.varint(t.parent_tid) || !c.bytes(t.name))
    return false;
  visitor_.thread_start(t);
  return true;
}

bool ChunkDecoder::thread_end(Cursor& c) {
  ThreadInfo t;
  if (!c.varint(t.end_stamp) || !c.varint(t.tid) || !c.bytes(t.name) || !c.varint(t.ring_waits) ||
      !c.varint(t.ring_wait_ns) || !c.varint(t.dropped_events))
    return false;
  t.name = t.name.c_str();  // the agent writes a fixed 16-byte field
  visitor_.thread_end(t);
  return true;
}

bool ChunkDecoder::thread_name(Cursor& c) {
  uint64_t stamp, tid;
  std::string name;
  if (!c.varint(stamp) || !c.varint(tid) || !c.bytes(name)) return false;
  visitor_.thread_name(tid, stamp, name);
  return true;
}

bool ChunkDecoder::process_end(Cursor& c) {
  ProcessEnd e;
  if (!c.varint(e.stamp) || !c.u8(e.reason) || !c.svarint(e.detail) ||
      !c.varint(e.dropped_events) || !c.varint(e.ring_waits))
    return false;
  visitor_.process_end(e);
  return true;
}

// Skippable records are length-framed: decode the ones we know inside their frame, skip the rest.
bool ChunkDecoder::skippable(Cursor& c, uint8_t type) {
  std::string body;
  if (!c.bytes(body)) return false;
  auto* b = reinterpret_cast<const uint8_t*>(body.data());
  Cursor inner(b, b + body.size());
  switch (static_cast<RecordType>(type)) {
    case RecordType::kProcessInfo:
      return process_info(inner);
    case RecordType::kModule:
      return module(inner);
    case RecordType::kThreadStart:
      return thread_start(inner);
    case RecordType::kThreadEnd:
      return thread_end(inner);
    case RecordType::kThreadName:
      return thread_name(inner);
    case RecordType::kProcessEnd:
      return process_end(inner);
    case RecordType::kRegion: {
      uint64_t stamp, id;
      uint8_t begin;
      if (!inner.varint(stamp) || !inner.varint(id) || !inner.u8(begin)) return false;
      visitor_.region(stamp, id, begin != 0);
      return true;
    }
    case RecordType::kMetricSample: {
      uint64_t stamp;
      if (!inner.varint(stamp)) return false;
      visitor_.metric_sample(stamp, body.substr(static_cast<size_t>(inner.position() - b)));
      return true;
    }
    default:
      return true;  // a newer writer's record: skipped by design
  }
}

bool ChunkDecoder::decode(const uint8_t* begin, const uint8_t* end) {
  Cursor c(begin, end);
  while (!c.at_end()) {
    uint8_t type;
    if (!c.u8(type)) return false;
    bool ok = true;
    uint64_t value = 0;
    switch (static_cast<RecordType>(type)) {
      case RecordType::kThreadSwitch:
        ok = c.varint(value) && value <= UINT32_MAX;
        tid_ = static_cast<uint32_t>(value);
        break;
      case RecordType::kChunkBase:
        ok = c.varint(last_stamp_);
        have_base_ = true;
        break;
      case RecordType::kAlloc:
        ok = alloc(c);
        break;
      case RecordType::kFree:
        ok = free_record(c);
        break;
      case RecordType::kRealloc:
        ok = realloc_record(c);
        break;
      case RecordType::kStack:
        ok = stack(c);
        break;
      case RecordType::kWatermark:
        ok = c.varint(value);
        if (ok) visitor_.watermark(value);
        break;
      default:
        ok = type >= static_cast<uint8_t>(RecordType::kFirstSkippableType) && skippable(c, type);
    }
    if (!ok) return false;
  }
  return true;
}

bool read_exact(std::ifstream& in, void* out, size_t n) {
  in.read(static_cast<char*>(out), static_cast<std::streamsize>(n));
  return static_cast<size_t>(in.gcount()) == n;
}

std::string at_chunk(uint64_t index, std::streamoff offset) {
  return "chunk " + std::to_string(index) + " at byte " + std::to_string(offset);
}

bool decompress(const format::ChunkHeader& h, std::vector<uint8_t>& stored,
                std::vector<uint8_t>& raw) {
  if (h.codec == static_cast<uint8_t>(format::Codec::kRaw)) {
    if (h.raw_bytes != h.stored_bytes) return false;
    raw.swap(stored);
    return true;
  }
  if (h.codec != static_cast<uint8_t>(format::Codec::kZstd)) return false;
  raw.resize(h.raw_bytes);
  size_t n = ZSTD_decompress(raw.data(), raw.size(), stored.data(), stored.size());
  return !ZSTD_isError(n) && n == h.raw_bytes;
}

}  // namespace

ReadResult read_trace(const std::string& path, TraceVisitor& visitor, uint64_t max_chunks) {
  ReadResult result;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.error = "cannot open " + path;
    return result;
  }
  format::FileHeader header;
  if (!read_exact(in, &header, sizeof(header)) ||
      std::memcmp(header.magic, format::kFileMagic, sizeof(header.magic)) != 0) {
    result.error = path + " is not a memscope trace (bad or missing file header)";
    return result;
  }
  if (header.version < format::kOldestReadableVersion || header.version > format::kVersion) {
    result.error = path + " has trace format version " + std::to_string(header.version) +
                   "; this memscope-analyze reads versions " +
                   std::to_string(format::kOldestReadableVersion) + " to " +
                   std::to_string(format::kVersion);
    return result;
  }
  in.seekg(header.header_bytes, std::ios::beg);
  result.opened = true;
  result.start_monotonic_ns = header.start_monotonic_ns;
  result.start_realtime_ns = header.start_realtime_ns;
  visitor.file_header(header.start_monotonic_ns, header.start_realtime_ns);

  std::vector<uint8_t> stored, raw;
  for (uint64_t index = 0; index < max_chunks; ++index) {
    std::streamoff offset = in.tellg();
    format::ChunkHeader h;
    in.read(reinterpret_cast<char*>(&h), sizeof(h));
    if (in.gcount() == 0) break;  // clean end of file
    bool header_ok = static_cast<size_t>(in.gcount()) == sizeof(h) &&
                     h.magic == format::kChunkMagic && h.reserved[0] == 0 && h.reserved[1] == 0 &&
                     h.reserved[2] == 0 && h.stored_bytes <= format::kMaxChunkBytes &&
                     h.raw_bytes <= format::kMaxChunkBytes;
    if (!header_ok) {
      result.complete = false;
      result.error = "trace ends in a damaged or partial " + at_chunk(index, offset) +
                     " (the process was probably killed); results cover the chunks before it";
      break;
    }
    stored.resize(h.stored_bytes);
    if (!read_exact(in, stored.data(), stored.size())) {
      result.complete = false;
      result.error = "trace is cut short inside " + at_chunk(index, offset) +
                     " (the process was probably killed); results cover the chunks before it";
      break;
    }
    if (h.sequence != index || XXH64(stored.data(), stored.size(), h.sequence) != h.checksum ||
        !decompress(h, stored, raw)) {
      result.complete = false;
      result.error = "checksum or decompression failed in " + at_chunk(index, offset) +
                     "; that chunk was skipped";
      continue;
    }
    ChunkDecoder decoder(visitor);
    if (!decoder.decode(raw.data(), raw.data() + raw.size())) {
      result.complete = false;
      result.error =
          "malformed record in " + at_chunk(index, offset) + "; the rest of it was skipped";
    }
    ++result.chunks;
  }
  return result;
}

}  // namespace memscope::analyzer
