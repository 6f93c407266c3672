// See sidecar.hpp. Ordering proof for the watermark records is in docs/trace-format.md.
#include "agent/sidecar.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "agent/agent_state.hpp"
#include "agent/clock.hpp"
#include "agent/config.hpp"
#include "agent/fork_inheritance.hpp"
#include "agent/futex.hpp"
#include "agent/hw_sampler.hpp"
#include "agent/last_thread.hpp"
#include "agent/leak_scan.hpp"
#include "agent/messages.hpp"
#include "agent/module_map.hpp"
#include "agent/number_table.hpp"
#include "agent/online_heap.hpp"
#include "agent/real_functions.hpp"
#include "agent/sampler.hpp"
#include "agent/sidecar_gate.hpp"
#include "agent/stack_capture.hpp"
#include "agent/thread_mode.hpp"
#include "agent/thread_registry.hpp"
#include "agent/trace_writer.hpp"
#include "collector/linux/own_descriptors.hpp"
#include "collector/linux/proc_file.hpp"
#include "format/metric_sample.hpp"
#include "format/records.hpp"
#include "memscope/collector.hpp"

namespace memscope::agent {
namespace {

constexpr size_t kSealBytes = 1 << 20;
constexpr uint64_t kNameRefreshNs = 1000000000ull;
constexpr uint64_t kBusyRecords = 4096;
// Below this many records a cycle, the sidecar sleeps its long pause: a trickle (a sampled run's
// few records, a quiet program) fills no ring in 5 ms, and a producer facing a full ring wakes
// the sidecar anyway (ring_room.cpp).
constexpr uint64_t kFewRecords = 256;
constexpr uint64_t kForkCheckRecords = 256;
constexpr uint64_t kMetricKeyIntervalNs = 2'000'000'000ull;
constexpr uint64_t kMetricSamplesPerKey = 10;

// Per-ring drain bookkeeping the watermark needs (see docs/trace-format.md, "Ordering").
struct RingHistory {
  uint64_t prev_reserved = 0;
  uint64_t prev_cycle_ns = 0;
  uint64_t watermark_ns = 0;
};

struct DrainHistory {
  RingHistory rings[kRingLevels];
  std::string name;
};

// How the sidecar's start went; start_sidecar waits for it to leave kStarting.
enum Startup : uint32_t { kStarting = 0, kReady = 1, kFailed = 2 };

// kClaimed: a caller owns the request and is filling in reason and detail; the sidecar reads
// them only once pending holds the kind (release/acquire), so a second caller can never
// overwrite what the first one asked for.
enum Pending : uint32_t {
  kNothing = 0,
  kFlushWithEnd = 1,
  kFinal = 2,
  kFlushOnly = 3,
  kClaimed = 4
};

struct Request {
  std::atomic<uint32_t> pending{kNothing};
  format::EndReason reason = format::EndReason::kUnknown;
  int64_t detail = 0;
  std::atomic<uint32_t> completed{0};  // bumped (and woken) as each request is done
};

// What the sidecar does once its loop ends: return, or end the process itself because the
// program's threads are all gone (last_thread.hpp).
enum class Afterwards { kReturn, kCallExit, kLeave };

class Sidecar {
 public:
  Sidecar(const ProcessOrigin& origin, bool program_waits)
      : origin_(origin), program_waits_(program_waits) {}
  // False when the trace could not be opened and the program waits for the sidecar: the
  // caller then frees this object at once.
  bool start();
  Afterwards afterwards() const { return afterwards_; }
  Request request;
  std::atomic<uint32_t> startup{kStarting};
  std::string startup_error;
  std::atomic<bool> stopped{false};
  const std::string& trace_path() const { return writer_.path(); }
  // In a fork child, of the parent's object as the fork copied it.
  std::unique_ptr<OnlineHeap> take_online_heap() { return std::move(online_heap_); }
  const OnlineHeap* online_heap() const { return online_heap_.get(); }

 private:
  bool open(std::string& error);
  void run();
  void announce(Startup state);
  void note_opening_stopped();
  void write_process_info();
  void write_sampling(uint8_t phase);
  uint64_t drain_all(uint64_t cycle_ns);
  uint64_t drain(ThreadState* ts, EventRing& ring, RingHistory& history, uint64_t cycle_ns);
  void encode(ThreadState* ts, const EventRing& ring, uint64_t pos, const RecordHeader& h);
  void encode_stack(const EventRing& ring, uint64_t pos);
  void encode_alloc(ThreadState* ts, uint8_t fn, const AllocPayload& a);
  void encode_free(ThreadState* ts, const FreePayload& f);
  void encode_realloc(ThreadState* ts, uint8_t fn, const ReallocPayload& r);
  uint64_t stack_id(uint64_t hash);
  void select_thread(pid_t tid);
  void thread_started(ThreadState* ts, const ThreadStartPayload& start);
  void write_thread_cpu(ThreadState* ts, const ThreadCpuReading& r, uint8_t phase);
  void fill_profiler_waits();
  void thread_ended(ThreadState* ts, const ThreadEndPayload& end);
  void refresh_thread_names(uint64_t now);
  std::string current_name(pid_t tid) const;
  void write_module_changes(uint64_t now);
  void write_watermark(uint64_t watermark);
  void write_process_end(format::EndReason reason, int64_t detail);
  void write_leak_scan(format::EndReason reason);
  void write_heap_summary();
  bool mark_truncated(std::string& error);
  void sample_metrics(uint64_t now);
  bool seal(bool force);
  void fail(const std::string& error);
  Afterwards check_program_threads(uint64_t now);
  void finish_alone();

