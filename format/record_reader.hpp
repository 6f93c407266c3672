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

// What the deltas of one chunk run against; each chunk starts afresh.
struct ChunkState {
  uint64_t last_stamp = 0;
  uint64_t last_address = 0;
  bool have_base = false;  // a ChunkBase came first: event stamps may be read
};

struct FieldReader {
  Cursor& c;
  ChunkState& state;

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
    if (!state.have_base || !c.svarint(delta)) return false;
    x = state.last_stamp += static_cast<uint64_t>(delta);
    return true;
  }
  bool address(const char*, uint64_t& x) {
    int64_t delta;
    if (!c.svarint(delta)) return false;
    x = state.last_address += static_cast<uint64_t>(delta);
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
};

// Reads the fields of a record whose type byte was just read. A framed record is read inside
// its frame, and the bytes its list does not know (a later writer's fields) are stepped over.
template <typename R>
bool read_record(Cursor& c, ChunkState& state, R& record) {
  if constexpr (kFramed<R>) {
    uint64_t n;
    if (!c.varint(n) || n > c.remaining()) return false;
    Cursor body(c.position(), c.position() + n);
    c.skip(n);
    FieldReader v{body, state};
    return R::fields(v, record);
  } else {
    FieldReader v{c, state};
    return R::fields(v, record);
  }
}

}  // namespace memscope::format
