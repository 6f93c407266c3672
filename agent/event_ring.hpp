// A per-thread ring of 8-byte words holding variable-length records: one producer (the
// application thread, plus any signal handler that interrupts it) and one consumer (the
// sidecar).
//
// Why not boost::lockfree::spsc_queue: a signal handler that allocates while its thread is
// half-way through a push would corrupt an SPSC queue. Here a producer reserves its record's
// words with one atomic fetch_add (a single instruction, so a handler running in the middle
// reserves the words after it), fills the payload, and publishes the record by storing its
// header word (position + 1, type, function, length) with release order. The consumer reads
// records in position order and stops at the first whose header is not yet published, so a
// nested handler's record waits for the interrupted one: the handler itself must never wait for
// room behind it (ring_room.hpp).
//
// A record is one header word and one typed payload per kind (a free 24 bytes, an allocation
// 40, a stack 24 plus its frames), at any position: a record that runs past the ring's end goes
// on at its start, each word being addressed by its position. A header is told from payload by
// where it lies, not by what it holds: the consumer zeroes the words it drained before it
// frees them, so a word a producer has not written since holds 0, never a header, and the
// word at the next record's position is either 0 or that record's own header. Only headers are
// accessed atomically (std::atomic_ref): a word is written as payload, read as payload, zeroed
// or read as a header only in an order that the header's and the head's release/acquire pairs
// establish, so the payload and the zeroing are plain copies.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>

namespace memscope::agent {

enum class RecordType : uint8_t {
  kNop = 0,  // a reservation that turned out to hold nothing (a failed realloc)
  kAlloc,
  kFree,
  kRealloc,
  kStack,
  kThreadStart,
  kThreadEnd,
  kRegion,
};

// The payloads, one per record kind, each stored word for word after the header.
struct AllocPayload {
  uint64_t stamp;  // CLOCK_MONOTONIC ns, taken after the real call
  uint64_t ptr;
  uint64_t size;        // requested bytes
  uint64_t stack_hash;  // 0 when stacks are off
};
struct FreePayload {
  uint64_t stamp;  // taken before the real call
  uint64_t ptr;
};
struct ReallocPayload {
  uint64_t stamp;        // taken before the real call
  uint64_t stamp_after;  // taken after it
  uint64_t old_ptr;
  uint64_t ptr;  // the new block, 0 when it freed
  uint64_t size;
  uint64_t stack_hash;
};
struct StackPayload {
  uint64_t hash;
  uint64_t frame_count;  // that many frame words follow the payload
};
struct ThreadStartPayload {
  uint64_t stamp;
  uint64_t tid;
  uint64_t parent_tid;
};
struct ThreadEndPayload {
  uint64_t stamp;
  uint64_t tid;
  char name[16];  // prctl(PR_GET_NAME), NUL-padded
};
struct RegionPayload {
  uint64_t stamp;
  uint64_t region_id;
};

// Words a record takes, its header included.
template <typename Payload>
constexpr uint32_t record_words() {
  static_assert(sizeof(Payload) % sizeof(uint64_t) == 0);
  return 1 + sizeof(Payload) / sizeof(uint64_t);
}
inline constexpr uint32_t stack_record_words(uint32_t depth) {
  return record_words<StackPayload>() + depth;
}

// A published header, decoded.
struct RecordHeader {
  RecordType type = RecordType::kNop;
  uint8_t fn = 0;      // format::AllocFn for allocations; kRegion: 1 begin, 0 end
  uint32_t words = 0;  // the record's length, header included
};

class EventRing {
 public:
  using Word = uint64_t;
  // A ring's memory is counted in 64-byte slots (MEMSCOPE_RING_SLOTS), as when a record took one.
  static constexpr uint32_t kWordsPerSlot = 8;

  void init(Word* words, uint32_t capacity) {
    words_ = words;
    mask_ = capacity - 1;
  }
  uint32_t capacity() const { return mask_ + 1; }