  ProcessOrigin origin_;
  bool program_waits_;  // false: nobody waits for the start (start_sidecar), failing is ours
  // Only this process's (TraceWriter::unshared): a fork child starts one of its own.
  std::unique_ptr<TraceWriter> own_writer_ = TraceWriter::unshared();
  TraceWriter& writer_ = *own_writer_;
  ModuleMap modules_;
  NumberTable stack_ids_;      // stack hash -> the stack's id in the trace
  format::StackRecord stack_;  // reused: its frames keep their storage
  std::unordered_map<ThreadState*, DrainHistory> history_;
  pid_t current_tid_ = -1;
  uint64_t last_seal_ns_ = 0;
  uint64_t last_names_ns_ = 0;
  uint64_t samples_ = 0;       // metric samples taken
  uint64_t named_sample_ = 0;  // samples_ when names were last refreshed
  uint64_t last_watermark_ = 0;
  uint64_t modules_generation_ = ~0ull;
  // A fork child's model inherits its parent's blocks (fork_inheritance.hpp); null once given up.
  std::unique_ptr<OnlineHeap> online_heap_;
  std::unique_ptr<PlatformResourceCollector> collector_;
  uint64_t next_sample_ns_ = 0;
  std::vector<uint8_t> sample_body_;
  PlatformMetrics sample_;
  format::MetricSampleEncoder sample_encoder_;
  HwSampler hw_;
  std::vector<std::pair<int32_t, uint64_t>> waits_by_tid_;  // reused by fill_profiler_waits
  uint64_t last_metric_key_ns_ = 0;
  uint64_t samples_since_key_ = 0;
  bool failed_ = false;
  bool announced_ = false;
  bool opening_noted_ = false;
  bool exit_thread_started_ = false;
  Afterwards afterwards_ = Afterwards::kReturn;
};

Sidecar* g_sidecar = nullptr;

std::string read_small_file(const char* path) {
  int fd = fds::open_file(path, O_RDONLY);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  fds::close_own(fd);
  return out;
}

std::string thread_name(pid_t tid) {
  std::string path;
  collector::append_thread_directory(path, "/proc", tid);
  std::string name = read_small_file((path + "/comm").c_str());
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

std::string find_malloc_provider() {
  Dl_info info;
  if (g_real.malloc && dladdr(reinterpret_cast<void*>(g_real.malloc), &info) && info.dli_fname)
    return info.dli_fname;
  return {};
}

// Looked up once per image (dladdr searches the module's symbols): fork children inherit it.
// Set by the sidecar alone; never destroyed, as the sidecar may still read it while the static
// destructors run.
const std::string* g_malloc_provider = nullptr;

const std::string& malloc_provider() {
  if (g_malloc_provider == nullptr) g_malloc_provider = new std::string(find_malloc_provider());
  return *g_malloc_provider;
}

// The same for the executable's path: a fork child runs its parent's image (the readlink was
// about 1 % of bench_fork_storm's CPU under memscope, perf). Empty when it cannot be read.
const std::string* g_executable = nullptr;

const std::string& executable() {
  if (g_executable == nullptr) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    g_executable = new std::string(n > 0 ? std::string(exe, static_cast<size_t>(n)) : "");
  }
  return *g_executable;
}

uint64_t loader_generation() {
  uint64_t generation = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        *static_cast<uint64_t*>(data) = info->dlpi_adds * 1000003ull + info->dlpi_subs;
        return 1;
      },
      &generation);
  return generation;
}

// A descriptor table of its own first: from then on no number the sidecar opens is one the
// program could be given, and the program cannot close them. In a process's first image, or
// where the table may be refused, the program waits (start_sidecar) until the first cycle has
// opened everything the collector keeps: a fork child must not return from fork() while the
// sidecar takes numbers it will use, and a program that forbids open() with a seccomp filter
// early in main() must find them opened. A fork child whose sidecar gets a table of its own
// does not wait at all (its events wait in its ring until the trace is open, and its requests
// are served once it is); a trace that cannot be opened then stops tracing as a failed write
// would, with the message, while the sidecar still answers requests.
bool Sidecar::start() {
  bool private_table = fds::use_private_table();
  fds::watch_seccomp();
  keep_process_stat();
  keep_leak_scan_files();
  if (!open(startup_error)) {
    announce(kFailed);
    if (program_waits_) return false;  // the last use of this object: start_sidecar() deletes it
    fail(startup_error);
  }
  if (private_table && origin_.parent_pid != 0) announce(kReady);
  // Nobody waits for the collector's descriptors here, and its baseline reading is worth
  // nothing to a child that ends before its first sample: a fork child (forked workers, a shell
  // running commands) takes it one interval in, so a short-lived child is spared its cost.
  if (!program_waits_)
    next_sample_ns_ = now_ns() + uint64_t{g_config.sample_interval_ms} * 1000000ull;
  run();
  return true;
}

