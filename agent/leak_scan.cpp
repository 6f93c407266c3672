// See leak_scan.hpp. Cost: every root and every live block is read once (twice at most for a
// block first reached through an interior pointer), so the scan is linear in the live heap;
// docs/analysis.md gives the measured time per GiB.
#include "agent/leak_scan.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <string>

#include "agent/config.hpp"
#include "agent/leak_graph.hpp"
#include "agent/real_functions.hpp"
#include "collector/linux/kept_file.hpp"
#include "collector/linux/own_descriptors.hpp"
#include "collector/linux/proc_file.hpp"

namespace memscope::agent {
namespace {

using format::FreeresOutcome;
using format::LeakScanRecord;
using format::LeakScanStatus;

constexpr uint64_t kPage = 4096;
constexpr size_t kRootBatchPages = 1024;  // IOV_MAX remote ranges per read
// Past the thread pointer: glibc's thread descriptor (struct pthread, about 2.3 KiB), whose
// DTV and thread-specific data pointers lead to blocks.
constexpr uint64_t kThreadDescriptorBytes = 4096;
constexpr int kRunningThreadTries = 20;  // 1 ms apart

struct ExitPoint {
  CalleeSaved registers{};
  uint64_t stack_pointer = 0;
  uint64_t thread_pointer = 0;
  pid_t tid = 0;
};
ExitPoint g_exit;
std::atomic<bool> g_exit_noted{false};
std::atomic<uint8_t> g_freeres{static_cast<uint8_t>(FreeresOutcome::kOff)};

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Reads this process's memory through the kernel: an unmapped range fails instead of faulting.
class SelfMemory : public MemorySource {
 public:
  bool refused() const { return refused_; }
  void read(const MemoryRange* ranges, size_t count, uint8_t* out) override {
    size_t done = 0;
    if (refused_) {
      for (size_t k = 0; k < count; ++k) out += zero(out, ranges[k].length);
      return;
    }
    while (done < count) {
      size_t n = std::min<size_t>(count - done, kRootBatchPages);
      uint64_t total = 0;
      iovec remote[kRootBatchPages];
      for (size_t k = 0; k < n; ++k) {
        remote[k] = {reinterpret_cast<void*>(ranges[done + k].address), ranges[done + k].length};
        total += ranges[done + k].length;
      }
      iovec local{out, total};
      ssize_t got = process_vm_readv(getpid(), &local, 1, remote, n, 0);
      if (got < 0 && errno != EFAULT) refused_ = true;
      if (static_cast<uint64_t>(got < 0 ? 0 : got) == total) {
        out += total;
        done += n;
        continue;
      }
      // Stopped inside range k: keep what came, zero the rest of k, go on after it.
      uint64_t at = got < 0 ? 0 : static_cast<uint64_t>(got);
      size_t k = 0;
      uint64_t offset = 0;
      while (offset + ranges[done + k].length <= at) offset += ranges[done + k++].length;
      uint64_t length = ranges[done + k].length;
      std::memset(out + at, 0, offset + length - at);
      out += offset + length;
      done += k + 1;
    }
  }

 private:
  static uint64_t zero(uint8_t* out, uint64_t length) {
    std::memset(out, 0, length);
    return length;
  }
  bool refused_ = false;
};

struct Root {
  uint64_t begin;
  uint64_t end;
  bool allocator_data;
};

bool in_module(const dl_phdr_info* info, uint64_t address) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    uint64_t begin = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && address >= begin && address < begin + ph.p_memsz) return true;
  }
  return false;
}

// Writable PT_LOAD segments (data, bss) of every module but the agent's own.
std::vector<Root> module_roots() {
  struct Context {
    std::vector<Root> roots;
    uint64_t agent;
    uint64_t allocator;
  } context{
      {}, reinterpret_cast<uint64_t>(&module_roots), reinterpret_cast<uint64_t>(g_real.malloc)};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto& c = *static_cast<Context*>(data);
        if (in_module(info, c.agent)) return 0;
        bool allocator = c.allocator != 0 && in_module(info, c.allocator);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const auto& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_W)) continue;
          uint64_t begin = info->dlpi_addr + ph.p_vaddr;
          c.roots.push_back({begin, begin + ph.p_memsz, allocator});
        }
        return 0;
      },
      &context);
  return context.roots;
}

// Opened by the sidecar at its start (keep_leak_scan_files) and read at the end: where the
// sidecar shares the program's descriptor table it opens nothing once the program runs.
fds::KeptFile g_maps_file;
fds::KeptFile g_task_dir;

