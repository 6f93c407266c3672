// prog_cxx_throw_stacks: allocations in frames that C++ exceptions then unwind, with each
// allocation's native call stack as the truth memscope's stacks are checked against
// (tests/integration/stack_truth.py). bytehound's shadow stack reported false leaks and wrong
// stacks once an exception unwound through its frames (bytehound issue #119); memscope's walks
// remember the stack words they read (agent/stack_capture.cpp), so frames left behind by an
// unwind, at the same addresses as the live ones, must not fool them.
//
// Each round dives a recursion through one of two callers with the same frame size (so the
// dive's frames land at the same addresses with different return addresses above them),
// allocates in every frame (freed by a destructor while the exception unwinds) and keeps one
// block in four for good (leaked), and throws from a depth that changes every round. site_alloc
// takes the stack with libgcc's _Unwind_Backtrace beside every malloc and counts the blocks of
// each distinct stack, allocated and still live; the block itself holds its stack's index. At
// the end it prints one line per stack: "stack ALLOCATIONS LIVE MODULE+OFFSET...", the callers
// of site_alloc outward (frame 0, site_alloc's own call, is left out: memscope's first frame is
// site_alloc's call of malloc instead).
#include <dlfcn.h>
#include <unwind.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int kMaxFrames = 48;
constexpr int kMaxStacks = 512;
constexpr int kRounds = 3000;

struct Truth {
  uintptr_t frames[kMaxFrames];
  int depth;
  long allocations;
  long live;
};
Truth g_truth[kMaxStacks];
int g_stacks = 0;
void* g_kept[kRounds * 4];
int g_kept_count = 0;

struct Collect {
  uintptr_t frames[kMaxFrames];
  int depth = 0;
};

_Unwind_Reason_Code collect(_Unwind_Context* context, void* data) {
  auto& c = *static_cast<Collect*>(data);
  auto pc = static_cast<uintptr_t>(_Unwind_GetIP(context));
  if (pc == 0 || c.depth == kMaxFrames) return _URC_END_OF_STACK;
  c.frames[c.depth++] = pc;
  return _URC_NO_REASON;
}

int stack_index(const Collect& c) {
  for (int i = 0; i < g_stacks; ++i)
    if (g_truth[i].depth == c.depth &&
        std::memcmp(g_truth[i].frames, c.frames, c.depth * sizeof(uintptr_t)) == 0)
      return i;
  if (g_stacks == kMaxStacks) std::abort();
  Truth& t = g_truth[g_stacks];
  std::memcpy(t.frames, c.frames, sizeof(c.frames));
  t.depth = c.depth;
  return g_stacks++;
}

[[gnu::noinline]] void* site_alloc(size_t bytes) {
  void* p = std::malloc(bytes);
  Collect c;
  _Unwind_Backtrace(collect, &c);
  int index = stack_index(c);
  ++g_truth[index].allocations;
  ++g_truth[index].live;
  std::memcpy(p, &index, sizeof(index));
  return p;
}

void site_free(void* p) {
  int index;
  std::memcpy(&index, p, sizeof(index));
  --g_truth[index].live;
  std::free(p);
}

struct Guard {
  void* block;
  ~Guard() { site_free(block); }
};

[[gnu::noinline]] void dive(int depth, int throw_at) {
  Guard guard{site_alloc(16 + static_cast<size_t>(depth))};
  if (depth % 4 == 0) g_kept[g_kept_count++] = site_alloc(24);
  if (depth == throw_at) throw depth;
  dive(depth + 1, throw_at);
  asm volatile("" ::: "memory");  // keeps the frame: no tail call
}

// Two callers of the same shape: the dive's frames sit at the same addresses under either.
[[gnu::noinline]] int path_a(int throw_at) {
  try {
    dive(0, throw_at);
  } catch (int depth) {
    return depth;
  }
  return -1;
}

[[gnu::noinline]] int path_b(int throw_at) {
  try {
    dive(0, throw_at);
  } catch (int depth) {
    return depth + 1;
  }
  return -1;
}

void print_frame(uintptr_t pc) {
  Dl_info info;
  // pc - 1: inside the call, as a return address is looked up.
  if (dladdr(reinterpret_cast<void*>(pc - 1), &info) == 0 || info.dli_fname == nullptr) {
    std::printf(" ?+0x%lx", static_cast<unsigned long>(pc));
    return;
  }
  const char* name = std::strrchr(info.dli_fname, '/');
  std::printf(" %s+0x%lx", name ? name + 1 : info.dli_fname,
              static_cast<unsigned long>(pc - reinterpret_cast<uintptr_t>(info.dli_fbase)));
}

}  // namespace

int main() {
  long sum = 0;
  for (int round = 0; round < kRounds; ++round)
    sum += (round % 2 ? path_a : path_b)((round * 7) % 13);
  std::printf("rounds %d sum %ld stacks %d\n", kRounds, sum, g_stacks);
  for (int i = 0; i < g_stacks; ++i) {
    const Truth& t = g_truth[i];
    std::printf("stack %ld %ld", t.allocations, t.live);
    for (int f = 1; f < t.depth; ++f) print_frame(t.frames[f]);
    std::printf("\n");
  }
  return 0;
}