void Sidecar::announce(Startup state) {
  if (announced_) return;
  announced_ = true;
  startup.store(state);
  futex_wake_all(startup);
}

// Once the program has installed a seccomp filter, the sidecar opens nothing more (such a
// filter may kill the process on open()): the user and the trace are told.
void Sidecar::note_opening_stopped() {
  if (opening_noted_ || !fds::opening_stopped()) return;
  opening_noted_ = true;
  tell_user(
      {"the program installed a seccomp filter; memscope opens no more files (threads "
       "started from now on have their CPU time only, renamed threads keep their name)"});
}

bool Sidecar::open(std::string& error) {
  timespec real;
  clock_gettime(CLOCK_REALTIME, &real);
  uint64_t real_ns =
      static_cast<uint64_t>(real.tv_sec) * 1000000000ull + static_cast<uint64_t>(real.tv_nsec);
  uint64_t start_ns = now_ns();
  writer_.limit_size(g_config.max_trace_bytes);
  if (!writer_.open(g_config.output_dir, getpid(), start_ns, real_ns, error)) return false;
  write_process_info();
  if (sampling_on()) write_sampling(0);
  // On disk at once: a process killed before the first periodic seal still says who it was.
  if (!writer_.seal_chunk(error)) return false;
  if (writer_.truncated()) return mark_truncated(error);
  size_t budget = size_t{g_config.heap_summary_mb} << 20;
  // A fork child keeps its model for the leak scan alone: none when no scan is asked for.
  if (origin_.parent_pid == 0) {
    online_heap_ = std::make_unique<OnlineHeap>(start_ns, budget);
  } else if (children_scan_leaks()) {
    online_heap_ = take_inherited_heap(start_ns, budget);
  }
  return true;
}

void Sidecar::write_process_info() {
  std::string cmdline = read_small_file("/proc/self/cmdline");
  format::ProcessInfoRecord info;
  info.pid = static_cast<uint64_t>(getpid());
  info.ppid = static_cast<uint64_t>(getppid());
  info.parent_pid = static_cast<uint64_t>(origin_.parent_pid);
  info.fork_stamp = origin_.fork_stamp;
  info.exe = executable();
  info.cmdline = std::move(cmdline);
  info.malloc_provider = malloc_provider();
  info.stack_depth = g_config.stacks ? g_config.stack_depth : 0;
  info.ring_slots = g_config.ring_slots;
  info.drop_when_full = g_config.drop_when_full ? 1 : 0;
  // Written by the sidecar itself: the analyzer tells memscope's thread from the program's by
  // this tid, not by its name.
  info.sidecar_tid = static_cast<uint64_t>(syscall(SYS_gettid));
  writer_.write(info);
}

// A sampled trace says so at its start, and gives the exact totals at each end.
void Sidecar::write_sampling(uint8_t phase) {
  std::vector<uint8_t> body;
  format::encode_sampling(sampling_totals(phase), body);
  writer_.write(format::SamplingFrame{std::string(body.begin(), body.end())});
}

void Sidecar::select_thread(pid_t tid) {
  if (tid == current_tid_) return;
  writer_.write(format::ThreadSwitchRecord{static_cast<uint64_t>(tid)});
  current_tid_ = tid;
}

uint64_t Sidecar::stack_id(uint64_t hash) {
  return hash == 0 ? 0 : stack_ids_.find(hash);
}

void Sidecar::encode_stack(const EventRing& ring, uint64_t pos) {
  auto stack = ring.read<StackPayload>(pos);
  if (stack_ids_.find(stack.hash) != 0) return;
  auto id = static_cast<uint32_t>(stack_ids_.size() + 1);
  stack_ids_.add(stack.hash, id);
  stack_.id = id;
  stack_.frames.clear();
  uint64_t first = pos + record_words<StackPayload>();
  for (uint64_t i = 0; i < stack.frame_count; ++i) {
    uint64_t pc = ring.get(first + i);
    // The program never wrote the agent's frames, so they are no part of its stack.
    if (!inside_agent(pc)) stack_.frames.push_back(pc);
  }
  writer_.write(stack_);
}

void Sidecar::thread_started(ThreadState* ts, const ThreadStartPayload& start) {
  auto tid = static_cast<pid_t>(start.tid);
  writer_.write(
      format::ThreadStartRecord{start.stamp, start.tid, start.parent_tid, current_name(tid)});
  write_thread_cpu(ts, ts->cpu_at_start, 0);
  hw_.thread_started(tid);
}