std::string read_proc(const std::string& path) {
  collector::ReadBuffer buffer;
  auto text = collector::read_file_once(path.c_str(), buffer);
  return text ? std::string(*text) : std::string();
}

struct Mapping {
  uint64_t begin;
  uint64_t end;
  bool anonymous_readable;  // readable, and backed by no file (reading it cannot raise SIGBUS)
};

// "begin-end perms offset dev inode [path]" per line, in address order.
std::vector<Mapping> read_mappings() {
  std::vector<Mapping> out;
  std::string maps;
  if (!g_maps_file.read_all(maps)) maps = read_proc("/proc/self/maps");
  const char* p = maps.c_str();
  while (*p != '\0') {
    char* end = nullptr;
    uint64_t begin = strtoull(p, &end, 16);
    uint64_t stop = *end == '-' ? strtoull(end + 1, &end, 16) : 0;
    bool readable = *end == ' ' && end[1] == 'r';
    unsigned long long offset = 0, inode = 1;
    unsigned major = 0, minor = 0;
    if (sscanf(end, " %*s %llx %x:%x %llu", &offset, &major, &minor, &inode) != 4) inode = 1;
    if (stop > begin) out.push_back({begin, stop, readable && inode == 0});
    const char* newline = strchr(end, '\n');
    if (newline == nullptr) break;
    p = newline + 1;
  }
  return out;
}

// Reads in place what lies in anonymous readable mappings, the rest through `fallback`. Only
// for a process whose other threads are gone: then nothing can unmap memory during the scan
// (the exiting thread waits for the sidecar, which unmaps none of the program's), and reading a
// chain of small blocks costs a copy each instead of a system call each (bench/leak_scan_cost).
class FrozenMemory : public MemorySource {
 public:
  FrozenMemory(const std::vector<Mapping>& maps, MemorySource& fallback)
      : maps_(maps), fallback_(fallback) {}
  void read(const MemoryRange* ranges, size_t count, uint8_t* out) override {
    for (size_t k = 0; k < count; ++k) {
      const MemoryRange& r = ranges[k];
      if (const uint8_t* here = in_place(r)) {
        std::memcpy(out, here, r.length);
      } else {
        fallback_.read(&r, 1, out);
      }
      out += r.length;
    }
  }
  // Where [address, address + length) lies in consecutive anonymous readable mappings.
  const uint8_t* in_place(const MemoryRange& r) const override {
    auto it = std::upper_bound(maps_.begin(), maps_.end(), r.address,
                               [](uint64_t a, const Mapping& m) { return a < m.begin; });
    if (it == maps_.begin()) return nullptr;
    uint64_t covered = r.address;
    for (--it; it != maps_.end() && it->begin <= covered && it->anonymous_readable; ++it) {
      covered = it->end;
      if (covered >= r.address + r.length) return reinterpret_cast<const uint8_t*>(r.address);
    }
    return nullptr;
  }

 private:
  const std::vector<Mapping>& maps_;
  MemorySource& fallback_;
};

// A stack from `sp` up to the end of its mapping; false when no mapping holds `sp`.
bool stack_root(const std::vector<Mapping>& maps, uint64_t sp, std::vector<Root>& roots) {
  for (const Mapping& m : maps) {
    if (sp < m.begin || sp >= m.end) continue;
    roots.push_back({sp & ~uint64_t{7}, m.end, false});
    return true;
  }
  return false;
}

// The stack pointer of a thread blocked in the kernel, from its syscall file
// ("nr args... sp pc", or "-1 sp pc"); 0 while it runs.
uint64_t blocked_stack_pointer_now(const std::string& path) {
  std::string text = read_proc(path);
  std::vector<uint64_t> fields;
  const char* p = text.c_str();
  while (*p != '\0' && *p != '\n') {
    char* end = nullptr;
    uint64_t v = strtoull(p, &end, 0);
    if (end == p) return 0;  // "running"
    fields.push_back(v);
    p = end;
    while (*p == ' ') ++p;
  }
  return fields.size() >= 3 ? fields[fields.size() - 2] : 0;
}

// A thread that runs may be about to block (a worker on its way into a wait): a few tries.
uint64_t blocked_stack_pointer(const char* tid) {
  if (!fds::may_open_now()) return 0;  // the file cannot be opened: no tries to wait for
  std::string path;
  collector::append_thread_directory(path, "/proc", std::strtol(tid, nullptr, 10));
  path += "/syscall";
  for (int attempt = 0; attempt < kRunningThreadTries; ++attempt) {
    if (uint64_t sp = blocked_stack_pointer_now(path)) return sp;
    timespec pause{0, 1'000'000};
    nanosleep(&pause, nullptr);
  }
  return 0;
}