  // Producer side.
  uint64_t reserve(uint32_t n) { return reserved_.fetch_add(n, std::memory_order_seq_cst); }
  // Reserves [expected, expected + n) only if nothing else was reserved since `expected` was
  // read; otherwise updates `expected` and fails.
  bool try_reserve(uint64_t& expected, uint32_t n) {
    return reserved_.compare_exchange_weak(expected, expected + n, std::memory_order_seq_cst);
  }
  // The words in use once [pos, pos + n) is: more than capacity() means no room yet.
  uint64_t in_use_with(uint64_t pos, uint32_t n) const {
    return pos + n - head_.load(std::memory_order_acquire);
  }
  bool has_room_for(uint64_t pos, uint32_t n) const { return in_use_with(pos, n) <= capacity(); }
  // The record at `pos` gets `payload` (a record_words<Payload>() reservation).
  template <typename Payload>
  void write(uint64_t pos, const Payload& payload) {
    copy_in(pos + 1, &payload, sizeof(Payload) / sizeof(Word));
  }
  void put(uint64_t pos, uint64_t value) { at(pos) = value; }
  void put_words(uint64_t pos, const uint64_t* values, uint32_t n) { copy_in(pos, values, n); }
  void publish(uint64_t pos, RecordType type, uint8_t fn, uint32_t words) {
    uint64_t header = ((pos + 1) & 0xffffffffull) | uint64_t{words} << 32 |
                      uint64_t{static_cast<uint8_t>(type)} << 48 | uint64_t{fn} << 56;
    std::atomic_ref<Word>(at(pos)).store(header, std::memory_order_release);
  }

  // Consumer side.
  uint64_t head() const { return head_.load(std::memory_order_relaxed); }
  uint64_t reserved() const { return reserved_.load(std::memory_order_seq_cst); }
  // Whether the record at `pos` (a record's position: the head, or right after a record) is
  // published, and its header if so. Its length is never 0, so neither is a header.
  bool published(uint64_t pos, RecordHeader& header) const {
    uint64_t h = std::atomic_ref<Word>(at(pos)).load(std::memory_order_acquire);
    if (h == 0 || (h & 0xffffffffull) != ((pos + 1) & 0xffffffffull)) return false;
    header.words = static_cast<uint32_t>(h >> 32) & 0xffff;
    header.type = static_cast<RecordType>(h >> 48);
    header.fn = static_cast<uint8_t>(h >> 56);
    return true;
  }
  template <typename Payload>
  Payload read(uint64_t pos) const {
    Payload payload;
    copy_out(pos + 1, &payload, sizeof(Payload) / sizeof(Word));
    return payload;
  }
  uint64_t get(uint64_t pos) const { return at(pos); }
  // Frees everything below `pos`, zeroed first (see the header comment).
  void advance_to(uint64_t pos) {
    zero(head(), pos);
    head_.store(pos, std::memory_order_release);
  }
  // Drops everything reserved so far (a forked child discards its parent's pending events).
  // Only words that are not 0 are written: a ring the fork wiped stays unmapped.
  void discard_all() {
    uint64_t end = reserved_.load();
    uint64_t from = end - head() > capacity() ? end - capacity() : head();
    for (uint64_t p = from; p < end; ++p)
      if (get(p) != 0) put(p, 0);
    head_.store(end);
  }

 private:
  Word& at(uint64_t pos) const { return words_[pos & mask_]; }
  // The words from `pos` up to the ring's end, at most `n`: a range that wraps is two pieces.
  uint64_t piece(uint64_t pos, uint64_t n) const {
    uint64_t to_end = capacity() - (pos & mask_);
    return n < to_end ? n : to_end;
  }
  void copy_in(uint64_t pos, const void* from, uint64_t n) {
    uint64_t first = piece(pos, n);
    std::memcpy(&at(pos), from, first * sizeof(Word));
    std::memcpy(&at(pos + first), static_cast<const Word*>(from) + first,
                (n - first) * sizeof(Word));
  }
  void copy_out(uint64_t pos, void* to, uint64_t n) const {
    uint64_t first = piece(pos, n);
    std::memcpy(to, &at(pos), first * sizeof(Word));
    std::memcpy(static_cast<Word*>(to) + first, &at(pos + first), (n - first) * sizeof(Word));
  }
  void zero(uint64_t from, uint64_t to) {
    uint64_t first = piece(from, to - from);
    std::memset(&at(from), 0, first * sizeof(Word));
    std::memset(&at(from + first), 0, (to - from - first) * sizeof(Word));
  }

  Word* words_ = nullptr;
  uint32_t mask_ = 0;
  alignas(64) std::atomic<uint64_t> reserved_{0};
  alignas(64) std::atomic<uint64_t> head_{0};
};

}  // namespace memscope::agent