// The thread's own reading (thread_cpu.hpp) and memscope's waits so far: the analyzer takes the
// end reading minus the start reading as the thread's exact figures.
void Sidecar::write_thread_cpu(ThreadState* ts, const ThreadCpuReading& r, uint8_t phase) {
  if (!r.valid) return;
  format::ThreadCpuFrame frame{{r.stamp, static_cast<uint64_t>(ts->tid), phase, r.cpu_ns, r.user_ns,
                                r.system_ns, r.voluntary_switches, r.involuntary_switches,
                                r.minor_faults, r.major_faults,
                                ts->ring_wait_ns.load() + ts->gate_wait_ns.load()}};
  writer_.write(frame);
}

void Sidecar::thread_ended(ThreadState* ts, const ThreadEndPayload& end) {
  char name[17] = {};
  std::memcpy(name, end.name, 16);
  writer_.write(format::ThreadEndRecord{end.stamp, end.tid, name, ts->ring_waits.load(),
                                        ts->ring_wait_ns.load(), ts->dropped_events.load()});
  write_thread_cpu(ts, ts->cpu_at_end, 1);
  hw_.thread_ended(writer_, ts->tid, now_ns());
}

void Sidecar::encode(ThreadState* ts, const EventRing& ring, uint64_t pos, const RecordHeader& h) {
  if (writer_.truncated()) return;  // drained, never written: spare the encoding
  switch (h.type) {
    case RecordType::kNop:
      return;
    case RecordType::kStack:
      return encode_stack(ring, pos);
    case RecordType::kThreadStart:
      return thread_started(ts, ring.read<ThreadStartPayload>(pos));
    case RecordType::kThreadEnd:
      return thread_ended(ts, ring.read<ThreadEndPayload>(pos));
    case RecordType::kRegion: {
      auto region = ring.read<RegionPayload>(pos);
      return writer_.write(format::RegionRecord{region.stamp, region.region_id, h.fn});
    }
    case RecordType::kAlloc:
      return encode_alloc(ts, h.fn, ring.read<AllocPayload>(pos));
    case RecordType::kFree:
      return encode_free(ts, ring.read<FreePayload>(pos));
    case RecordType::kRealloc:
      return encode_realloc(ts, h.fn, ring.read<ReallocPayload>(pos));
  }
}

void Sidecar::encode_alloc(ThreadState* ts, uint8_t fn, const AllocPayload& a) {
  select_thread(ts->tid);
  uint64_t stack = stack_id(a.stack_hash);
  if (online_heap_) online_heap_->add(heap_events(static_cast<uint32_t>(ts->tid), fn, a, stack));
  writer_.write(format::AllocRecord{a.stamp, fn, a.ptr, a.size, stack});
}

void Sidecar::encode_free(ThreadState* ts, const FreePayload& f) {
  select_thread(ts->tid);
  if (online_heap_) online_heap_->add(heap_events(static_cast<uint32_t>(ts->tid), f));
  writer_.write(format::FreeRecord{f.stamp, f.ptr});
}

void Sidecar::encode_realloc(ThreadState* ts, uint8_t fn, const ReallocPayload& r) {
  select_thread(ts->tid);
  uint64_t stack = stack_id(r.stack_hash);
  if (online_heap_) online_heap_->add(heap_events(static_cast<uint32_t>(ts->tid), fn, r, stack));
  writer_.write(
      format::ReallocRecord{r.stamp, fn, r.stamp_after - r.stamp, r.old_ptr, r.ptr, r.size, stack});
}

// Frees the words below `pos` and wakes the ring's producer if it waits for room: at the end of
// a drain that freed some (`done`), or once half the ring is free, so that the producer neither
// waits for a whole ring's drain nor wakes (and takes a core from the sidecar) for every few
// hundred records.
void make_room(ThreadState* ts, EventRing& ring, uint64_t pos, bool done) {
  ring.advance_to(pos);
  // Pairs with the producer's fence in wait_for_room (ring_room.cpp).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (ts->room_waiters.load(std::memory_order_relaxed) == 0) return;
  if (done || ring.reserved() - pos <= ring.capacity() / 2) signal_ring_room(ts->room_epoch);
}

uint64_t Sidecar::drain(ThreadState* ts, EventRing& ring, RingHistory& history, uint64_t cycle_ns) {
  uint64_t reserved = ring.reserved();
  uint64_t pos = ring.head();
  uint64_t start = pos;
  uint64_t records = 0;
  // Only what was reserved when the drain began: a producer that keeps pace with the drain
  // would otherwise keep one drain (and the cycle, and its watermark) going for the whole storm,
  // every later event would wait in the online heap for that watermark, and the other rings
  // would fill up meanwhile.
  RecordHeader header;
  while (pos < reserved && ring.published(pos, header)) {
    encode(ts, ring, pos, header);
    pos += header.words;
    // Between records the sidecar holds nothing a fork could copy in use: a forking thread
    // need not wait for the rest of a busy cycle.
    // The head moves first: a fork child takes the forking thread's undrained events from it.
    // And a producer waiting for room resumes as soon as there is some, not once the ring is
    // empty: it fills the ring while the sidecar drains it, instead of taking turns.
    if (++records % kForkCheckRecords == 0) {
      make_room(ts, ring, pos, false);
      g_sidecar_progress.fetch_add(1, std::memory_order_relaxed);
      sidecar_park_if_forking();
    }
  }
  // A drain that freed nothing (the thread's nested ring, mostly empty) wakes nobody: a waiter
  // woken then finds no more room than before and sleeps again, twice a cycle on a busy run.
  if (pos != start) make_room(ts, ring, pos, true);
  // Everything reserved before this cycle began is drained: later events are stamped later.
  if (pos >= reserved) {
    history.watermark_ns = cycle_ns;
  } else if (pos >= history.prev_reserved) {
    history.watermark_ns = history.prev_cycle_ns;
  }
  history.prev_reserved = reserved;
  history.prev_cycle_ns = cycle_ns;
  return records;
}

