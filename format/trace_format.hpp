// The memscope trace format: the one definition shared by the agent (writer) and the analyzer
// (reader). docs/trace-format.md describes the same layout for people; change both together.
//
//   file   := FileHeader Chunk*
//   Chunk  := ChunkHeader payload[stored_bytes]      (payload zstd-compressed when codec == 1)
//   payload:= Record*                                (after decompression: raw_bytes long)
//   Record := u8 type, then the fields of that type (format/records.hpp declares them).
//
// Each chunk decodes on its own (timestamps restart from the chunk's base), so a trace cut short
// by SIGKILL is readable up to its last complete chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace memscope::format {

inline constexpr char kFileMagic[8] = {'M', 'E', 'M', 'S', 'C', 'O', 'P', 'E'};
// Version 2: chunks say what they hold (ChunkHeader::content), and the kHeapSummary record.
// Version 3: an events chunk keeps each kind of field in a stream of its own (EventStream), an
// allocation names its size, stack and function by an index into the chunk's table of them, and
// a free names the block it releases by its number among the chunk's allocations.
inline constexpr uint16_t kVersion = 3;
// The reader accepts every version in [kOldestReadableVersion, kVersion].
inline constexpr uint16_t kOldestReadableVersion = 1;
inline constexpr uint32_t kChunkMagic = 0x4b4e4843;  // "CHNK" little-endian
inline constexpr uint32_t kMaxChunkBytes = 64u << 20;

struct FileHeader {
  char magic[8];
  uint16_t version;
  uint16_t header_bytes;
  uint32_t flags;
  uint64_t pid;
  uint64_t start_monotonic_ns;  // CLOCK_MONOTONIC when the agent started
  uint64_t start_realtime_ns;   // CLOCK_REALTIME at the same moment, for wall-clock display
  uint64_t reserved[3];
};
static_assert(sizeof(FileHeader) == 64);

enum class Codec : uint8_t { kRaw = 0, kZstd = 1 };

// What a chunk holds. Since version 2 the writer keeps heap events apart from everything else,
// so a reader that has the heap summary can step over the event chunks without reading them.
enum class ChunkContent : uint8_t {
  kMixed = 0,    // any record (every chunk of a version 1 trace)
  kRecords = 1,  // no heap events, thread switches, chunk bases or watermarks
  kEvents = 2,   // only heap events, thread switches, chunk bases and watermarks
};

// Since version 3 an events chunk's payload is the lengths of these streams (varints, in this
// order), then the streams: each field of its records goes to the stream of its kind
// (format/records.hpp), so that like values lie side by side, which compresses far better
// than records one after another. A records chunk is one stream, its records one by one.
enum EventStream : int {
  kTypeStream = 0,     // the record type bytes
  kStampStream = 1,    // event stamps
  kAddressStream = 2,  // block addresses
  kFreedStream = 3,    // which block a free releases (format/records.hpp, `freed`)
  kReusedStream = 4,   // which recently freed address an allocation reuses (`allocated`)
  kFieldStream = 5,    // every other field
  kEventStreams = 6,
};

struct ChunkHeader {
  uint32_t magic;
  uint8_t codec;
  uint8_t content;        // ChunkContent
  uint8_t reserved[2];    // zero; a reader treats anything else as a damaged header
  uint32_t stored_bytes;  // bytes of payload that follow in the file
  uint32_t raw_bytes;     // bytes after decompression
  uint64_t sequence;      // 0, 1, 2 ... per file; a gap means a lost chunk
  uint64_t checksum;      // XXH64 of the stored payload, seeded with `sequence`
};
static_assert(sizeof(ChunkHeader) == 32);

// Record types. Types below kFirstSkippableType have fixed field lists known to every reader;
// types at or above it carry a varint byte length first, so an older reader can skip them.
// Each type's fields are declared once, in format/records.hpp.
enum class RecordType : uint8_t {
  kThreadSwitch = 1,
  kAlloc = 2,
  kFree = 3,
  kRealloc = 4,
  kStack = 5,
  kWatermark = 6,
  kChunkBase = 7,
  kFirstSkippableType = 32,  // every type from here on belongs in kRecords chunks
  kProcessInfo = 32,
  kModule = 33,
  kThreadStart = 34,
  kThreadEnd = 35,
  kThreadName = 36,
  kProcessEnd = 37,
  kRegion = 38,
  kMetricSample = 40,
  kHeapSummary = 41,
  kThreadCpu = 42,
  kLeakScan = 43,
  kTraceTruncated = 44,
  kHwCounters = 45,
  kSampling = 46,
};

// Records that go into kEvents chunks; every other type goes into kRecords chunks.
inline bool is_event_record(RecordType t) {
  return t == RecordType::kThreadSwitch || t == RecordType::kAlloc || t == RecordType::kFree ||
         t == RecordType::kRealloc || t == RecordType::kWatermark || t == RecordType::kChunkBase;
}

// Which allocation function produced a block (kAlloc's fn field).
enum class AllocFn : uint8_t {
  kMalloc = 0,
  kCalloc = 1,
  kRealloc = 2,
  kPosixMemalign = 3,
  kAlignedAlloc = 4,
  kMemalign = 5,
  kValloc = 6,
  kPvalloc = 7,
  kReallocarray = 8,
};

enum class EndReason : uint8_t {
  kExit = 0,            // exit() or return from main; detail = status where known
  kUnderscoreExit = 1,  // _exit, _Exit or the exit_group system call; detail = status
  kSignal = 2,          // fatal signal; detail = signal number
  kExec = 3,            // the image was replaced by exec
  kUnknown = 4,
  kRegionEnded = 5,  // a program that linked the agent ended its profiling region
  // The main thread left first and the last thread left by a raw exit system call, so no exit()
  // ran; detail = the status. memscope ended the process (agent/last_thread.hpp).
  kLastThreadExit = 6,
  kQuickExit = 7,  // quick_exit(), after the program's at_quick_exit handlers; detail = status
};

// --- LEB128 varints and zigzag, used by writer and reader alike ---

inline uint64_t zigzag_encode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t zigzag_decode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Writes v at out (which must have 10 bytes free); returns bytes written.
inline size_t put_varint(uint8_t* out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<uint8_t>(v) | 0x80;
    v >>= 7;
  }
  out[n++] = static_cast<uint8_t>(v);
  return n;
}

// Bounds-checked cursor over a decoded chunk payload. Every read reports failure instead of
// reading past the end, so a corrupt chunk can never crash the reader.
class Cursor {
 public:
  Cursor() : Cursor(nullptr, nullptr) {}
  Cursor(const uint8_t* begin, const uint8_t* end) : p_(begin), end_(end) {}
  bool at_end() const { return p_ >= end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const uint8_t* position() const { return p_; }

  bool u8(uint8_t& out) {
    if (p_ >= end_) return false;
    out = *p_++;
    return true;
  }
  bool varint(uint64_t& out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return false;
      uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        out = v;
        return true;
      }
    }
    return false;
  }
  bool svarint(int64_t& out) {
    uint64_t v;
    if (!varint(v)) return false;
    out = zigzag_decode(v);
    return true;
  }
  bool bytes(std::string& out) {
    uint64_t n;
    if (!varint(n) || n > remaining()) return false;
    out.assign(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }
  bool skip(uint64_t n) {
    if (n > remaining()) return false;
    p_ += n;
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace memscope::format
