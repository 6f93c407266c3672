// See stack_table.hpp. Frames are keyed by what identifies their symbolization (module, address,
// offset, position in the address's inlined expansion), so processes that share an image (fork
// children) share frames too.
#include "analyzer/stack_table.hpp"

#include <tuple>

namespace memscope::analyzer {

const std::vector<uint32_t>& StackTable::frames_for(const ModuleInfo* module, uint64_t pc,
                                                    const std::vector<ModuleInfo>& modules,
                                                    uint64_t stamp, Symbolizer& symbolizer) {
  auto [it, added] = address_frames_.try_emplace({module, pc});
  if (!added) return it->second;
  std::vector<Frame> frames = symbolizer.resolve(modules, pc, stamp);
  for (size_t k = 0; k < frames.size(); ++k) {
    auto key = std::make_tuple(frames[k].module, frames[k].address, frames[k].offset, k);
    auto [at, fresh] =
        frame_index_.try_emplace(std::move(key), static_cast<uint32_t>(frames_.size()));
    if (fresh) frames_.push_back(std::move(frames[k]));
    it->second.push_back(at->second);
  }
  return it->second;
}

uint32_t StackTable::add_node(uint32_t frame, uint32_t parent) {
  uint64_t key = uint64_t{frame} << 32 | parent;
  auto [it, added] = node_index_.try_emplace(key, static_cast<uint32_t>(nodes_.size()));
  if (added) nodes_.push_back({frame, parent});
  return it->second;
}

uint32_t StackTable::intern(const std::vector<ModuleInfo>& modules,
                            const std::vector<uint64_t>& pcs, uint64_t stamp,
                            Symbolizer& symbolizer) {
  uint32_t stack = kNoStack;
  // From the outermost frame inwards: each node's parent exists before it.
  for (auto pc = pcs.rbegin(); pc != pcs.rend(); ++pc) {
    const std::vector<uint32_t>& frames =
        frames_for(module_at(modules, *pc, stamp), *pc, modules, stamp, symbolizer);
    for (auto f = frames.rbegin(); f != frames.rend(); ++f) stack = add_node(*f, stack);
  }
  return stack;
}

std::vector<uint32_t> StackTable::frame_indices_of(uint32_t stack) const {
  std::vector<uint32_t> out;
  for (; stack != kNoStack; stack = nodes_[stack].parent) out.push_back(nodes_[stack].frame);
  return out;
}

std::vector<const Frame*> StackTable::frames_of(uint32_t stack) const {
  std::vector<const Frame*> out;
  for (; stack != kNoStack; stack = nodes_[stack].parent)
    out.push_back(&frames_[nodes_[stack].frame]);
  return out;
}

}  // namespace memscope::analyzer