uint64_t Sidecar::drain_all(uint64_t cycle_ns) {
  uint64_t records = 0;
  uint64_t watermark = cycle_ns;
  for (ThreadState* ts = registry_head(); ts != nullptr; ts = ts->next) {
    if (ts->phase.load() == ThreadPhase::kReclaimable) {
      history_.erase(ts);
      continue;
    }
    DrainHistory& history = history_[ts];
    // The nested ring first: a signal handler's records come before the thread's end.
    for (int level = kRingLevels - 1; level >= 0; --level)
      records += drain(ts, ring_at_level(ts, level), history.rings[level], cycle_ns);
    if (try_reclaim(ts)) {
      history_.erase(ts);
      continue;
    }
    for (const RingHistory& ring : history.rings)
      if (ring.watermark_ns < watermark) watermark = ring.watermark_ns;
  }
  write_watermark(watermark);
  return records;
}

void Sidecar::write_watermark(uint64_t watermark) {
  if (watermark <= last_watermark_) return;
  writer_.write(format::WatermarkRecord{watermark});
  last_watermark_ = watermark;
  if (online_heap_) online_heap_->release_before(watermark);
}

// A thread's name now, from its comm file; where nothing may be opened any more, the name the
// last sample read (from the task's stat file, kept open since the start for the threads there
// were then), "" for the others.
std::string Sidecar::current_name(pid_t tid) const {
  if (fds::may_open_now()) return thread_name(tid);
  for (const ThreadResourceMetrics& t : sample_.threads)
    if (t.thread_id == tid) return t.thread_name;
  return {};
}

// Once a second from the comm files; where nothing may be opened, after each new sample instead
// (current_name).
void Sidecar::refresh_thread_names(uint64_t now) {
  if (fds::may_open_now() ? now - last_names_ns_ < kNameRefreshNs : named_sample_ == samples_)
    return;
  last_names_ns_ = now;
  named_sample_ = samples_;
  for (ThreadState* ts = registry_head(); ts != nullptr; ts = ts->next) {
    if (ts->phase.load() != ThreadPhase::kLive) continue;
    std::string name = current_name(ts->tid);
    auto it = history_.find(ts);
    if (it == history_.end() || name.empty() || it->second.name == name) continue;
    it->second.name = name;
    writer_.write(format::ThreadNameRecord{now, static_cast<uint64_t>(ts->tid), name});
  }
}

void Sidecar::write_module_changes(uint64_t now) {
  uint64_t generation = loader_generation();
  if (!g_modules_changed.exchange(false) && generation == modules_generation_) return;
  modules_generation_ = generation;
  ModuleChanges changes = modules_.rescan(generation);
  auto emit = [&](const Module& m, bool loaded) {
    writer_.write(format::ModuleRecord{now, static_cast<uint8_t>(loaded ? 1 : 0), m.base, m.size,
                                       m.path, m.build_id});
  };
  for (const Module& m : changes.loaded) emit(m, true);
  for (const Module& m : changes.unloaded) emit(m, false);
}

// At a normal end, before the summary (which drops the model): the kinds of the live blocks.
void Sidecar::write_leak_scan(format::EndReason reason) {
  if (!leak_scan_due(reason)) return;
  std::vector<uint8_t> body;
  run_leak_scan(online_heap_ ? online_heap_->settle() : nullptr, reason, body);
  writer_.write(format::LeakScanFrame{std::string(body.begin(), body.end())});
}

// Once, as the last word on the heap: a summary written earlier could be followed by events
// (an exec that failed), so an exec's end gets none and its trace is replayed. A summary too
// big for a chunk (millions of sites) is left out the same way.
// A fork child's model (kept for its leak scan) holds its inherited blocks, which a replay of
// the child's trace alone would not: the analyzer replays a fork child from its parent's trace.
void Sidecar::write_heap_summary() {
  std::vector<uint8_t> body;
  if (origin_.parent_pid != 0) online_heap_.reset();
  if (!online_heap_ || !online_heap_->finish(body)) return;
  online_heap_.reset();
  if (body.size() > format::kMaxChunkBytes / 4) return;
  writer_.write(format::HeapSummaryRecord{std::string(body.begin(), body.end())});
}

