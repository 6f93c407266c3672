// Unit tests of the trace format helpers: varints, zigzag and the bounds-checked cursor.
#include <doctest/doctest.h>

#include <limits>
#include <vector>

#include "format/trace_format.hpp"

using namespace memscope::format;

TEST_CASE("varints round-trip at every length, zigzag keeps signs") {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{300},
                     uint64_t{1} << 35, std::numeric_limits<uint64_t>::max()}) {
    uint8_t buf[10];
    size_t n = put_varint(buf, v);
    Cursor c(buf, buf + n);
    uint64_t back = 0;
    REQUIRE(c.varint(back));
    CHECK(back == v);
    CHECK(c.at_end());
  }
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()})
    CHECK(zigzag_decode(zigzag_encode(v)) == v);
  CHECK(zigzag_encode(-1) == 1);
  CHECK(zigzag_encode(1) == 2);
}

TEST_CASE("the cursor refuses to read past the end") {
  uint8_t truncated[] = {0x80, 0x80};  // a varint that never ends
  Cursor c(truncated, truncated + 2);
  uint64_t v;
  CHECK_FALSE(c.varint(v));

  uint8_t too_long[11];
  for (auto& b : too_long) b = 0xff;
  Cursor c2(too_long, too_long + 11);
  CHECK_FALSE(c2.varint(v));

  uint8_t lying_length[] = {5, 'a', 'b'};  // claims 5 bytes, has 2
  Cursor c3(lying_length, lying_length + 3);
  std::string s;
  CHECK_FALSE(c3.bytes(s));
}

TEST_CASE("record sizes stay what the docs say") {
  CHECK(sizeof(FileHeader) == 64);
  CHECK(sizeof(ChunkHeader) == 32);
  CHECK(static_cast<int>(RecordType::kProcessInfo) >=
        static_cast<int>(RecordType::kFirstSkippableType));
  CHECK(static_cast<int>(RecordType::kAlloc) < static_cast<int>(RecordType::kFirstSkippableType));
}
