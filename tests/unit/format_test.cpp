// Unit tests of the trace format helpers (varints, zigzag, the bounds-checked cursor) and of
// the record schema against its documentation.
#include <doctest/doctest.h>

#include <cctype>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "format/records.hpp"
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

namespace {

// The rows of docs/trace-format.md's record table ("## Records"): type -> "name | fields".
std::map<int, std::string> documented_records() {
  std::ifstream in(std::string(MEMSCOPE_SOURCE_DIR) + "/docs/trace-format.md");
  std::map<int, std::string> rows;
  std::string line;
  bool in_section = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Records";
    if (!in_section || line.rfind("| ", 0) != 0) continue;
    std::vector<std::string> cells;
    for (size_t at = 1; at < line.size();) {
      size_t end = line.find(" |", at);
      if (end == std::string::npos) break;
      cells.push_back(line.substr(at + 1, end - at - 1));
      at = end + 2;
    }
    if (cells.size() < 3 || cells[0].empty() ||
        !std::isdigit(static_cast<unsigned char>(cells[0][0])))
      continue;
    rows[std::stoi(cells[0])] = cells[1] + " | " + cells[2];
  }
  return rows;
}

}  // namespace

TEST_CASE("docs/trace-format.md's record table lists the schema's fields, record for record") {
  std::map<int, std::string> documented = documented_records();
  std::map<int, std::string> schema;
  std::apply(
      [&](auto... none) {
        auto one = [&](auto record) {
          using R = decltype(record);
          schema[static_cast<int>(R::kType)] = std::string(R::kName) + " | " + describe<R>();
        };
        (one(none), ...);
      },
      AllRecords{});
  for (const auto& entry : schema) {  // no structured bindings: INFO captures them
    INFO("record type ", entry.first, " in format/records.hpp: | ", entry.first, " | ",
         entry.second, " |");
    CHECK(documented[entry.first] == entry.second);
  }
  for (const auto& entry : documented) {
    INFO("documented record type ", entry.first, ": ", entry.second);
    CHECK(schema.count(entry.first) == 1);
  }
}