// The size limit was reached: the marker, on disk at once, and from then on no replay of the
// heap (it could not be checked against the trace) and nothing written but the end.
bool Sidecar::mark_truncated(std::string& error) {
  online_heap_.reset();
  uint64_t limit = writer_.size_limit();
  writer_.write(format::TraceTruncatedRecord{now_ns(), limit});
  tell_user({"the trace reached its size limit of ", std::to_string(limit),
             " bytes; it says so, and memscope writes nothing more to it but the process's end "
             "(the program continues)"});
  return writer_.seal_past_limit(error);
}

void Sidecar::write_process_end(format::EndReason reason, int64_t detail) {
  if (writer_.truncated()) writer_.discard_pending();
  if (sampling_on()) write_sampling(1);
  uint64_t waits = 0, dropped = 0;
  for (ThreadState* ts = registry_head(); ts != nullptr; ts = ts->next) {
    waits += ts->ring_waits.load();
    dropped += ts->dropped_events.load();
  }
  writer_.write(format::ProcessEndRecord{now_ns(), reason, detail, dropped, waits});
  // Past the size limit only this record is written, in a chunk of its own.
  std::string error;
  if (writer_.truncated() && !writer_.seal_past_limit(error)) fail(error);
}

// Machine and process metrics, sampled on the collector's own (adaptive) interval and written
// as kMetricSample records beside the heap events they will be lined up with.
void Sidecar::sample_metrics(uint64_t now) {
  if (g_config.sample_interval_ms == 0 || now < next_sample_ns_) return;
  if (collector_ == nullptr) {
    // The loader's own allocations while the collector opens NVML stay in the program's heap,
    // untraced: the loader may free them from any thread.
    ScopedMode passthrough(ThreadMode::kPassthrough);
    CollectorOptions options;
    options.interval = std::chrono::milliseconds(g_config.sample_interval_ms);
    collector_ = std::make_unique<PlatformResourceCollector>(options);
    // The constructor took the baseline reading: a sample right after it would divide tick-
    // granular counters by a few microseconds (a 2000 % process CPU was seen).
    next_sample_ns_ = now + uint64_t{g_config.sample_interval_ms} * 1000000ull;
    return;
  }
  // One PlatformMetrics reused (no allocation in the steady state); a delta against the
  // previous sample of this chunk, or a key sample first in each chunk (see seal()).
  collector_->collect_metrics(sample_);
  ++samples_;
  fill_profiler_waits();
  sample_body_.clear();
  if (sample_encoder_.encode(sample_, sample_body_)) {
    last_metric_key_ns_ = now;
    samples_since_key_ = 0;
  }
  ++samples_since_key_;
  writer_.write(format::MetricSampleRecord{sample_.timestamp_ns,
                                           std::string(sample_body_.begin(), sample_body_.end())});
  uint64_t interval_ms =
      g_config.sample_fixed
          ? g_config.sample_interval_ms
          : static_cast<uint64_t>(collector_->get_optimal_collection_interval().count());
  next_sample_ns_ = now + interval_ms * 1000000ull;
}

// Each sampled thread's time waiting on memscope (ring full, fork gate, flushes), which the
// analyzer takes out of the thread's blocked time. Sorted once per sample: no allocation once
// the vector has grown to the thread count.
void Sidecar::fill_profiler_waits() {
  waits_by_tid_.clear();
  for (ThreadState* ts = registry_head(); ts != nullptr; ts = ts->next)
    if (ts->phase.load() == ThreadPhase::kLive)
      waits_by_tid_.emplace_back(ts->tid, ts->ring_wait_ns.load() + ts->gate_wait_ns.load());
  std::sort(waits_by_tid_.begin(), waits_by_tid_.end());
  for (ThreadResourceMetrics& t : sample_.threads) {
    auto it = std::lower_bound(waits_by_tid_.begin(), waits_by_tid_.end(),
                               std::pair<int32_t, uint64_t>(t.thread_id, 0));
    if (it != waits_by_tid_.end() && it->first == t.thread_id) t.profiler_wait_ns = it->second;
  }
}

void Sidecar::fail(const std::string& error) {
  failed_ = true;
  g_recording.store(false);
  tell_user({error, "; tracing stopped, the program continues"});
}

// Sealing every half flush interval bounds what SIGKILL can lose to the interval itself: an event
// waits at most half an interval plus one drain cycle before its chunk is on disk.
bool Sidecar::seal(bool force) {
  uint64_t now = now_ns();
  bool due = writer_.pending_bytes() >= kSealBytes ||
             now - last_seal_ns_ >= uint64_t{g_config.flush_interval_ms} * 1000000ull / 2;
  if (!force && !due) return true;
  sidecar_park_if_forking();  // a fork need not wait for a megabyte's compression
  last_seal_ns_ = now;
  current_tid_ = -1;  // each chunk decodes on its own
  std::string error;
  bool was_truncated = writer_.truncated();
  g_sidecar_progress.fetch_add(1, std::memory_order_relaxed);
  if (!writer_.seal_chunk(error) ||
      (!was_truncated && writer_.truncated() && !mark_truncated(error))) {
    fail(error);
    return false;
  }
  // A key metric sample every kMetricKeyIntervalNs, and no more often than every
  // kMetricSamplesPerKey samples when the interval has backed off: key samples are most of the
  // metrics' bytes (docs/trace-format-metrics.md, "Key samples").
  if (now - last_metric_key_ns_ >= kMetricKeyIntervalNs &&
      samples_since_key_ >= kMetricSamplesPerKey)
    sample_encoder_.reset();
  return true;
}

