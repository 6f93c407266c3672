// See leak_graph.hpp. The states and their upgrades are memcheck's (mc_leakcheck.c), without
// its heuristics (as `--leak-check-heuristics=none`): an interior pointer is an interior
// pointer.
#include "agent/leak_graph.hpp"

#include <time.h>

#include <algorithm>

namespace memscope::agent {
namespace {

// One read at a time: up to the kernel's IOV_MAX blocks, at most 1 MiB.
constexpr size_t kBatchWords = (1 << 20) / 8;
constexpr size_t kBatchBlocks = 1024;

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

LeakGraph::LeakGraph(std::vector<Block> blocks) : blocks_(std::move(blocks)) {
  std::sort(blocks_.begin(), blocks_.end(),
            [](const Block& a, const Block& b) { return a.start < b.start; });
  starts_.reserve(blocks_.size());
  for (const Block& b : blocks_) {
    starts_.push_back(b.start);
    highest_end_ = std::max(highest_end_, b.start + std::max<uint64_t>(b.size, 1));
    block_words_ += b.size / 8 + 1;
  }
  if (!blocks_.empty()) lowest_ = blocks_.front().start;
  state_.assign(blocks_.size(), kUnreached);
}

format::LeakKind LeakGraph::kind(size_t i) const {
  switch (state_[i]) {
    case kReachable:
      return format::LeakKind::kReachable;
    case kPossible:
      return format::LeakKind::kPossiblyLost;
    case kIndirect:
      return format::LeakKind::kIndirectlyLost;
    default:
      return format::LeakKind::kDefinitelyLost;
  }
}

// The block `pointer` points to or into (a block of size 0 only at its start), or -1.
int64_t LeakGraph::find(uint64_t pointer) const {
  if (pointer < lowest_ || pointer >= highest_end_) return -1;
  auto after = std::upper_bound(starts_.begin(), starts_.end(), pointer);
  auto i = static_cast<int64_t>(after - starts_.begin()) - 1;
  const Block& b = blocks_[static_cast<size_t>(i)];
  return pointer < b.start + std::max<uint64_t>(b.size, 1) ? i : -1;
}

void LeakGraph::push(size_t block) {
  stack_.push_back({static_cast<uint32_t>(block), (blocks_[block].start + 7) & ~uint64_t{7}});
}

void LeakGraph::mark(uint64_t pointer, bool from_definite, bool allocator_data) {
  int64_t found = find(pointer);
  if (found < 0) return;
  auto i = static_cast<size_t>(found);
  const Block& b = blocks_[i];
  bool at_start = pointer == b.start;
  // glibc keeps the next chunk's header in the last 8 bytes of a block's usable size, and
  // chunks are 16-aligned: main_arena's bins and top pointer are such addresses. memcheck, with
  // its own allocator, never sees them; they are not the program's pointers.
  if (!at_start && allocator_data && (pointer - b.start) % 16 == 0 &&
      pointer + 8 >= b.start + b.size)
    return;
  if (state_[i] == kReachable) return;
  if (at_start && from_definite) {
    state_[i] = kReachable;
    push(i);
  } else if (state_[i] == kUnreached) {
    state_[i] = kPossible;
    push(i);
  }
}

void LeakGraph::join_clique(uint64_t pointer, size_t leader) {
  int64_t found = find(pointer);
  if (found < 0) return;
  auto i = static_cast<size_t>(found);
  if (state_[i] != kUnreached || i == leader) return;
  state_[i] = kIndirect;
  push(i);
}

void LeakGraph::scan_root(const uint64_t* words, size_t count, bool allocator_data) {
  for (size_t k = 0; k < count; ++k) mark(words[k], true, allocator_data);
}

bool LeakGraph::drain(MemorySource& memory, uint64_t deadline_ns, int64_t leader) {
  struct Piece {
    uint32_t block;
    size_t offset;  // into buffer_, in words
    size_t words;
  };
  std::vector<MemoryRange> ranges;
  std::vector<Piece> pieces;
  buffer_.resize(std::min<uint64_t>(kBatchWords, block_words_));
  while (!stack_.empty()) {
    if (monotonic_ns() > deadline_ns) return false;
    ranges.clear();
    pieces.clear();
    size_t used = 0;
    // Bounded by the buffer, not by kBatchWords: a block marked possibly lost and then reachable
    // is on the stack twice, so one batch may want more than every block once.
    while (!stack_.empty() && pieces.size() < kBatchBlocks && used < buffer_.size()) {
      Work& w = stack_.back();
      const Block& b = blocks_[w.block];
      uint64_t end = b.start + b.size;
      size_t words = end > w.from ? static_cast<size_t>((end - w.from) / 8) : 0;
      size_t take = std::min(words, buffer_.size() - used);
      if (take > 0) {
        ranges.push_back({w.from, take * 8});
        pieces.push_back({w.block, used, take});
        used += take;
      }
      if (take == words) {
        stack_.pop_back();
      } else {
        w.from += take * 8;  // the rest of a large block waits for the next batch
      }
    }
    memory.read(ranges.data(), ranges.size(), reinterpret_cast<uint8_t*>(buffer_.data()));
    bytes_read_ += used * 8;
    for (const Piece& p : pieces) {
      const uint64_t* words = buffer_.data() + p.offset;
      if (leader >= 0) {
        for (size_t k = 0; k < p.words; ++k) join_clique(words[k], static_cast<size_t>(leader));
      } else {
        bool definite = state_[p.block] == kReachable;
        for (size_t k = 0; k < p.words; ++k) mark(words[k], definite, false);
      }
    }
  }
  return true;
}

bool LeakGraph::classify(MemorySource& memory, uint64_t deadline_ns) {
  if (!drain(memory, deadline_ns, -1)) return false;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    if (state_[i] != kUnreached) continue;
    push(i);
    if (!drain(memory, deadline_ns, static_cast<int64_t>(i))) return false;
  }
  return true;
}

}  // namespace memscope::agent