// The static TLS block and thread descriptor around the exiting thread's thread pointer (the
// main thread's are not on its stack).
void tls_root(std::vector<Root>& roots) {
  using StaticInfo = void (*)(size_t*, size_t*);
  auto info = reinterpret_cast<StaticInfo>(dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info"));
  size_t size = 0, align = 0;
  if (info != nullptr) info(&size, &align);
  uint64_t tp = g_exit.thread_pointer;
  roots.push_back({(tp - size) & ~(kPage - 1), tp + kThreadDescriptorBytes, false});
}

struct Roots {
  std::vector<Root> roots;
  uint64_t threads_scanned = 0;
  uint64_t threads_unscanned = 0;
  uint64_t other_threads = 0;  // alive besides the exiting thread and the sidecar
};

Roots gather_roots(const std::vector<Mapping>& maps) {
  Roots r;
  r.roots = module_roots();
  if (stack_root(maps, g_exit.stack_pointer, r.roots)) ++r.threads_scanned;
  tls_root(r.roots);
  auto self = static_cast<pid_t>(syscall(SYS_gettid));
  std::vector<std::string> tasks;
  if (!g_task_dir.list(tasks)) tasks = collector::list_directory("/proc/self/task");
  if (tasks.empty()) {  // unreadable (the sidecar is always one): no reading in place
    r.other_threads = 1;
    return r;
  }
  for (const std::string& name : tasks) {
    pid_t tid = atoi(name.c_str());
    if (tid <= 0 || tid == self || tid == g_exit.tid) continue;
    ++r.other_threads;
    uint64_t sp = blocked_stack_pointer(name.c_str());
    if (sp != 0 && stack_root(maps, sp, r.roots)) {
      ++r.threads_scanned;
    } else {
      ++r.threads_unscanned;
    }
  }
  return r;
}

// A root's whole words: from its first 8-byte boundary, as many as end before the root does.
MemoryRange root_words(const Root& root) {
  uint64_t begin = (root.begin + 7) & ~uint64_t{7};
  return {begin, begin < root.end ? (root.end - begin) & ~uint64_t{7} : 0};
}

// Hands every root's words to the graph: in place where the memory allows, else read a batch of
// pages at a time into a buffer.
uint64_t scan_roots(const std::vector<Root>& roots, MemorySource& memory, LeakGraph& graph) {
  std::vector<MemoryRange> pages;
  // Where each root may be read in place (null: it must be read into the buffer). The buffer is
  // as large as the largest batch to be read, and not zeroed: a short-lived process (a fork
  // child that exits at once) would otherwise spend its scan faulting in and clearing 4 MiB;
  // roots read in place need none (a fork child's buffer was a fresh page fault per page).
  std::vector<const uint64_t*> in_place(roots.size());
  uint64_t largest = 0;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Root& root = roots[i];
    MemoryRange range = root_words(root);
    if (range.length > 0) in_place[i] = reinterpret_cast<const uint64_t*>(memory.in_place(range));
    if (in_place[i] == nullptr)
      largest = std::max(largest, std::min(root.end - root.begin + kPage, kRootBatchPages * kPage));
  }
  std::unique_ptr<uint64_t[]> words(new uint64_t[largest / 8 + 1]);
  uint64_t bytes = 0;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Root& root = roots[i];
    if (in_place[i] != nullptr) {
      uint64_t length = root_words(root).length;
      graph.scan_root(in_place[i], length / 8, root.allocator_data);
      bytes += length;
      continue;
    }
    for (uint64_t at = root_words(root).address; at < root.end;) {
      pages.clear();
      uint64_t batch = 0;
      while (at < root.end && pages.size() < kRootBatchPages) {
        uint64_t next = std::min(root.end, (at | (kPage - 1)) + 1);
        uint64_t length = (next - at) & ~uint64_t{7};
        if (length > 0) pages.push_back({at, length});
        batch += length;
        at = next;
      }
      memory.read(pages.data(), pages.size(), reinterpret_cast<uint8_t*>(words.get()));
      graph.scan_root(words.get(), batch / 8, root.allocator_data);
      bytes += batch;
    }
  }
  return bytes;
}

