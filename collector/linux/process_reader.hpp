// Readings of one process for the Linux backend: memory (/proc/<pid>/{stat,status},
// /proc/meminfo), storage IO (/proc/<pid>/io) and per-thread CPU, run-queue wait, context
// switches and IO (/proc/<pid>/task/<tid>/{stat,schedstat,status,io}). Per-thread files stay
// open between samples (pread costs half of open + read + close) within a descriptor budget.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/linux/proc_file.hpp"
#include "memscope/collector.hpp"

namespace memscope::collector {

class ProcessReader {
 public:
  ProcessReader(const std::string& root, pid_t pid, bool per_thread, CollectorCapabilities& caps);
  ~ProcessReader();
  ProcessReader(const ProcessReader&) = delete;
  ProcessReader& operator=(const ProcessReader&) = delete;
  void sample(PlatformMetrics& out, uint64_t interval_ns, std::vector<std::string>& errors);

 private:
  static constexpr int kTaskFiles = 4;  // stat, schedstat, status, io
  struct ThreadHistory {
    uint64_t cpu_ns = 0;  // schedstat run time, else user + kernel ticks in ns
    uint64_t generation = 0;
    int fds[kTaskFiles] = {-1, -1, -1, -1};  // kept open; -1: not (yet) or over the budget
    // The last schedstat (run ns, times scheduled in) and what status and io said then: while
    // the thread has not been on a CPU since, those counters cannot have moved (the kernel
    // charges switches and IO to the running thread), so status and io are not read again.
    bool have_counters = false;
    uint64_t run_ns = 0, scheduled = 0;
    std::optional<uint64_t> voluntary, involuntary, io_read, io_write;
  };

  void read_memory(PlatformMetrics& out, std::vector<std::string>& errors);
  void read_io(IoResourceMetrics& out, uint64_t interval_ns);
  void read_threads(PlatformMetrics& out, uint64_t interval_ns, std::vector<std::string>& errors);
  bool read_thread(int32_t tid, ThreadHistory& history, ThreadResourceMetrics& out,
                   std::vector<std::string>& errors);
  std::optional<std::string_view> read_task_file(int32_t tid, int index, ThreadHistory& history);
  void close_files(ThreadHistory& history);
  void set_task_path(int32_t tid, const char* name);  // into path_
  uint64_t ticks_to_ns(uint64_t ticks) const;

  ProcFile stat_, status_, io_, meminfo_;
  std::string task_dir_;
  std::string path_;  // reused for per-thread paths
  bool per_thread_;
  long ticks_per_second_;
  ReadBuffer scratch_;
  std::unordered_map<int32_t, ThreadHistory> history_;
  void* task_dir_handle_ = nullptr;  // DIR*, kept open and rewound each sample
  size_t open_fds_ = 0, fd_budget_ = 0;
  uint64_t generation_ = 0;
  uint64_t read_bytes_prev_ = 0, write_bytes_prev_ = 0;
  bool io_valid_ = false;
};

// Fields of /proc/<pid>/stat (and task/<tid>/stat) this collector uses.
struct ProcStat {
  std::string_view comm;
  uint64_t minflt = 0, majflt = 0, utime = 0, stime = 0, vsize = 0;
};
// Parses the line; the name may hold spaces and ')' so it ends at the last ')'.
bool parse_proc_stat(std::string_view text, ProcStat& out);

}  // namespace memscope::collector
