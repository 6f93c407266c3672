// Unit tests of the per-thread event ring: publication order, nested (signal-handler-like)
// reservations, records of different lengths running past the ring's end, payload words that
// never pass for a header, and a real producer/consumer pair.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "agent/event_ring.hpp"

using memscope::agent::AllocPayload;
using memscope::agent::EventRing;
using memscope::agent::FreePayload;
using memscope::agent::record_words;
using memscope::agent::RecordHeader;
using memscope::agent::RecordType;

namespace {

constexpr uint32_t kFreeWords = record_words<FreePayload>();
constexpr uint32_t kAllocWords = record_words<AllocPayload>();

struct Ring {
  std::vector<EventRing::Word> words;
  EventRing ring;
  explicit Ring(uint32_t capacity) : words(capacity) { ring.init(words.data(), capacity); }
  uint64_t push_free(uint64_t stamp) {
    uint64_t pos = ring.reserve(kFreeWords);
    REQUIRE(ring.has_room_for(pos, kFreeWords));
    ring.write(pos, FreePayload{stamp, 0x1000});
    ring.publish(pos, RecordType::kFree, 0, kFreeWords);
    return pos;
  }
  bool published(uint64_t pos) const {
    RecordHeader header;
    return ring.published(pos, header);
  }
};

}  // namespace

TEST_CASE("a record is invisible until published, and a nested one waits for the outer") {
  Ring r(16);
  uint64_t outer = r.ring.reserve(kFreeWords);
  uint64_t nested = r.ring.reserve(kFreeWords);  // a signal handler running inside the outer push
  CHECK(nested == outer + kFreeWords);
  r.ring.publish(nested, RecordType::kFree, 0, kFreeWords);
  CHECK_FALSE(r.published(r.ring.head()));  // the consumer must stop at the outer one
  r.ring.publish(outer, RecordType::kFree, 0, kFreeWords);
  RecordHeader header;
  REQUIRE(r.ring.published(outer, header));
  CHECK(header.type == RecordType::kFree);
  CHECK(header.words == kFreeWords);
  CHECK(r.published(nested));
}

TEST_CASE("the header carries type, function and length; the payload reads back") {
  Ring r(16);
  uint64_t pos = r.ring.reserve(kAllocWords);
  r.ring.write(pos, AllocPayload{11, 0x2000, 48, 0xfeed});
  r.ring.publish(pos, RecordType::kAlloc, 3, kAllocWords);
  RecordHeader header;
  REQUIRE(r.ring.published(pos, header));
  CHECK(header.type == RecordType::kAlloc);
  CHECK(header.fn == 3);
  CHECK(header.words == kAllocWords);
  auto alloc = r.ring.read<AllocPayload>(pos);
  CHECK(alloc.stamp == 11);
  CHECK(alloc.ptr == 0x2000);
  CHECK(alloc.size == 48);
  CHECK(alloc.stack_hash == 0xfeed);
}

TEST_CASE("records of mixed lengths wrap round the ring's end and read back whole") {
  Ring r(16);
  uint64_t stamp = 0;
  for (int i = 0; i < 40; ++i) {  // 3- and 5-word records: every offset at the wrap
    bool alloc = i % 3 == 0;
    uint32_t words = alloc ? kAllocWords : kFreeWords;
    uint64_t pos = r.ring.reserve(words);
    REQUIRE(r.ring.has_room_for(pos, words));
    ++stamp;
    if (alloc) {
      r.ring.write(pos, AllocPayload{stamp, pos, stamp * 8, stamp});
      r.ring.publish(pos, RecordType::kAlloc, 0, words);
    } else {
      r.ring.write(pos, FreePayload{stamp, pos});
      r.ring.publish(pos, RecordType::kFree, 0, words);
    }
    RecordHeader header;
    REQUIRE(r.ring.published(pos, header));
    CHECK(header.words == words);
    if (alloc) {
      auto a = r.ring.read<AllocPayload>(pos);
      CHECK((a.stamp == stamp && a.ptr == pos && a.size == stamp * 8 && a.stack_hash == stamp));
    } else {
      auto f = r.ring.read<FreePayload>(pos);
      CHECK((f.stamp == stamp && f.ptr == pos));
    }
    r.ring.advance_to(pos + words);
  }
}

TEST_CASE("payload words from an earlier lap never pass for the next record's header") {
  Ring r(8);
  // Payload words that hold what a header at their position would: position + 1 and more.
  uint64_t pos = r.ring.reserve(8);
  for (uint64_t p = pos + 1; p < pos + 8; ++p) r.ring.put(p, p + 8 + 1 + (uint64_t{3} << 32));
  r.ring.publish(pos, RecordType::kNop, 0, 8);
  r.ring.advance_to(pos + 8);
  for (uint64_t p = pos + 8; p < pos + 16; ++p) CHECK_FALSE(r.published(p));
  // A stale header of the previous lap does not either.
  uint64_t next = r.push_free(1);
  r.ring.advance_to(next + kFreeWords);
  CHECK_FALSE(r.published(next + 8));
}

TEST_CASE("a forked child's discard leaves nothing that looks published") {
  Ring r(16);
  r.push_free(1);
  uint64_t second = r.push_free(2);
  r.ring.discard_all();
  CHECK(r.ring.head() == second + kFreeWords);
  for (uint64_t p = r.ring.head(); p < r.ring.head() + 16; ++p) CHECK_FALSE(r.published(p));
}

TEST_CASE("room is bounded by what the consumer has drained") {
  Ring r(8);
  uint64_t pos = r.ring.reserve(8);
  CHECK(r.ring.has_room_for(pos, 8));
  CHECK_FALSE(r.ring.has_room_for(pos + 8, 1));
  r.ring.advance_to(1);
  CHECK(r.ring.has_room_for(pos + 8, 1));
}

TEST_CASE("one producer and one consumer pass a million records in order") {
  Ring r(1024);
  constexpr uint64_t kRecords = 1000000;
  std::thread producer([&] {
    for (uint64_t i = 0; i < kRecords; ++i) {
      bool alloc = i % 2 == 0;
      uint32_t words = alloc ? kAllocWords : kFreeWords;
      uint64_t pos = r.ring.reserve(words);
      while (!r.ring.has_room_for(pos, words)) std::this_thread::yield();
      if (alloc) {
        r.ring.write(pos, AllocPayload{i, pos, i, i});
        r.ring.publish(pos, RecordType::kAlloc, 0, words);
      } else {
        r.ring.write(pos, FreePayload{i, pos});
        r.ring.publish(pos, RecordType::kFree, 0, words);
      }
    }
  });
  uint64_t expected = 0;
  bool in_order = true;
  while (expected < kRecords) {
    uint64_t pos = r.ring.head();
    RecordHeader header;
    if (!r.ring.published(pos, header)) {
      std::this_thread::yield();
      continue;
    }
    uint64_t stamp = header.type == RecordType::kAlloc ? r.ring.read<AllocPayload>(pos).stamp
                                                       : r.ring.read<FreePayload>(pos).stamp;
    in_order = in_order && stamp == expected;
    ++expected;
    r.ring.advance_to(pos + header.words);
  }
  producer.join();
  CHECK(in_order);
}
