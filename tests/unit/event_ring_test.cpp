// Unit tests of the per-thread event ring: publication order, nested (signal-handler-like)
// reservations, wrap-around, and a real producer/consumer pair.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "agent/event_ring.hpp"

using memscope::agent::EventRing;
using memscope::agent::Slot;

namespace {

struct Ring {
  std::vector<Slot> slots;
  EventRing ring;
  explicit Ring(uint32_t capacity) : slots(capacity) { ring.init(slots.data(), capacity); }
};

}  // namespace

TEST_CASE("a record is invisible until published, and a nested one waits for the outer") {
  Ring r(8);
  uint64_t outer = r.ring.reserve(1);
  uint64_t nested = r.ring.reserve(1);  // a signal handler running inside the outer push
  CHECK(nested == outer + 1);
  r.ring.publish(nested);
  CHECK_FALSE(r.ring.published(r.ring.head()));  // the consumer must stop at the outer one
  r.ring.publish(outer);
  CHECK(r.ring.published(outer));
  CHECK(r.ring.published(nested));
}

TEST_CASE("stale tags from an earlier lap never look published") {
  Ring r(4);
  for (int lap = 0; lap < 3; ++lap) {
    for (int i = 0; i < 4; ++i) {
      uint64_t pos = r.ring.reserve(1);
      REQUIRE(r.ring.has_room_for(pos, 1));
      r.ring.publish(pos);
    }
    uint64_t next = r.ring.head() + 4;
    r.ring.advance_to(next);
    CHECK_FALSE(r.ring.published(next));  // same slot as `next - 4`, tagged for that lap
  }
}

TEST_CASE("room is bounded by what the consumer has drained") {
  Ring r(4);
  uint64_t pos = r.ring.reserve(4);
  CHECK(r.ring.has_room_for(pos, 4));
  CHECK_FALSE(r.ring.has_room_for(pos + 4, 1));
  r.ring.advance_to(1);
  CHECK(r.ring.has_room_for(pos + 4, 1));
}

TEST_CASE("one producer and one consumer pass a million records in order") {
  Ring r(1024);
  constexpr uint64_t kRecords = 1000000;
  std::thread producer([&] {
    for (uint64_t i = 0; i < kRecords; ++i) {
      uint64_t pos = r.ring.reserve(1);
      while (!r.ring.has_room_for(pos, 1)) std::this_thread::yield();
      r.ring.at(pos).size = i;
      r.ring.publish(pos);
    }
  });
  uint64_t expected = 0;
  bool in_order = true;
  while (expected < kRecords) {
    uint64_t pos = r.ring.head();
    if (!r.ring.published(pos)) {
      std::this_thread::yield();
      continue;
    }
    in_order = in_order && r.ring.at(pos).size == expected;
    ++expected;
    r.ring.advance_to(pos + 1);
  }
  producer.join();
  CHECK(in_order);
}
