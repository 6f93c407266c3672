// Writes one trace file: creates it safely (0600, O_EXCL, never through a symlink), encodes
// records of the schema (format/records.hpp) into the current chunks, and seals chunks (zstd +
// XXH64) onto disk. Heap events and everything else fill two chunks of their own (ChunkContent), so
// a reader can step over the events. Keeps the file within a size limit, if given (see
// docs/trace-format.md, "Size limit"). Used only by the sidecar thread, so it needs no locking.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/agent_memory.hpp"
#include "agent/number_table.hpp"
#include "format/records.hpp"
#include "format/trace_format.hpp"

namespace memscope::agent {

class TraceWriter {
 public:
  TraceWriter() = default;
  // A writer in memory that a fork child does not share (agent_memory.hpp's ScopedUnshared):
  // the child starts a writer of its own, so the parent writes this one's tables and buffers
  // after a fork without copy-on-write faults. Its tables grow there too (FieldWriter).
  static std::unique_ptr<TraceWriter> unshared();
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Opens <dir>/memscope.<pid>.mst (or .1.mst, .2.mst ... when an exec'd image of the same pid
  // already wrote one). On failure returns false with a message for the user in `error`.
  bool open(const char* dir, pid_t pid, uint64_t start_monotonic_ns, uint64_t start_realtime_ns,
            std::string& error);
  bool is_open() const { return fd_ >= 0; }
  // 0: no limit. Otherwise a chunk that would take the file past `max_bytes` is dropped instead
  // of written, with everything pending, and the writer is truncated() from then on.
  void limit_size(uint64_t max_bytes) { max_bytes_ = max_bytes; }
  uint64_t size_limit() const { return max_bytes_; }
  bool truncated() const { return truncated_; }
  const std::string& path() const { return path_; }

  // Appends one record of the schema (format/records.hpp) to the chunk it belongs in, encoded
  // by the record's own field list. A heap event first in its chunk is preceded by the chunk's
  // base stamp.
  template <typename R>
  void write(const R& record) {
    if constexpr (format::kHeapEvent<R>) start_event(record.stamp);
    begin(R::kType);
    FieldWriter v{*this};
    if constexpr (format::kFramed<R>) {
      size_t start = records_.own[0].used;
      R::fields(v, record);
      frame_from(start);
    } else {
      R::fields(v, record);
    }
  }

  size_t pending_bytes() const { return records_.used() + events_.used(); }
  // Compresses and writes the current chunks, records first (once truncated: drops them). False
  // when the disk refused (the message is in `error`); tracing should stop then.
  bool seal_chunk(std::string& error);
  // Once truncated: writes the pending records as a chunk past the limit (the truncation
  // marker, the process's end), drops pending events. Callers keep such chunks tiny.
  bool seal_past_limit(std::string& error);
  // Forgets everything encoded since the last seal.
  void discard_pending();

 private:
  // A growing byte buffer: [0, used) holds what was written.
  struct Stream {
    std::vector<uint8_t> buffer;  // grows, never shrinks
    size_t used = 0;
    void varint(uint64_t v) {
      if (buffer.size() < used + 10) grow(buffer.size() * 2 + 64);
      used += format::put_varint(buffer.data() + used, v);
    }
    void u8(uint8_t v) {
      if (buffer.size() == used) grow(buffer.size() * 2 + 64);
      buffer[used++] = v;
    }
    void raw(const uint8_t* data, size_t n);
    void grow(size_t size);
  };

  // The writer's side of a field list (the kinds are listed in format/records.hpp).
  struct FieldWriter {
    TraceWriter& w;
    Stream& fields() { return *w.current_->streams[format::kFieldStream]; }
    bool varint(const char*, uint64_t x) {
      fields().varint(x);
      return true;
    }
    bool svarint(const char*, int64_t x) {
      fields().varint(format::zigzag_encode(x));
      return true;
    }
    template <typename T>
    bool u8(const char*, T x) {
      fields().u8(static_cast<uint8_t>(x));
      return true;
    }
    bool text(const char*, std::string_view s) {
      fields().varint(s.size());
      fields().raw(reinterpret_cast<const uint8_t*>(s.data()), s.size());
      return true;
    }
    bool rest(const char*, std::string_view s) {
      fields().raw(reinterpret_cast<const uint8_t*>(s.data()), s.size());
      return true;
    }
    bool stamp(const char*, uint64_t ns) {
      w.current_->streams[format::kStampStream]->varint(
          format::zigzag_encode(static_cast<int64_t>(ns - w.last_stamp_)));
      w.last_stamp_ = ns;
      return true;
    }
    // Heap addresses cluster, so the delta is a byte or two where the address is six.
    bool address(const char*, uint64_t ptr) {
      w.current_->streams[format::kAddressStream]->varint(
          format::zigzag_encode(static_cast<int64_t>(ptr - w.last_address_)));
      w.last_address_ = ptr;
      return true;
    }
    // An allocation's address, numbered so that its free can name it (`freed`). Allocators
    // hand out blocks just freed: most often it is one of the latest frees' addresses.
    bool allocated(const char* n, uint64_t ptr) {
      memory::ScopedUnshared parent_only;  // where the tables grow
      w.blocks_.add(ptr, ++w.allocations_);
      uint32_t back = w.frees_.find(ptr);
      w.current_->streams[format::kReusedStream]->varint(back);
      return back != 0 || address(n, ptr);
    }
    // A block allocated in this chunk is named by how many allocations back it was: a small
    // number where its address would take two or three bytes. Any other goes as an address.
    bool freed(const char* n, uint64_t ptr) {
      uint32_t number = w.blocks_.take(ptr);
      w.current_->streams[format::kFreedStream]->varint(number ? w.allocations_ + 1 - number : 0);
      w.frees_.add(ptr);
      return number != 0 || address(n, ptr);
    }
    bool new_block(const char*, uint64_t ptr) {
      memory::ScopedUnshared parent_only;  // where the tables grow
      if (ptr != 0) w.blocks_.add(ptr, ++w.allocations_);
      fields().varint(ptr);
      return true;
    }
    bool frames(const char*, const std::vector<uint64_t>& frames) {
      fields().varint(frames.size());
      uint64_t previous = 0;
      for (uint64_t f : frames) {
        fields().varint(format::zigzag_encode(static_cast<int64_t>(f - previous)));
        previous = f;
      }
      return true;
    }
    bool tail(const char* name, uint64_t x) { return varint(name, x); }
    // An allocation's size, stack and function as an index into the chunk's table of them:
    // most allocations repeat one seen before (heaptrack's "allocation info").
    bool alloc_info(const char*, uint64_t size, uint64_t stack_id, uint8_t fn) {
      memory::ScopedUnshared parent_only;  // where the tables grow
      uint32_t index = w.infos_.find_or_add(format::AllocInfo{size, stack_id, fn});
      if (index != 0) return varint(nullptr, index);
      fields().varint(0);
      fields().varint(size);
      fields().varint(stack_id);
      fields().u8(fn);
      return true;
    }
  };

  void begin(format::RecordType type) {
    current_ = format::is_event_record(type) ? &events_ : &records_;
    current_->streams[format::kTypeStream]->u8(static_cast<uint8_t>(type));
  }
  // The chunk's base stamp before its first heap event.
  void start_event(uint64_t stamp_ns) {
    if (chunk_has_base_) return;
    write(format::ChunkBaseRecord{stamp_ns});
    last_stamp_ = stamp_ns;
    chunk_has_base_ = true;
  }
  void forget_chunk_state();
  // Puts the length of the body written since `start` in front of it.
  void frame_from(size_t start);

  // A chunk being filled. A records chunk is one stream (every kind of field in the records'
  // order); an events chunk keeps a stream per kind of field (format::EventStream), since
  // like values side by side compress far better. Stream pointers are the same for a
  // records chunk.
  struct Chunk {
    format::ChunkContent content;
    Stream own[format::kEventStreams];
    Stream* streams[format::kEventStreams];
    explicit Chunk(format::ChunkContent c) : content(c) {
      for (int i = 0; i < format::kEventStreams; ++i)
        streams[i] = c == format::ChunkContent::kEvents ? &own[i] : &own[0];
    }
    size_t used() const {
      size_t n = 0;
      for (const Stream& s : own) n += s.used;
      return n;
    }
    void clear() {
      for (Stream& s : own) s.used = 0;
    }
  };
  // The payload of an events chunk: the streams' lengths, then the streams.
  const std::vector<uint8_t>& assemble(Chunk& chunk);
  bool seal(Chunk& chunk, bool within_limit, std::string& error);
  bool write_all(const void* data, size_t n, std::string& error);
  bool still_our_file();

  int fd_ = -1;
  std::string path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  uint64_t sequence_ = 0;
  uint64_t written_ = 0;    // bytes in the file
  uint64_t max_bytes_ = 0;  // 0: no limit
  bool truncated_ = false;
  uint64_t last_stamp_ = 0;
  uint64_t last_address_ = 0;
  bool chunk_has_base_ = false;
  Chunk records_{format::ChunkContent::kRecords};
  Chunk events_{format::ChunkContent::kEvents};
  Chunk* current_ = &records_;
  // Per chunk: the allocation infos; the blocks allocated and not yet freed, by address, with
  // their numbers among the chunk's allocations (1, 2, ...); the latest frees.
  InfoTable infos_;
  NumberTable blocks_;
  uint32_t allocations_ = 0;  // numbered in the chunk so far
  RecentFreeIndex frees_;
  std::vector<uint8_t> assembled_;
  std::vector<uint8_t> compressed_;
  std::vector<uint8_t> out_;
  struct ZstdContext;
  ZstdContext* zstd_ = nullptr;
};

}  // namespace memscope::agent
