// The two visitors of a record body declared as one field list (leak_scan.hpp,
// hw_counters.hpp): the list calls u8, varint, text and count on its visitor for each field, so
// the encoder and the decoder cannot disagree. BodyWriter appends each field; BodyReader fills
// it from a body, and refuses a list length that could not fit in the bytes left, each element
// taking at least `min_element_bytes` (a damaged count must not make a reader allocate for it).
#pragma once

#include <cstdint>
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

}  // namespace memscope::format
