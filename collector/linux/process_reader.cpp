// Linux per-process and per-thread readings; see process_reader.hpp.
#include "collector/linux/process_reader.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "collector/linux/own_descriptors.hpp"
#include "collector/linux/rates.hpp"

namespace memscope::collector {
namespace {

// A thread's CPU time without a descriptor, from its CPU clock: the id glibc's
// pthread_getcpuclockid builds from a tid, ((~tid) << 3) | CPUCLOCK_SCHED (2) |
// CPUCLOCK_PERTHREAD (4). For threads whose files cannot be opened because memscope opens
// nothing any more (own_descriptors.hpp): the fields only /proc gives (name, user and kernel
// split, faults, switches, run-queue wait, IO) stay absent. False: the thread is gone.
bool read_thread_clock(int32_t tid, ThreadResourceMetrics& out) {
  auto id = static_cast<clockid_t>(((~static_cast<uint32_t>(tid)) << 3) | 6u);
  timespec ts;
  if (clock_gettime(id, &ts) != 0) return false;
  out.cpu_time_total_ns =
      static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
  return true;
}

}  // namespace

bool parse_proc_stat(std::string_view text, ProcStat& out) {
  size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return false;
  }
  out.comm = text.substr(open + 1, close - open - 1);
  // Field numbers as in proc(5); field 3 (state) is the first one after the name. The kernel
  // separates fields with one space; this runs for every thread in every sample, so it scans
  // the fields itself rather than through Fields and from_chars.
  struct Wanted {
    int number;
    uint64_t* slot;
  };
  const Wanted wanted[] = {{10, &out.minflt}, {12, &out.majflt},      {14, &out.utime},
                           {15, &out.stime},  {20, &out.num_threads}, {23, &out.vsize}};
  const char* p = text.data() + close + 1;
  const char* end = text.data() + text.size();
  int number = 2;
  for (const Wanted& w : wanted) {
    while (number < w.number) {  // to the start of field w.number
      while (p < end && (*p == ' ' || *p == '\t')) ++p;
      if (number + 1 == w.number) break;
      while (p < end && *p != ' ' && *p != '\t' && *p != '\n') ++p;
      if (p == end || *p == '\n') return false;
      ++number;
    }
    number = w.number;
    uint64_t value = 0;
    const char* digits = p;
    for (; p < end && *p >= '0' && *p <= '9'; ++p) {
      auto digit = static_cast<uint64_t>(*p - '0');
      if (value > (UINT64_MAX - digit) / 10) return false;
      value = value * 10 + digit;
    }
    if (p == digits || (p < end && *p != ' ' && *p != '\t' && *p != '\n')) return false;
    *w.slot = value;
  }
  return true;
}

ProcessReader::ProcessReader(const std::string& root, pid_t pid, bool per_thread,
                             uint64_t slow_period_ns, CollectorCapabilities& caps)
    : page_size_(sysconf(_SC_PAGESIZE)),
      per_thread_(per_thread),
      ticks_per_second_(sysconf(_SC_CLK_TCK)),
      slow_period_ns_(slow_period_ns) {
  std::string proc = join_path(root, "proc/" + std::to_string(pid));
  stat_ = ProcFile(proc + "/stat");
  statm_ = ProcFile(proc + "/statm");
  status_ = ProcFile(proc + "/status");
  io_ = ProcFile(proc + "/io");
  meminfo_ = ProcFile(join_path(root, "proc/meminfo"));
  task_dir_ = proc + "/task";
  proc_dir_ = join_path(root, "proc");
  caps.process_io = io_.read().has_value();  // exists but may refuse reads without ptrace rights
  caps.schedstat = path_exists(proc + "/schedstat");
  // Kept per-thread files: in the sidecar's own descriptor table up to a quarter of the soft
  // limit (at most 1024: 64 threads under the usual 1024); in a table shared with the program
  // kShared, within the numbers reserved above the floor (own_descriptors.hpp). Threads beyond
  // the budget are read with open + read + close.
  constexpr size_t kShared = 64;
  rlimit limit{};
  rlim_t soft = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
  fd_budget_ =
      fds::in_private_table() ? static_cast<size_t>(std::min<rlim_t>(soft, 4096) / 4) : kShared;
}

