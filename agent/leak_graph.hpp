// memcheck's classification of the blocks still live at a process's end. Pointers found in the
// roots mark blocks reachable (a pointer to the start) or possibly lost (only a pointer into
// the middle); marking follows pointers inside marked blocks, a block reached only through a
// possibly lost one being possibly lost too. What stays unmarked is lost: walking the lost
// blocks in address order, each one not yet reached from an earlier one leads a clique and is
// definitely lost, and every unmarked block it reaches (start or interior) is indirectly lost.
// The memory itself is read through a MemorySource, so the classification is testable on any
// bytes and the agent can read its process without ever faulting (leak_scan.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "format/leak_scan.hpp"

namespace memscope::agent {

struct MemoryRange {
  uint64_t address;
  uint64_t length;
};

class MemorySource {
 public:
  virtual ~MemorySource() = default;
  // Copies the ranges back to back into `out`; bytes that cannot be read come out as zero.
  virtual void read(const MemoryRange* ranges, size_t count, uint8_t* out) = 0;
  // The range itself where it may be read in place, without a copy; null where it must be read.
  virtual const uint8_t* in_place(const MemoryRange&) const { return nullptr; }
};

class LeakGraph {
 public:
  struct Block {
    uint64_t start;
    uint64_t size;
    uint32_t site;  // the caller's site index, handed back untouched
  };

  // Blocks in any order; two live blocks never overlap.
  explicit LeakGraph(std::vector<Block> blocks);

  // Every 8-byte-aligned word of a root. `allocator_data`: the root is the data of the library
  // that provides malloc, whose free lists and top-chunk pointer hold glibc chunk headers,
  // which lie in the last 8 bytes of the block before them (see the .cpp).
  void scan_root(const uint64_t* words, size_t count, bool allocator_data);
  // Follows every marked block, then finds the lost cliques. False when `deadline_ns`
  // (CLOCK_MONOTONIC) passed first: the kinds are then unknown.
  bool classify(MemorySource& memory, uint64_t deadline_ns);

  size_t size() const { return blocks_.size(); }
  const Block& block(size_t i) const { return blocks_[i]; }
  format::LeakKind kind(size_t i) const;
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  enum State : uint8_t { kUnreached, kPossible, kReachable, kIndirect };
  // A block still to be read, from `from` (a large block is read a piece at a time).
  struct Work {
    uint32_t block;
    uint64_t from;
  };
  int64_t find(uint64_t pointer) const;
  void push(size_t block);
  void mark(uint64_t pointer, bool from_definite, bool allocator_data);
  void join_clique(uint64_t pointer, size_t leader);
  // Reads blocks off the stack a batch at a time until it is empty; with a `leader`, the
  // pointers found join its clique, else they mark. False when the deadline passed.
  bool drain(MemorySource& memory, uint64_t deadline_ns, int64_t leader);

  std::vector<Block> blocks_;     // by start
  std::vector<uint64_t> starts_;  // blocks_[i].start, for the binary search
  std::vector<State> state_;
  std::vector<Work> stack_;
  std::vector<uint64_t> buffer_;
  uint64_t lowest_ = 0;
  uint64_t highest_end_ = 0;
  uint64_t block_words_ = 0;  // what reading every block once takes: bounds the read buffer
  uint64_t bytes_read_ = 0;
};

}  // namespace memscope::agent
