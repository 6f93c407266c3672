// The frames and stacks of one analysis, each stored once. A stack is a frame plus the stack of
// its caller (its parent), so the stacks of a program form a tree from its outermost frames and
// shared prefixes cost nothing per site: memory and output grow with distinct frames and
// stacks, not with sites times depth (the pprof and Firefox profiler formats store them so).
// Sites refer to their innermost stack by index; every output reads frames through here.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "analyzer/symbolizer.hpp"

namespace memscope::analyzer {

inline constexpr uint32_t kNoStack = UINT32_MAX;

class StackTable {
 public:
  struct Node {
    uint32_t frame;
    uint32_t parent;  // the caller's stack; kNoStack for an outermost frame
  };

  // The stack of recorded return addresses `pcs` (innermost first) of a process with module
  // map `modules`, at `stamp`: its innermost node, kNoStack for an empty list. Each distinct
  // (module, address) is symbolized once.
  uint32_t intern(const std::vector<ModuleInfo>& modules, const std::vector<uint64_t>& pcs,
                  uint64_t stamp, Symbolizer& symbolizer);

  const Frame& frame(uint32_t index) const { return frames_[index]; }
  const Node& node(uint32_t stack) const { return nodes_[stack]; }
  size_t frame_count() const { return frames_.size(); }
  size_t stack_count() const { return nodes_.size(); }
  // The frames of `stack`, innermost first; empty for kNoStack.
  std::vector<const Frame*> frames_of(uint32_t stack) const;
  std::vector<uint32_t> frame_indices_of(uint32_t stack) const;

 private:
  uint32_t add_node(uint32_t frame, uint32_t parent);
  // The frames one return address expands to (inlined functions first, the real one last).
  const std::vector<uint32_t>& frames_for(const ModuleInfo* module, uint64_t pc,
                                          const std::vector<ModuleInfo>& modules, uint64_t stamp,
                                          Symbolizer& symbolizer);

  std::vector<Frame> frames_;
  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, uint32_t> node_index_;  // (frame << 32 | parent) -> node
  struct AddressHash {
    size_t operator()(const std::pair<const ModuleInfo*, uint64_t>& k) const {
      return std::hash<uint64_t>()(k.second * 0x9E3779B97F4A7C15ull ^
                                   reinterpret_cast<uintptr_t>(k.first));
    }
  };
  std::unordered_map<std::pair<const ModuleInfo*, uint64_t>, std::vector<uint32_t>, AddressHash>
      address_frames_;
  std::map<std::tuple<std::string, uint64_t, uint64_t, size_t>, uint32_t> frame_index_;
};

}  // namespace memscope::analyzer
