// Linux per-process and per-thread readings; see process_reader.hpp.
#include "collector/linux/process_reader.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "collector/linux/rates.hpp"

namespace memscope::collector {

bool parse_proc_stat(std::string_view text, ProcStat& out) {
  size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return false;
  }
  out.comm = text.substr(open + 1, close - open - 1);
  // Field numbers as in proc(5); field 3 (state) is the first one after the name.
  Fields fields(text.substr(close + 1), "\n");
  std::string_view field;
  struct Wanted {
    int number;
    uint64_t* slot;
  };
  const Wanted wanted[] = {
      {10, &out.minflt}, {12, &out.majflt}, {14, &out.utime}, {15, &out.stime}, {23, &out.vsize}};
  int number = 2;
  for (const Wanted& w : wanted) {
    if (!fields.skip(w.number - number - 1) || !fields.next(field)) return false;
    auto value = parse_number<uint64_t>(field);
    if (!value) return false;
    *w.slot = *value;
    number = w.number;
  }
  return true;
}

ProcessReader::ProcessReader(const std::string& root, pid_t pid, bool per_thread,
                             CollectorCapabilities& caps)
    : per_thread_(per_thread), ticks_per_second_(sysconf(_SC_CLK_TCK)) {
  std::string proc = join_path(root, "proc/" + std::to_string(pid));
  stat_ = ProcFile(proc + "/stat");
  status_ = ProcFile(proc + "/status");
  io_ = ProcFile(proc + "/io");
  meminfo_ = ProcFile(join_path(root, "proc/meminfo"));
  task_dir_ = proc + "/task";
  caps.process_io = io_.read().has_value();  // exists but may refuse reads without ptrace rights
  caps.schedstat = path_exists(proc + "/schedstat");
  // Up to a quarter of the soft descriptor limit (at most 1024) for kept per-thread files: 64
  // threads under the usual 1024. Threads beyond that are read with open + read + close.
  rlimit limit{};
  rlim_t soft = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
  fd_budget_ = static_cast<size_t>(std::min<rlim_t>(soft, 4096) / 4);
}

ProcessReader::~ProcessReader() {
  for (auto& [tid, history] : history_) close_files(history);
  if (task_dir_handle_ != nullptr) closedir(static_cast<DIR*>(task_dir_handle_));
}

void ProcessReader::close_files(ThreadHistory& history) {
  for (int& fd : history.fds) {
    if (fd >= 0) close(fd), --open_fds_;
    fd = -1;
  }
}