// Natively the process would have ended with its last thread; here the sidecar keeps it alive.
Afterwards Sidecar::check_program_threads(uint64_t now) {
  if (exit_thread_started_) return Afterwards::kReturn;
  switch (program_threads_left(now)) {
    case ProgramThreads::kRunning:
      return Afterwards::kReturn;
    case ProgramThreads::kExitOwed:
      exit_thread_started_ = start_exit_thread();  // its exit(0) asks us for the final flush
      return exit_thread_started_ ? Afterwards::kReturn : Afterwards::kCallExit;
    case ProgramThreads::kAllGone:
      return Afterwards::kLeave;
  }
  return Afterwards::kReturn;
}

// The final flush with nobody to ask for it: the last word before the sidecar ends the process.
void Sidecar::finish_alone() {
  g_recording.store(false);
  if (!failed_) {
    drain_all(now_ns());
    write_heap_summary();
    hw_.tick(writer_, now_ns(), true);
    int status = all_gone_status();
    if (afterwards_ == Afterwards::kCallExit) {
      write_process_end(format::EndReason::kExit, 0);
    } else if (WIFSIGNALED(status)) {
      write_process_end(format::EndReason::kSignal, WTERMSIG(status));
    } else {
      write_process_end(format::EndReason::kLastThreadExit, WEXITSTATUS(status));
    }
    seal(true);
  }
  g_sidecar_running.store(false);
}

void Sidecar::run() {
  last_seal_ns_ = now_ns();
  // Every thread's name is read as its start is drained: the first refresh is due a second in
  // (a fork child read its thread's comm file twice in its first cycle).
  last_names_ns_ = last_seal_ns_;
  while (true) {
    // Before the drain: a producer that asks for room meanwhile cuts the pause after it short.
    uint32_t wakeups = sidecar_wakeups();
    uint64_t cycle = now_ns();
    write_module_changes(cycle);
    // Before the first drain: the threads whose start it writes get counters of their own.
    if (!failed_ && g_config.sample_interval_ms != 0) hw_.start(writer_, cycle);
    uint64_t records = drain_all(cycle);
    refresh_thread_names(cycle);
    if (!failed_ && !writer_.truncated()) {
      sample_metrics(cycle);
      hw_.tick(writer_, cycle, false);
    }
    note_opening_stopped();
    // The first cycle opened what the sidecar keeps (see start()); sharing the program's table,
    // it opens nothing more.
    if (!fds::in_private_table()) fds::stop_opening_in_shared_table();
    announce(kReady);
    uint32_t pending = request.pending.load(std::memory_order_acquire);
    if (pending == kClaimed) pending = kNothing;  // its caller is still filling it in
    if (pending == kNothing) afterwards_ = check_program_threads(cycle);
    if (afterwards_ != Afterwards::kReturn) {
      finish_alone();
      break;
    }
    if (pending != kNothing && !failed_) {
      drain_all(now_ns());
      if (pending == kFinal) write_leak_scan(request.reason);
      if (pending == kFinal) write_heap_summary();
      if (pending != kFlushOnly) hw_.tick(writer_, now_ns(), true);
      if (pending != kFlushOnly) write_process_end(request.reason, request.detail);
      seal(true);
    } else if (!failed_) {
      seal(false);
    }
    if (pending != kNothing) {
      // The final request stays pending, so no later caller can claim a request nobody serves;
      // they see the sidecar stopped instead.
      if (pending == kFinal) {
        g_sidecar_running.store(false);
      } else {
        request.pending.store(kNothing);
      }
      request.completed.fetch_add(1, std::memory_order_release);
      futex_wake_all(request.completed);
      if (pending == kFinal) break;
    }
    // Busy: come straight back (producers may be waiting for room); idle: sleep until woken.
    if (records >= kBusyRecords) {
      sched_yield();
    } else {
      sidecar_pause(records >= kFewRecords ? 1000000ull : 5000000ull, wakeups);
    }
    sidecar_park_if_forking();
  }
  stopped.store(true);
}

// Bounded like the flushes: a wedged start must not keep the program from running.
Startup wait_for_startup(Sidecar& sidecar) {
  constexpr int kSlices = 500;
  for (int i = 0; i < kSlices; ++i) {
    uint32_t state = sidecar.startup.load();
    if (state != kStarting) return static_cast<Startup>(state);
    futex_wait(sidecar.startup, kStarting, 10'000'000ull);
  }
  return kStarting;
}

void* sidecar_main(void*) {
  t_mode = ThreadMode::kAgentThread;
  prctl(PR_SET_NAME, "memscope");
  Sidecar* sidecar = g_sidecar;
  if (!sidecar->start()) return nullptr;
  if (sidecar->afterwards() == Afterwards::kCallExit) {
    t_mode = ThreadMode::kPassthrough;  // the program's exit handlers run here, on its heap
    restore_program_signal_mask();
    exit(0);
  }
  if (sidecar->afterwards() == Afterwards::kLeave) end_process_with(all_gone_status());
  return nullptr;
}

}  // namespace

