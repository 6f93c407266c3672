// The two visitors of a record body declared as one field list (leak_scan.hpp,
// hw_counters.hpp): the list calls u8, varint, text and count on its visitor for each field, so
// the encoder and the decoder cannot disagree. BodyWriter appends each field; BodyReader fills
// it from a body, and refuses a list length that could not fit in the bytes left, each element
// taking at least `min_element_bytes` (a damaged count must not make a reader allocate for it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "format/trace_format.hpp"

namespace memscope::format {

struct BodyWriter {
  std::vector<uint8_t>& out;
  template <typename E>
  bool u8(E& e) {
    out.push_back(static_cast<uint8_t>(e));
    return true;
  }
  bool varint(uint64_t& x) {
    uint8_t buf[10];
    out.insert(out.end(), buf, buf + put_varint(buf, x));
    return true;
  }
  bool text(std::string& s) {
    uint64_t n = s.size();
    varint(n);
    out.insert(out.end(), s.begin(), s.end());
    return true;
  }
  bool count(uint64_t& n) { return varint(n); }
};

struct BodyReader {
  Cursor c;
  uint64_t min_element_bytes;
  template <typename E>
  bool u8(E& e) {
    uint8_t b;
    if (!c.u8(b)) return false;
    e = static_cast<E>(b);
    return true;
  }
  bool varint(uint64_t& x) { return c.varint(x); }
  bool text(std::string& s) { return c.bytes(s); }
  bool count(uint64_t& n) { return c.varint(n) && n <= c.remaining() / min_element_bytes; }
};

// A record's body, written by its field list `fields(visitor, record)` (a generic lambda over
// the list's template). The list takes the record by reference for the reader; the writer only
// reads it, so it visits a copy.
template <typename Record, typename Fields>
void encode_body(const Record& record, std::vector<uint8_t>& out, Fields fields) {
  Record copy = record;
  BodyWriter w{out};
  fields(w, copy);
}

// A record read by its field list; nothing when the body is malformed or has trailing bytes.
template <typename Record, typename Fields>
std::optional<Record> decode_body(const uint8_t* data, size_t size, uint64_t min_element_bytes,
                                  Fields fields) {
  BodyReader r{Cursor(data, data + size), min_element_bytes};
  Record record;
  if (!fields(r, record) || !r.c.at_end()) return std::nullopt;
  return record;
}

}  // namespace memscope::format
