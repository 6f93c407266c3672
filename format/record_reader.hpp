// Decodes records of the schema (format/records.hpp) from a chunk's payload: the reader side of
// each record's one field list. Every read is bounds-checked (Cursor), so a damaged chunk makes
// read_record return false, never read past its end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/records.hpp"
#include "format/trace_format.hpp"

namespace memscope::format {

// What the deltas and indexes of one chunk refer to; each chunk starts afresh.
struct ChunkState {
  uint64_t last_stamp = 0;
  uint64_t last_address = 0;
  bool have_base = false;        // a ChunkBase came first: event stamps may be read
  std::vector<AllocInfo> infos;  // the chunk's allocation infos, index 1 first
  std::vector<uint64_t> blocks;  // the addresses of the chunk's allocations, block 1 first
  RecentFrees frees;
  // A new chunk's state, as default-constructed, with the tables keeping their capacity (a
  // reader reuses one per worker thread).
  void restart() {
    last_stamp = 0;
    last_address = 0;
    have_base = false;
    infos.clear();
    blocks.clear();
    frees.clear();
  }
};

// Where each kind of field is read from (format::EventStream): one cursor for all in a
// records chunk, a framed record's body or a trace before version 3.
struct ChunkStreams {
  Cursor* at[kEventStreams];
  explicit ChunkStreams(Cursor& one) : at{&one, &one, &one, &one, &one, &one} {}
  ChunkStreams(Cursor* streams)
      : at{&streams[0], &streams[1], &streams[2], &streams[3], &streams[4], &streams[5]} {}
  bool at_end() const {
    for (const Cursor* c : at)
      if (!c->at_end()) return false;
    return true;
  }
};

// Splits a version 3 events chunk's payload into its streams; false when the lengths do not
// add up to the payload.
inline bool split_streams(const uint8_t* begin, const uint8_t* end, Cursor* out) {
  Cursor head(begin, end);
  uint64_t lengths[kEventStreams];
  uint64_t total = 0;
  for (uint64_t& n : lengths) {
    if (!head.varint(n) || n > head.remaining()) return false;
    total += n;
  }
  if (total != head.remaining()) return false;
  const uint8_t* p = head.position();
  for (int i = 0; i < kEventStreams; ++i) {
    out[i] = Cursor(p, p + lengths[i]);
    p += lengths[i];
  }
  return true;
}

struct FieldReader {
  ChunkStreams& streams;
  ChunkState& state;
  Cursor& c = *streams.at[kFieldStream];

  bool varint(const char*, uint64_t& x) { return c.varint(x); }
  bool svarint(const char*, int64_t& x) { return c.svarint(x); }
  template <typename T>
  bool u8(const char*, T& x) {
    uint8_t b;
    if (!c.u8(b)) return false;
    x = static_cast<T>(b);
    return true;
  }
  bool text(const char*, std::string& s) { return c.bytes(s); }
  bool rest(const char*, std::string& s) {
    s.assign(reinterpret_cast<const char*>(c.position()), c.remaining());
    return c.skip(c.remaining());
  }
  bool stamp(const char*, uint64_t& x) {
    int64_t delta;
    if (!state.have_base || !streams.at[kStampStream]->svarint(delta)) return false;
    x = state.last_stamp += static_cast<uint64_t>(delta);
    return true;
  }
  bool address(const char*, uint64_t& x) {
    int64_t delta;
    if (!streams.at[kAddressStream]->svarint(delta)) return false;
    x = state.last_address += static_cast<uint64_t>(delta);
    return true;
  }
  bool allocated(const char* n, uint64_t& x) {
    uint64_t back;
    if (!streams.at[kReusedStream]->varint(back)) return false;
    if (back == 0 ? !address(n, x) : !state.frees.get(back, x)) return false;
    state.blocks.push_back(x);
    return true;
  }
  bool freed(const char* n, uint64_t& x) {
    uint64_t back;
    if (!streams.at[kFreedStream]->varint(back) || back > state.blocks.size()) return false;
    if (back == 0 && !address(n, x)) return false;
    if (back != 0) x = state.blocks[state.blocks.size() - back];
    state.frees.add(x);
    return true;
  }
  bool new_block(const char*, uint64_t& x) {
    if (!c.varint(x)) return false;
    if (x != 0) state.blocks.push_back(x);
    return true;
  }
  bool frames(const char*, std::vector<uint64_t>& out) {
    uint64_t count;
    if (!c.varint(count) || count > c.remaining()) return false;  // a byte per frame at least
    out.resize(count);
    uint64_t previous = 0;
    for (uint64_t& f : out) {
      int64_t delta;
      if (!c.svarint(delta)) return false;
      f = previous += static_cast<uint64_t>(delta);
    }
    return true;
  }
  bool tail(const char*, uint64_t& x) { return c.at_end() ? (x = 0, true) : c.varint(x); }
  bool alloc_info(const char*, uint64_t& size, uint64_t& stack_id, uint8_t& fn) {
    uint64_t index;
    if (!c.varint(index) || index > state.infos.size()) return false;
    if (index == 0) {
      if (!c.varint(size) || !c.varint(stack_id) || !u8(nullptr, fn)) return false;
      state.infos.push_back({size, stack_id, fn});
      return true;
    }
    const AllocInfo& info = state.infos[index - 1];
    size = info.size;
    stack_id = info.stack_id;
    fn = info.fn;
    return true;
  }
};

// Reads the fields of a record whose type byte was just read. A framed record is read inside
// its frame, and the bytes its list does not know (a later writer's fields) are stepped over.
template <typename R>
bool read_record(ChunkStreams& streams, ChunkState& state, R& record) {
  if constexpr (kFramed<R>) {
    Cursor& c = *streams.at[kFieldStream];
    uint64_t n;
    if (!c.varint(n) || n > c.remaining()) return false;
    Cursor body(c.position(), c.position() + n);
    c.skip(n);
    ChunkStreams inside(body);
    FieldReader v{inside, state};
    return R::fields(v, record);
  } else {
    FieldReader v{streams, state};
    return R::fields(v, record);
  }
}

}  // namespace memscope::format
