// The leak scan's graph (agent/leak_graph.hpp) on a fake address space: memcheck's four kinds
// for the shapes its documentation describes, the allocator-data rule, large blocks read in
// pieces, and the deadline.
#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <vector>

#include "agent/leak_graph.hpp"

using memscope::agent::LeakGraph;
using memscope::agent::MemoryRange;
using memscope::agent::MemorySource;
using memscope::format::LeakKind;

namespace {

// Words at addresses; everything else reads as zero. Counts the ranges read.
class FakeMemory : public MemorySource {
 public:
  void put(uint64_t address, uint64_t value) { words_[address] = value; }
  void read(const MemoryRange* ranges, size_t count, uint8_t* out) override {
    for (size_t k = 0; k < count; ++k) {
      ++ranges_read;
      for (uint64_t a = ranges[k].address; a < ranges[k].address + ranges[k].length; a += 8) {
        auto it = words_.find(a);
        uint64_t v = it == words_.end() ? 0 : it->second;
        std::memcpy(out, &v, 8);
        out += 8;
      }
    }
  }
  size_t ranges_read = 0;

 private:
  std::map<uint64_t, uint64_t> words_;
};

constexpr uint64_t kFar = UINT64_MAX;  // a deadline never reached

LeakKind kind_of(const LeakGraph& g, uint64_t start) {
  for (size_t i = 0; i < g.size(); ++i)
    if (g.block(i).start == start) return g.kind(i);
  FAIL("no block at that start");
  return LeakKind::kDefinitelyLost;
}

void root(LeakGraph& g, std::vector<uint64_t> words, bool allocator_data = false) {
  g.scan_root(words.data(), words.size(), allocator_data);
}

}  // namespace

TEST_CASE("leak graph: reachable, definitely and indirectly lost, possibly lost") {
  // 0x1000 reachable from a root and pointing to 0x2000; 0x3000 lost, heading a list
  // 0x3000 -> 0x4000 -> 0x5000; 0x6000 known only by a pointer into its middle.
  LeakGraph g({{0x1000, 64, 0},
               {0x2000, 64, 0},
               {0x3000, 64, 0},
               {0x4000, 64, 0},
               {0x5000, 64, 0},
               {0x6000, 64, 0}});
  FakeMemory m;
  m.put(0x1008, 0x2000);
  m.put(0x3000, 0x4000);
  m.put(0x4000, 0x5000);
  root(g, {0, 0x1000, 7, 0x6000 + 24});  // 0 and 7 point nowhere
  REQUIRE(g.classify(m, kFar));
  CHECK(kind_of(g, 0x1000) == LeakKind::kReachable);
  CHECK(kind_of(g, 0x2000) == LeakKind::kReachable);
  CHECK(kind_of(g, 0x3000) == LeakKind::kDefinitelyLost);
  CHECK(kind_of(g, 0x4000) == LeakKind::kIndirectlyLost);
  CHECK(kind_of(g, 0x5000) == LeakKind::kIndirectlyLost);
  CHECK(kind_of(g, 0x6000) == LeakKind::kPossiblyLost);
}

TEST_CASE("leak graph: a block reached first through its middle, then at its start, is reachable") {
  LeakGraph g({{0x1000, 64, 0}, {0x2000, 64, 0}});
  FakeMemory m;
  m.put(0x2000, 0x1000);  // 0x2000 (reached at its start) points to 0x1000's start
  root(g, {0x1000 + 16, 0x2000});
  REQUIRE(g.classify(m, kFar));
  CHECK(kind_of(g, 0x1000) == LeakKind::kReachable);
}

TEST_CASE("leak graph: a cycle of lost blocks is one definitely lost block and the rest indirect") {
  LeakGraph g({{0x1000, 32, 0}, {0x2000, 32, 0}, {0x3000, 32, 0}});
  FakeMemory m;
  m.put(0x1000, 0x2000);
  m.put(0x2000, 0x3000);
  m.put(0x3000, 0x1000);
  REQUIRE(g.classify(m, kFar));
  int definite = 0, indirect = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    definite += g.kind(i) == LeakKind::kDefinitelyLost;
    indirect += g.kind(i) == LeakKind::kIndirectlyLost;
  }
  CHECK(definite == 1);
  CHECK(indirect == 2);
}

TEST_CASE("leak graph: glibc's chunk headers in the allocator's data are not pointers") {
  // The next chunk's header lies in the last 8 bytes of a 16-aligned block's usable size.
  LeakGraph g({{0x1000, 24, 0}, {0x2000, 24, 0}});
  FakeMemory m;
  root(g, {0x1000 + 16}, true);   // allocator data: a chunk header, not a pointer
  root(g, {0x2000 + 16}, false);  // the program's data: an interior pointer
  REQUIRE(g.classify(m, kFar));
  CHECK(kind_of(g, 0x1000) == LeakKind::kDefinitelyLost);
  CHECK(kind_of(g, 0x2000) == LeakKind::kPossiblyLost);
}

TEST_CASE("leak graph: a block larger than a batch is read in pieces, to its last word") {
  constexpr uint64_t kBig = 3 << 20;  // 3 MiB: more than one 1 MiB batch
  LeakGraph g({{0x10000000, kBig, 0}, {0x1000, 16, 0}});
  FakeMemory m;
  m.put(0x10000000 + kBig - 8, 0x1000);
  root(g, {0x10000000});
  REQUIRE(g.classify(m, kFar));
  CHECK(kind_of(g, 0x1000) == LeakKind::kReachable);
  CHECK(g.bytes_read() == kBig + 16);
  CHECK(m.ranges_read >= 3);
}

TEST_CASE("leak graph: past its deadline the scan stops and says so") {
  LeakGraph g({{0x1000, 64, 0}});
  FakeMemory m;
  root(g, {0x1000});
  CHECK_FALSE(g.classify(m, 0));
}

TEST_CASE("leak graph: a block on the stack twice in one batch stays within the read buffer") {
  // Marked possibly lost (interior pointer), then reachable (its start): two reads of it are
  // due, more than the buffer sized for every block once (run under ASan by scripts/sanitize).
  LeakGraph g({{0x1000, 64, 0}});
  FakeMemory m;
  root(g, {0x1000 + 8, 0x1000});
  REQUIRE(g.classify(m, kFar));
  CHECK(kind_of(g, 0x1000) == LeakKind::kReachable);
  CHECK(g.bytes_read() == 2 * 64);
}