uint64_t ProcessReader::ticks_to_ns(uint64_t ticks) const {
  if (ticks_per_second_ <= 0) return 0;
  return ticks * (1'000'000'000ull / static_cast<uint64_t>(ticks_per_second_));
}

void ProcessReader::sample(PlatformMetrics& out, uint64_t interval_ns,
                           std::vector<std::string>& errors) {
  read_memory(out, errors);
  read_io(out.io, interval_ns);
  if (per_thread_) read_threads(out, interval_ns, errors);
}

void ProcessReader::read_memory(PlatformMetrics& out, std::vector<std::string>& errors) {
  MemoryResourceMetrics& memory = out.memory;
  if (auto text = status_.read()) {
    if (auto rss = find_key_u64(*text, "VmRSS")) memory.process_rss_bytes = *rss * 1024;
    if (auto vm = find_key_u64(*text, "VmSize")) memory.process_virtual_bytes = *vm * 1024;
    if (auto threads = find_key_u64(*text, "Threads")) {
      out.thread_count = static_cast<uint32_t>(*threads);
    }
  }
  if (auto text = stat_.read()) {
    ProcStat stat;
    if (parse_proc_stat(*text, stat)) {
      memory.process_minor_faults = stat.minflt;
      memory.process_major_faults = stat.majflt;
    } else {
      errors.push_back(parse_error(stat_.path(), 1, "bad stat line"));
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
  read_bytes_prev_ = *read_bytes;
  write_bytes_prev_ = *write_bytes;
  io_valid_ = true;
}

void ProcessReader::set_task_path(int32_t tid, const char* name) {
  path_.assign(task_dir_);
  path_ += '/';
  char number[16];
  auto [end, ec] = std::to_chars(number, number + sizeof number, tid);
  path_.append(number, end);
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
    if (errno != EBADF) close(fd);
    fd = -1, --open_fds_;
    history.have_counters = false;  // perhaps another thread with the same id now
  }
  set_task_path(tid, kNames[index]);
  if (open_fds_ >= fd_budget_) return read_file_once(path_.c_str(), scratch_);
  fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  ++open_fds_;
  return scratch_.read_all(fd);
}

void ProcessReader::read_threads(PlatformMetrics& out, uint64_t interval_ns,
                                 std::vector<std::string>& errors) {
  ++generation_;
  const bool baseline_done = generation_ > 1;
  DIR* dir = static_cast<DIR*>(task_dir_handle_);
  if (dir == nullptr) {
    dir = opendir(task_dir_.c_str());
    task_dir_handle_ = dir;
  } else {
    rewinddir(dir);
  }
  while (dirent* entry = dir != nullptr ? readdir(dir) : nullptr) {
    auto tid = parse_number<int32_t>(entry->d_name);
    if (!tid) continue;
    auto [it, inserted] = history_.try_emplace(*tid);
    ThreadResourceMetrics& thread = out.threads.emplace_back();
    thread.thread_id = *tid;
    if (!read_thread(*tid, it->second, thread, errors)) {  // the thread ended while we looked
      out.threads.pop_back();
      close_files(it->second);
      history_.erase(it);
      continue;
    }
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
  }
  for (auto it = history_.begin(); it != history_.end();) {
    if (it->second.generation == generation_) {
      ++it;
    } else {
      close_files(it->second);
      it = history_.erase(it);
    }
  }
}

bool ProcessReader::read_thread(int32_t tid, ThreadHistory& history, ThreadResourceMetrics& out,
                                std::vector<std::string>& errors) {
  auto text = read_task_file(tid, 0, history);
  if (!text) return false;
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
  bool idle = false;
  if (auto sched = read_task_file(tid, 1, history)) {
    // "run_ns wait_ns timeslices": nanosecond CPU time, unlike the 10 ms ticks of stat.
    Fields fields(*sched, "\n");
    std::string_view run, wait, slices;
    if (fields.next(run) && fields.next(wait)) {
      out.cpu_time_total_ns = parse_number<uint64_t>(run);
      out.run_queue_wait_ns = parse_number<uint64_t>(wait);
    }
    auto scheduled = fields.next(slices) ? parse_number<uint64_t>(slices) : std::nullopt;
    // Not scheduled in and no run time added since the last reading: the thread has not been on
    // a CPU (one running then was switched out later, which adds run time), so its context
    // switches and IO are where they were. Most threads of a program are idle in an interval.
    idle = history.have_counters && out.cpu_time_total_ns && scheduled &&
           *out.cpu_time_total_ns == history.run_ns && *scheduled == history.scheduled;
    history.have_counters = out.cpu_time_total_ns && scheduled;
    history.run_ns = out.cpu_time_total_ns.value_or(0), history.scheduled = scheduled.value_or(0);
  }
  if (idle) {
    out.voluntary_context_switches = history.voluntary;
    out.involuntary_context_switches = history.involuntary;
    out.io_read_bytes = history.io_read, out.io_write_bytes = history.io_write;
    return true;
  }
  if (auto status = read_task_file(tid, 2, history)) {
    out.voluntary_context_switches = find_key_u64(*status, "voluntary_ctxt_switches");
    out.involuntary_context_switches = find_key_u64(*status, "nonvoluntary_ctxt_switches");
  }
  if (auto io = read_task_file(tid, 3, history)) {
    out.io_read_bytes = find_key_u64(*io, "read_bytes");
    out.io_write_bytes = find_key_u64(*io, "write_bytes");
  }
  history.voluntary = out.voluntary_context_switches;
  history.involuntary = out.involuntary_context_switches;
  history.io_read = out.io_read_bytes, history.io_write = out.io_write_bytes;
  return true;
}

}  // namespace memscope::collector
