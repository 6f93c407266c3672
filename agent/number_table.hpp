// Flat hash tables the sidecar consults once or more per heap event (agent/trace_writer.hpp,
// agent/sidecar.cpp), each in one array: open addressing with linear probing, at most half full
// (NumberTable, InfoTable), or direct-mapped (RecentFreeIndex). A lookup is a multiply, a shift
// and (almost always) one cache line, and nothing allocates a node per entry: std::unordered_map
// cost a modulo division and a pointer chase per lookup, and the scan of the 64 latest frees as
// much again, together a fifth of the sidecar's time on an allocation storm (issue 15).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "format/records.hpp"

namespace memscope::agent {

// 64-bit keys (addresses, stack hashes) to nonzero 32-bit numbers; 0 means absent. Deletion
// shifts later entries of the probe run back, so no tombstones pile up.
class NumberTable {
 public:
  // Replaces the number of a key already present.
  void add(uint64_t key, uint32_t number) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = home(key);; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.number != 0 && s.key != key) continue;
      size_ += s.number == 0;
      s = {key, number};
      return;
    }
  }
  uint32_t find(uint64_t key) const { return slots_[locate(key)].number; }
  // Its number, removed; 0 when absent.
  uint32_t take(uint64_t key) {
    size_t i = locate(key);
    uint32_t number = slots_[i].number;
    if (number != 0) remove_at(i);
    return number;
  }
  size_t size() const { return size_; }
  void clear() {
    if (size_ == 0) return;
    for (Slot& s : slots_) s.number = 0;
    size_ = 0;
  }

 private:
  struct Slot {
    uint64_t key;
    uint32_t number;  // 0: empty
  };
  size_t home(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  // The key's slot, or the empty slot that ends its probe run.
  size_t locate(uint64_t key) const {
    size_t mask = slots_.size() - 1;
    size_t i = home(key);
    while (slots_[i].number != 0 && slots_[i].key != key) i = (i + 1) & mask;
    return i;
  }
  // Backward shift: moves later entries of the probe run into the hole where their home allows.
  void remove_at(size_t i) {
    size_t mask = slots_.size() - 1;
    for (size_t hole = i, j = (i + 1) & mask;; j = (j + 1) & mask) {
      if (slots_[j].number == 0) {
        slots_[hole].number = 0;
        break;
      }
      size_t h = home(slots_[j].key);
      if (((j - h) & mask) >= ((j - hole) & mask)) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    --size_;
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    --shift_;
    size_ = 0;
    for (const Slot& s : old)
      if (s.number != 0) add(s.key, s.number);
  }
  std::vector<Slot> slots_ = std::vector<Slot>(1024);
  int shift_ = 54;  // 64 - log2(slots_.size())
  size_t size_ = 0;
};

// A chunk's allocation infos (format::AllocInfo) to their indexes 1, 2, ... in order of first
// use. Never deletes; cleared with each chunk.
class InfoTable {
 public:
  // The info's index, or 0 when it is new: it then takes the next index.
  uint32_t find_or_add(const format::AllocInfo& info) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    size_t i = locate(info);
    if (slots_[i].number != 0) return slots_[i].number;
    slots_[i] = {info.size, info.stack_id, static_cast<uint32_t>(++size_), info.fn};
    return 0;
  }
  void clear() {
    if (size_ == 0) return;
    for (Slot& s : slots_) s.number = 0;
    size_ = 0;
  }

 private:
  struct Slot {
    uint64_t size;
    uint64_t stack_id;
    uint32_t number;  // 0: empty
    uint8_t fn;
  };
  size_t home(uint64_t size, uint64_t stack_id, uint8_t fn) const {
    uint64_t h = (size * 0x9E3779B97F4A7C15ull) ^ (stack_id * 0xC2B2AE3D27D4EB4Full) ^ fn;
    return static_cast<size_t>((h * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  size_t locate(const format::AllocInfo& info) const {
    size_t mask = slots_.size() - 1;
    size_t i = home(info.size, info.stack_id, info.fn);
    for (;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.number == 0 || (s.size == info.size && s.stack_id == info.stack_id && s.fn == info.fn))
        return i;
    }
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    --shift_;
    for (const Slot& s : old)
      if (s.number != 0) slots_[locate({s.size, s.stack_id, s.fn})] = s;
  }
  std::vector<Slot> slots_ = std::vector<Slot>(1024);
  int shift_ = 54;  // 64 - log2(slots_.size())
  size_t size_ = 0;
};

// The writer's side of format::RecentFrees (the reader keeps the 64 latest frees' addresses):
// a direct-mapped index from an address to the number of its latest free, so an allocation finds
// its address in one lookup instead of a scan of 64, and a free costs one store. A hit is always
// the address's latest free, as the scan would find it; two addresses that share an index entry
// forget the earlier one, which only costs its allocation the "0 then address" form (0.1 % more
// bytes on bench_malloc_storm than the scan).
class RecentFreeIndex {
 public:
  void add(uint64_t address) { index_[home(address)] = {address, ++frees_}; }
  // 1 for the latest free's address, ...; 0 when none of the last kSize (or forgotten).
  uint32_t find(uint64_t address) const {
    const Entry& e = index_[home(address)];
    if (e.number == 0 || e.address != address) return 0;
    uint64_t back = frees_ + 1 - e.number;
    return back <= format::RecentFrees::kSize ? static_cast<uint32_t>(back) : 0;
  }
  void clear() {
    frees_ = 0;
    for (Entry& e : index_) e = {};
  }

 private:
  struct Entry {
    uint64_t address;
    uint64_t number;  // the free's, 1-based in the chunk; 0: none
  };
  static constexpr int kIndexBits = 10;  // 16 KiB: in the cache beside the other tables
  static size_t home(uint64_t address) {
    return static_cast<size_t>((address * 0x9E3779B97F4A7C15ull) >> (64 - kIndexBits));
  }
  uint64_t frees_ = 0;  // in the chunk so far
  Entry index_[size_t{1} << kIndexBits] = {};
};

}  // namespace memscope::agent
