// A per-thread ring of fixed 64-byte slots: one producer (the application thread, plus any
// signal handler that interrupts it) and one consumer (the sidecar).
//
// Why not boost::lockfree::spsc_queue: a signal handler that allocates while its thread is
// half-way through a push would corrupt an SPSC queue. Here a producer reserves its slots with
// one atomic fetch_add (a single instruction, so a handler running in the middle reserves the
// slots after it), fills them, and publishes the first slot by storing its position + 1 in the
// slot's tag with release order. The consumer reads records in position order and stops at the
// first slot whose tag is not yet published, so a nested handler's record waits for the
// interrupted one: the handler itself must never wait for room behind it (ring_room.hpp).
// Continuation slots (stack frames) carry tag 0, which never matches.
#pragma once

#include <atomic>
#include <cstdint>

namespace memscope::agent {

enum class SlotType : uint8_t {
  kNop = 0,  // a reservation that turned out to hold nothing (a failed realloc)
  kAlloc,
  kFree,
  kRealloc,
  kStack,
  kThreadStart,
  kThreadEnd,
  kRegion,  // size: region id; fn: 1 begin, 0 end
};

struct alignas(64) Slot {
  std::atomic<uint64_t> tag;
  SlotType type;
  uint8_t fn;            // format::AllocFn for allocations
  uint16_t extra_slots;  // continuation slots that follow (stack frames)
  uint32_t frame_count;  // kStack
  uint64_t stamp;        // CLOCK_MONOTONIC ns; for kRealloc, taken before the real call
  uint64_t stamp_after;  // kRealloc: taken after the real call
  uint64_t ptr;          // the block (kRealloc: the new block, 0 when it freed)
  uint64_t old_ptr;      // kRealloc: the block passed in; kThreadStart: parent tid
  uint64_t size;         // requested bytes; kThreadStart/End: tid
  uint64_t stack_hash;   // 0 when stacks are off
};
static_assert(sizeof(Slot) == 64);

inline constexpr uint32_t kFramesPerContinuation = 7;

struct ContinuationSlot {
  uint64_t zero_tag;
  uint64_t frames[kFramesPerContinuation];
};
static_assert(sizeof(ContinuationSlot) == sizeof(Slot));

class EventRing {
 public:
  void init(Slot* slots, uint32_t capacity) {
    slots_ = slots;
    mask_ = capacity - 1;
  }
  uint32_t capacity() const { return mask_ + 1; }
  Slot& at(uint64_t pos) { return slots_[pos & mask_]; }

  // Producer side.
  uint64_t reserve(uint32_t n) { return reserved_.fetch_add(n, std::memory_order_seq_cst); }
  // Reserves [expected, expected + n) only if nothing else was reserved since `expected` was
  // read; otherwise updates `expected` and fails.
  bool try_reserve(uint64_t& expected, uint32_t n) {
    return reserved_.compare_exchange_weak(expected, expected + n, std::memory_order_seq_cst);
  }
  // The slots in use once [pos, pos + n) is: more than capacity() means no room yet.
  uint64_t in_use_with(uint64_t pos, uint32_t n) const {
    return pos + n - head_.load(std::memory_order_acquire);
  }
  bool has_room_for(uint64_t pos, uint32_t n) const { return in_use_with(pos, n) <= capacity(); }
  void publish(uint64_t pos) { at(pos).tag.store(pos + 1, std::memory_order_release); }

  // Consumer side.
  uint64_t head() const { return head_.load(std::memory_order_relaxed); }
  uint64_t reserved() const { return reserved_.load(std::memory_order_seq_cst); }
  bool published(uint64_t pos) { return at(pos).tag.load(std::memory_order_acquire) == pos + 1; }
  void advance_to(uint64_t pos) { head_.store(pos, std::memory_order_release); }
  // Drops everything reserved so far (a forked child discards its parent's pending events).
  void discard_all() { head_.store(reserved_.load()); }

 private:
  Slot* slots_ = nullptr;
  uint32_t mask_ = 0;
  alignas(64) std::atomic<uint64_t> reserved_{0};
  alignas(64) std::atomic<uint64_t> head_{0};
};

}  // namespace memscope::agent