void count_kinds(const heap::HeapModel& model, const LeakGraph& graph, LeakScanRecord& r) {
  const std::vector<heap::SiteStats>& sites = model.sites();
  std::vector<format::KindCounts> by_site(sites.size());
  for (size_t i = 0; i < graph.size(); ++i) {
    const LeakGraph::Block& b = graph.block(i);
    auto kind = static_cast<size_t>(graph.kind(i));
    for (format::KindCount* k : {&r.totals[kind], &by_site[b.site][kind]}) {
      ++k->blocks;
      k->bytes += b.size;
    }
  }
  if (r.level != format::LeakCheckLevel::kFull) return;
  for (size_t s = 0; s < by_site.size(); ++s) {
    if (sites[s].live_allocations == 0) continue;
    r.sites.push_back({sites[s].stack_id, by_site[s]});
  }
}

LeakScanStatus scan(const heap::HeapModel& model, LeakScanRecord& r) {
  uint64_t started = monotonic_ns();
  // No live block, no leak: the verdict needs no memory read (a fork child that freed what it
  // made and inherited nothing is spared reading the mappings, the roots and /proc).
  if (model.live().empty()) {
    r.duration_ns = monotonic_ns() - started;
    return LeakScanStatus::kComplete;
  }
  std::vector<LeakGraph::Block> blocks;
  blocks.reserve(model.live().size());
  for (const auto& [address, block] : model.live())
    blocks.push_back({address, block.size, block.site});
  LeakGraph graph(std::move(blocks));
  std::vector<Mapping> maps = read_mappings();
  Roots roots = gather_roots(maps);
  SelfMemory self;
  FrozenMemory frozen(maps, self);
  MemorySource& memory = roots.other_threads == 0 ? static_cast<MemorySource&>(frozen) : self;
  graph.scan_root(g_exit.registers.values, std::size(g_exit.registers.values), false);
  r.root_bytes = scan_roots(roots.roots, memory, graph);
  r.threads_scanned = roots.threads_scanned;
  r.threads_unscanned = roots.threads_unscanned;
  bool finished = graph.classify(memory, started + kLeakScanLimitNs);
  r.block_bytes = graph.bytes_read();
  r.duration_ns = monotonic_ns() - started;
  if (self.refused()) return LeakScanStatus::kUnreadable;
  if (!finished) return LeakScanStatus::kTimeLimit;
  count_kinds(model, graph, r);
  return LeakScanStatus::kComplete;
}

}  // namespace

void note_exit_point(uint64_t stack_pointer, const CalleeSaved& registers) {
  if (g_exit_noted.load()) return;
  g_exit.registers = registers;
  g_exit.stack_pointer = stack_pointer;
  g_exit.thread_pointer = reinterpret_cast<uint64_t>(__builtin_thread_pointer());
  g_exit.tid = static_cast<pid_t>(syscall(SYS_gettid));
  g_exit_noted.store(true);
}

void keep_leak_scan_files() {
  if (g_config.leak_check == static_cast<uint8_t>(format::LeakCheckLevel::kNone)) return;
  g_maps_file.keep("/proc/self/maps", O_RDONLY);
  g_task_dir.keep("/proc/self/task", O_RDONLY | O_DIRECTORY);
}

void note_freeres(FreeresOutcome outcome) {
  g_freeres.store(static_cast<uint8_t>(outcome));
}

bool leak_scan_due(format::EndReason reason) {
  return (reason == format::EndReason::kExit || reason == format::EndReason::kUnderscoreExit) &&
         g_exit_noted.load();
}

void run_leak_scan(const heap::HeapModel* model, format::EndReason reason,
                   std::vector<uint8_t>& body) {
  LeakScanRecord r;
  r.level = static_cast<format::LeakCheckLevel>(g_config.leak_check);
  r.freeres = reason == format::EndReason::kUnderscoreExit
                  ? FreeresOutcome::kUnderscoreExit
                  : static_cast<FreeresOutcome>(g_freeres.load());
  if (r.level == format::LeakCheckLevel::kNone) {
    r.status = LeakScanStatus::kOff;
  } else if (model == nullptr) {
    r.status = LeakScanStatus::kNoLiveBlocks;
  } else {
    r.status = scan(*model, r);
  }
  format::encode_leak_scan(r, body);
  // Millions of sites: keep the record readable (a chunk's limit), with the totals only.
  if (body.size() > format::kMaxChunkBytes / 4) {
    body.clear();
    r.sites.clear();
    r.level = format::LeakCheckLevel::kSummary;
    format::encode_leak_scan(r, body);
  }
}

}  // namespace memscope::agent