bool start_sidecar(const ProcessOrigin& origin) {
  bool program_waits = origin.parent_pid == 0 || !fds::private_table_expected();
  auto* sidecar = new Sidecar(origin, program_waits);
  g_sidecar = sidecar;
  g_trace_generation.fetch_add(1);
  // Requests made before the trace is open are served once it is.
  if (!program_waits) g_sidecar_running.store(true);
  // Process-directed signals must reach the program's threads, never ours.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  pthread_t thread;
  int rc = g_real.pthread_create(&thread, nullptr, sidecar_main, nullptr);
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (rc != 0) {
    tell_user({"cannot start the sidecar thread; the program runs untraced"});
    g_sidecar_running.store(false);
    g_recording.store(false);
    return false;
  }
  pthread_detach(thread);
  if (!program_waits) return true;
  if (wait_for_startup(*sidecar) == kFailed) {
    tell_user({sidecar->startup_error, "; the program runs untraced"});
    g_sidecar = nullptr;
    delete sidecar;  // announcing was its thread's last use of it
    g_recording.store(false);
    return false;
  }
  g_sidecar_running.store(true);
  return true;
}

namespace {

// A wedged sidecar must not hang an exit: a request is given up once the sidecar has made no
// progress for this long. The final flush is waited for while the sidecar makes progress (a
// backlog of records to drain at a large program's end), or the trace would lose its end: its
// work is finite, since recording stopped. Any other flush (before an exec, a region's end) is
// given up after this long in all, as other threads may go on recording meanwhile.
constexpr uint64_t kStalledSidecarNs = 5'000'000'000ull;

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Waits until `completed` moves on from `seen`; false after kStalledSidecarNs, or for the final
// flush (`while_progressing`) once the sidecar made no progress for that long.
bool wait_for_completion(Request& request, uint32_t seen, bool while_progressing) {
  uint32_t progress = g_sidecar_progress.load(std::memory_order_relaxed);
  uint64_t deadline = monotonic_ns() + kStalledSidecarNs;
  while (request.completed.load(std::memory_order_acquire) == seen) {
    uint64_t now = monotonic_ns();
    if (now >= deadline) {
      uint32_t latest = g_sidecar_progress.load(std::memory_order_relaxed);
      if (!while_progressing || latest == progress) return false;
      progress = latest;
      deadline = now + kStalledSidecarNs;
    }
    futex_wait(request.completed, seen, deadline - now);
  }
  return true;
}

// Asks the sidecar for `kind` and waits for it to be done (woken by the sidecar, not polled).
// A request already in flight from another thread is waited for first, then ours is made.
void request_flush(Pending kind, format::EndReason reason, int64_t detail) {
  Sidecar* sidecar = g_sidecar;
  if (sidecar == nullptr || !g_sidecar_running.load()) return;
  // The last records must not race with new ones: recording ends before the final drain.
  if (kind == kFinal) g_recording.store(false);
  Request& request = sidecar->request;
  uint64_t started = now_ns();
  for (;;) {
    uint32_t before = request.completed.load(std::memory_order_acquire);
    uint32_t expected = kNothing;
    if (request.pending.compare_exchange_strong(expected, kClaimed)) {
      request.reason = reason;
      request.detail = detail;
      request.pending.store(kind, std::memory_order_release);
      wake_sidecar();
      wait_for_completion(request, before, kind == kFinal);
      break;
    }
    // Another thread's request: once it is done, ours follows (unless it stopped the sidecar).
    if (!g_sidecar_running.load() || !wait_for_completion(request, before, kind == kFinal)) return;
  }
  add_gate_wait(now_ns() - started);  // memscope's time, not the program's
  if (kind == kFinal) g_sidecar_running.store(false);
}

}  // namespace

void flush_sidecar(format::EndReason reason, int64_t detail, bool final) {
  request_flush(final ? kFinal : kFlushWithEnd, reason, detail);
}

void flush_sidecar_records() {
  request_flush(kFlushOnly, format::EndReason::kUnknown, 0);
}

std::string sidecar_trace_path() {
  Sidecar* sidecar = g_sidecar;
  // A fork child's sidecar may still be opening its trace (start_sidecar).
  if (sidecar == nullptr || !g_sidecar_running.load() || wait_for_startup(*sidecar) != kReady)
    return {};
  return sidecar->trace_path();
}

const OnlineHeap* parked_sidecar_model() {
  return g_sidecar == nullptr ? nullptr : g_sidecar->online_heap();
}

std::unique_ptr<OnlineHeap> abandon_sidecar_after_fork(bool take_model) {
  std::unique_ptr<OnlineHeap> model;
  if (take_model && g_sidecar != nullptr) model = g_sidecar->take_online_heap();
  g_sidecar = nullptr;  // the parent's object: its descriptors are in the parent's sidecar table
  g_sidecar_running.store(false);
  return model;
}

}  // namespace memscope::agent