ProcessReader::~ProcessReader() {
  for (auto& [tid, history] : history_) close_files(history);
  if (task_dir_handle_ != nullptr) {
    fds::forget(dirfd(static_cast<DIR*>(task_dir_handle_)));
    closedir(static_cast<DIR*>(task_dir_handle_));
  }
}

void ProcessReader::close_files(ThreadHistory& history) {
  for (int& fd : history.fds) {
    if (fd >= 0) fds::close_own(fd), --open_fds_;
    fd = -1;
  }
}

uint64_t ProcessReader::ticks_to_ns(uint64_t ticks) const {
  if (ticks_per_second_ <= 0) return 0;
  return ticks * (1'000'000'000ull / static_cast<uint64_t>(ticks_per_second_));
}

void ProcessReader::sample(PlatformMetrics& out, uint64_t now_ns, uint64_t interval_ns,
                           std::vector<std::string>& errors) {
  now_ns_ = now_ns;
  read_memory(out, errors);  // first: its thread count (stat) is what read_threads checks
  read_io(out.io, interval_ns);
  if (per_thread_) {
    read_threads(out, interval_ns, errors);
    own_threads_io(out.io, interval_ns);
  }
}

// /proc/<pid>/io also holds the IO of every child the process has reaped (the kernel adds it at
// wait()), so a parent whose children write looks as if it wrote. When every thread's own io
// file was read, the process's IO is the sum of its threads' instead: the changes of the
// threads present in both samples (a thread born since counts from 0), accumulated from the
// threads' sum at the baseline. A thread that ended takes its last interval's IO with it.
void ProcessReader::own_threads_io(IoResourceMetrics& out, uint64_t interval_ns) {
  if (!threads_io_.complete) {
    threads_io_ = {};
    own_io_valid_ = false;  // start again from the next complete sample
    return;
  }
  if (!own_io_valid_) {
    own_read_ = threads_io_.read_total, own_write_ = threads_io_.write_total;
    own_io_valid_ = true;
    out.process_read_bytes_per_sec.reset(), out.process_write_bytes_per_sec.reset();
  } else {
    own_read_ += threads_io_.read_delta, own_write_ += threads_io_.write_delta;
    if (interval_ns > 0) {
      out.process_read_bytes_per_sec = double(threads_io_.read_delta) * 1e9 / double(interval_ns);
      out.process_write_bytes_per_sec = double(threads_io_.write_delta) * 1e9 / double(interval_ns);
    }
  }
  out.process_read_bytes = own_read_, out.process_write_bytes = own_write_;
  threads_io_ = {};
}

void ProcessReader::read_memory(PlatformMetrics& out, std::vector<std::string>& errors) {
  MemoryResourceMetrics& memory = out.memory;
  // statm ("size resident shared text lib data dt", pages) gives VmSize and VmRSS as status does
  // (the same kernel counters), and stat the thread count, at a fraction of status's cost.
  bool have_threads = false, have_sizes = false;
  if (auto text = stat_.read()) {
    ProcStat stat;
    if (parse_proc_stat(*text, stat)) {
      memory.process_minor_faults = stat.minflt;
      memory.process_major_faults = stat.majflt;
      out.thread_count = static_cast<uint32_t>(stat.num_threads);
      have_threads = true;
    } else {
      errors.push_back(parse_error(stat_.path(), 1, "bad stat line"));
    }
  }
  if (auto text = statm_.read(); text && page_size_ > 0) {
    Fields fields(*text, "\n");
    std::string_view size, resident;
    auto pages = fields.next(size) ? parse_number<uint64_t>(size) : std::nullopt;
    auto rss = fields.next(resident) ? parse_number<uint64_t>(resident) : std::nullopt;
    if (pages && rss) {
      memory.process_virtual_bytes = *pages * static_cast<uint64_t>(page_size_);
      memory.process_rss_bytes = *rss * static_cast<uint64_t>(page_size_);
      have_sizes = true;
    } else {
      errors.push_back(parse_error(statm_.path(), 1, "bad statm line"));
    }
  }
  if (!have_sizes || !have_threads) {
    if (auto text = status_.read()) {
      if (!have_sizes) {
        if (auto rss = find_key_u64(*text, "VmRSS")) memory.process_rss_bytes = *rss * 1024;
        if (auto vm = find_key_u64(*text, "VmSize")) memory.process_virtual_bytes = *vm * 1024;
      }
      if (auto threads = find_key_u64(*text, "Threads"); threads && !have_threads) {
        out.thread_count = static_cast<uint32_t>(*threads);
      }
    }
  }
  if (auto text = meminfo_.read()) {
    if (auto total = find_key_u64(*text, "MemTotal")) memory.machine_total_bytes = *total * 1024;
    if (auto avail = find_key_u64(*text, "MemAvailable")) {
      memory.machine_available_bytes = *avail * 1024;
    }
  }
}

void ProcessReader::read_io(IoResourceMetrics& out, uint64_t interval_ns) {
  process_io_moved_ = true;  // unless the counters say otherwise
  auto text = io_.read();
  if (!text) return;
  auto read_bytes = find_key_u64(*text, "read_bytes");
  auto write_bytes = find_key_u64(*text, "write_bytes");
  if (!read_bytes || !write_bytes) return;
  out.process_read_bytes = read_bytes;
  out.process_write_bytes = write_bytes;
  if (io_valid_) {
    out.process_read_bytes_per_sec = per_second(read_bytes_prev_, *read_bytes, interval_ns);
    out.process_write_bytes_per_sec = per_second(write_bytes_prev_, *write_bytes, interval_ns);
  }
  process_io_moved_ =
      !io_valid_ || *read_bytes != read_bytes_prev_ || *write_bytes != write_bytes_prev_;
  read_bytes_prev_ = *read_bytes;
  write_bytes_prev_ = *write_bytes;
  io_valid_ = true;
}

void ProcessReader::set_task_path(int32_t tid, const char* name) {
  path_.clear();
  append_thread_directory(path_, proc_dir_, tid);
  path_ += '/';
  path_ += name;
}

std::optional<std::string_view> ProcessReader::read_task_file(int32_t tid, int index,
                                                              ThreadHistory& history) {
  static constexpr const char* kNames[kTaskFiles] = {"stat", "schedstat", "status", "io"};
  int& fd = history.fds[index];
  if (fd >= 0) {
    errno = 0;
    if (auto text = scratch_.read_all(fd); text && !text->empty()) return text;
    // EBADF: the program closed our descriptor (so the number may be its own now): forget it
    // without closing. Otherwise the thread ended (ESRCH) and its id may be reused: reopen.
    if (errno != EBADF) {
      fds::close_own(fd);
    } else {
      fds::forget(fd);
    }
    fd = -1, --open_fds_;
    history.have_sched = false;  // perhaps another thread with this id: read everything
    history.status.valid = history.io.valid = false;
  }
  set_task_path(tid, kNames[index]);
  if (open_fds_ >= fd_budget_) return read_file_once(path_.c_str(), scratch_);
  fd = fds::open_file(path_.c_str(), O_RDONLY);
  if (fd < 0) return std::nullopt;
  ++open_fds_;
  return scratch_.read_all(fd);
}

void ProcessReader::read_threads(PlatformMetrics& out, uint64_t interval_ns,
                                 std::vector<std::string>& errors) {
  ++generation_;
  const bool baseline_done = generation_ > 1;
  // The thread count was read just before (stat, read_memory): if it equals the number of
  // threads of the last sample and each of them still reads, those are all the threads (a
  // thread born since would raise the count, one that ended fails its read). Otherwise, or
  // when a read fails, the task directory is listed for the threads not read yet.
  bool list = known_tids_.empty() || !out.thread_count || *out.thread_count != known_tids_.size();
  size_t failed = 0;  // known_tids_[0, failed): the threads that failed, not to be read twice
  if (!list) {
    for (size_t i = 0; i < known_tids_.size(); ++i) {
      if (!add_thread(known_tids_[i], out, interval_ns, baseline_done, errors)) {
        known_tids_[failed++] = known_tids_[i];
        list = true;
      }
    }
  }
  if (list) {
    DIR* dir = static_cast<DIR*>(task_dir_handle_);
    if (dir == nullptr) {
      dir = fds::open_directory(task_dir_.c_str());
      task_dir_handle_ = dir;
    } else {
      rewinddir(dir);
    }
    while (dirent* entry = dir != nullptr ? readdir(dir) : nullptr) {
      auto tid = parse_number<int32_t>(entry->d_name);
      if (!tid) continue;
      auto it = history_.find(*tid);
      if (it != history_.end() && it->second.generation == generation_) continue;  // read above
      if (std::find(known_tids_.begin(), known_tids_.begin() + failed, *tid) !=
          known_tids_.begin() + failed) {
        continue;  // failed above (its directory may not be gone yet)
      }
      add_thread(*tid, out, interval_ns, baseline_done, errors);
    }
  }
  known_tids_.clear();
  for (const ThreadResourceMetrics& thread : out.threads) known_tids_.push_back(thread.thread_id);
  for (auto it = history_.begin(); it != history_.end();) {
    if (it->second.generation == generation_) {
      ++it;
    } else {
      close_files(it->second);
      it = history_.erase(it);
    }
  }
}

bool ProcessReader::add_thread(int32_t tid, PlatformMetrics& out, uint64_t interval_ns,
                               bool baseline_done, std::vector<std::string>& errors) {
  auto [it, inserted] = history_.try_emplace(tid);
  ThreadResourceMetrics& thread = out.threads.emplace_back();
  thread.thread_id = tid;
  const std::optional<uint64_t> read_before = it->second.io_read,
                                write_before = it->second.io_write;
  if (!read_thread(tid, it->second, thread, errors)) {  // the thread ended while we looked
    out.threads.pop_back();
    close_files(it->second);
    history_.erase(it);
    return false;
  }
  add_thread_io(thread, inserted && baseline_done, read_before, write_before);
  uint64_t cpu_ns = thread.cpu_time_total_ns.value_or(thread.cpu_time_user_ns.value_or(0) +
                                                      thread.cpu_time_kernel_ns.value_or(0));
  // A thread born after the baseline had zero CPU time at birth.
  if ((!inserted || baseline_done) && interval_ns > 0) {
    thread.cpu_usage_percent =
        100.0 * static_cast<double>(counter_delta(inserted ? 0 : it->second.cpu_ns, cpu_ns)) /
        static_cast<double>(interval_ns);
  }
  it->second.cpu_ns = cpu_ns;
  it->second.generation = generation_;
  return true;
}

// One thread's part of the process's own IO (own_threads_io): its change since the last sample,
// from 0 for a thread born since.
void ProcessReader::add_thread_io(const ThreadResourceMetrics& thread, bool born_since,
                                  std::optional<uint64_t> read_before,
                                  std::optional<uint64_t> write_before) {
  if (!thread.io_read_bytes || !thread.io_write_bytes) {
    threads_io_.complete = false;
    return;
  }
  threads_io_.read_total += *thread.io_read_bytes;
  threads_io_.write_total += *thread.io_write_bytes;
  if (born_since) read_before = write_before = 0;
  if (read_before) threads_io_.read_delta += counter_delta(*read_before, *thread.io_read_bytes);
  if (write_before) threads_io_.write_delta += counter_delta(*write_before, *thread.io_write_bytes);
}

bool ProcessReader::read_thread(int32_t tid, ThreadHistory& history, ThreadResourceMetrics& out,
                                std::vector<std::string>& errors) {
  auto text = read_task_file(tid, 0, history);
  if (!text) return !fds::may_open_now() && read_thread_clock(tid, out);
  ProcStat stat;
  if (!parse_proc_stat(*text, stat)) {
    set_task_path(tid, "stat");
    errors.push_back(parse_error(path_, 1, "bad stat line"));
    return false;
  }
  // The name can change while the thread sleeps (another thread may set it), so stat is always
  // read; its times only move while the thread runs but cost nothing extra here.
  out.thread_name.assign(stat.comm);
  out.cpu_time_user_ns = ticks_to_ns(stat.utime);
  out.cpu_time_kernel_ns = ticks_to_ns(stat.stime);
  out.minor_faults = stat.minflt;
  out.major_faults = stat.majflt;
  std::optional<uint64_t> scheduled;
  if (auto sched = read_task_file(tid, 1, history)) {
    // "run_ns wait_ns timeslices": nanosecond CPU time, unlike the 10 ms ticks of stat.
    Fields fields(*sched, "\n");
    std::string_view run, wait, slices;
    if (fields.next(run) && fields.next(wait)) {
      out.cpu_time_total_ns = parse_number<uint64_t>(run);
      out.run_queue_wait_ns = parse_number<uint64_t>(wait);
    }
    if (fields.next(slices)) scheduled = parse_number<uint64_t>(slices);
  }
  // status and io: context switches and IO bytes. Their counters only move while the thread is
  // on a CPU (the kernel charges both to the running thread), and schedstat says whether it has
  // been since a reading: its run time or its count of times scheduled in grows (one running
  // then and switched out since has gained run time). A thread that has not keeps them (exact).
  // One that has gets status (the costliest file) at most once per slow period, so at most that
  // old, and io when the process's storage IO, read before the threads, moved since the last
  // sample: the process's counters are its threads' sums (with those of threads that ended), so
  // if they stood still, no thread's did.
  const bool sched_now = out.cpu_time_total_ns && scheduled;
  const uint64_t run_ns = out.cpu_time_total_ns.value_or(0), slices = scheduled.value_or(0);
  history.have_sched = sched_now;
  auto ran_since = [&](const ThreadHistory::Reading& r) {
    return !r.valid || !sched_now || run_ns != r.run_ns || slices != r.scheduled;
  };
  bool read_status = ran_since(history.status) &&
                     (!history.status.valid || !sched_now || now_ns_ >= history.status_due_ns);
  bool read_io = ran_since(history.io) && (!history.io.valid || !sched_now || process_io_moved_);
  if (read_status) {
    auto status = read_task_file(tid, 2, history);
    history.voluntary = status ? find_key_u64(*status, "voluntary_ctxt_switches") : std::nullopt;
    history.involuntary =
        status ? find_key_u64(*status, "nonvoluntary_ctxt_switches") : std::nullopt;
  }
  if (read_io) {
    auto io = read_task_file(tid, 3, history);
    history.io_read = io ? find_key_u64(*io, "read_bytes") : std::nullopt;
    history.io_write = io ? find_key_u64(*io, "write_bytes") : std::nullopt;
  }
  out.voluntary_context_switches = history.voluntary;
  out.involuntary_context_switches = history.involuntary;
  out.io_read_bytes = history.io_read, out.io_write_bytes = history.io_write;
  // A failed read (the thread ended; a reused id) cleared have_sched: then start over.
  const bool valid = sched_now && history.have_sched;
  if (read_status) history.status = {valid, run_ns, slices};
  if (read_io) history.io = {valid, run_ns, slices};
  if (!valid) {
    history.status.valid = history.io.valid = false;
  } else if (read_status && history.status_due_ns == 0) {
    // The first reading: threads found together (all of them at the baseline) are spread over
    // the period by id, so each sample reads about the same number of them.
    uint64_t tenths = 10 - static_cast<uint64_t>(tid) % 10;
    history.status_due_ns = now_ns_ + slow_period_ns_ / 10 * tenths;
  } else if (read_status) {
    // Keep each thread's phase (sampling late does not stretch its period), unless far behind.
    history.status_due_ns += slow_period_ns_;
    if (history.status_due_ns <= now_ns_) history.status_due_ns = now_ns_ + slow_period_ns_;
  }
  return true;
}

}  // namespace memscope::collector
