// Readings of one process for the Linux backend: memory (/proc/<pid>/{stat,statm},
// /proc/meminfo), storage IO (the sum of its threads' task io, else /proc/<pid>/io) and
// per-thread CPU, page faults, run-queue wait, context switches and IO
// (/proc/<tid>/task/<tid>/{stat,schedstat,status,io}). Per-thread files stay
// open between samples (pread costs half of open + read + close) within a descriptor budget.
// Per thread, stat and schedstat are read every sample; status (context switches: the costliest
// file) at most once per slow period and io only when the process's storage IO moved, each only
// when the thread has run since; see docs/collector.md "What is read how often".
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
  ProcessReader(const std::string& root, pid_t pid, bool per_thread, uint64_t slow_period_ns,
                CollectorCapabilities& caps);
  ~ProcessReader();
  ProcessReader(const ProcessReader&) = delete;
  ProcessReader& operator=(const ProcessReader&) = delete;
  // now_ns: the sample's timestamp (schedules the slow per-thread files).
  void sample(PlatformMetrics& out, uint64_t now_ns, uint64_t interval_ns,
              std::vector<std::string>& errors);

 private:
  static constexpr int kTaskFiles = 4;  // stat, schedstat, status, io
  struct ThreadHistory {
    uint64_t cpu_ns = 0;  // schedstat run time, else user + kernel ticks in ns
    uint64_t generation = 0;
    int fds[kTaskFiles] = {-1, -1, -1, -1};  // kept open; -1: not (yet) or over the budget
    bool have_sched = false;  // schedstat read in this sample (cleared when a read fails)
    // schedstat (run ns, times scheduled in) when status, or io, was last read: while it still
    // says the same, the thread has not run since, and the counters in that file cannot have
    // moved (the kernel charges switches and IO to the running thread).
    struct Reading {
      bool valid = false;
      uint64_t run_ns = 0, scheduled = 0;
    };
    Reading status, io;
    // From when a thread that ran since has status read again (one slow period after the last
    // reading, in the thread's phase). What status and io said when last read:
    uint64_t status_due_ns = 0;
    std::optional<uint64_t> voluntary, involuntary, io_read, io_write;
  };

  void read_memory(PlatformMetrics& out, std::vector<std::string>& errors);
  void read_io(IoResourceMetrics& out, uint64_t interval_ns);
  void read_threads(PlatformMetrics& out, uint64_t interval_ns, std::vector<std::string>& errors);
  // Reads one thread into a new element of out.threads; false (nothing added, history dropped)
  // when it ended while we looked.
  bool add_thread(int32_t tid, PlatformMetrics& out, uint64_t interval_ns, bool baseline_done,
                  std::vector<std::string>& errors);
  bool read_thread(int32_t tid, ThreadHistory& history, ThreadResourceMetrics& out,
                   std::vector<std::string>& errors);
  void add_thread_io(const ThreadResourceMetrics& thread, bool born_since,
                     std::optional<uint64_t> read_before, std::optional<uint64_t> write_before);
  void own_threads_io(IoResourceMetrics& out, uint64_t interval_ns);
  std::optional<std::string_view> read_task_file(int32_t tid, int index, ThreadHistory& history);
  void close_files(ThreadHistory& history);
  // Into path_: the file in the thread's directory (append_thread_directory: why not task_dir_).
  void set_task_path(int32_t tid, const char* name);
  uint64_t ticks_to_ns(uint64_t ticks) const;

  ProcFile stat_, statm_, status_, io_, meminfo_;  // status: only where statm is unreadable
  long page_size_;
  std::string task_dir_;  // listed for the thread ids
  std::string proc_dir_;  // root's proc
  std::string path_;      // reused for per-thread paths
  bool per_thread_;
  long ticks_per_second_;
  ReadBuffer scratch_;
  std::unordered_map<int32_t, ThreadHistory> history_;
  // The threads of the last sample, in its order: when the process's thread count (read first)
  // equals their number and each still reads, no thread can be missing, so the task directory
  // is not listed again (listing costs the kernel a dentry lookup per thread).
  std::vector<int32_t> known_tids_;
  void* task_dir_handle_ = nullptr;  // DIR*, kept open and rewound when listed
  uint64_t slow_period_ns_ = 0;
  uint64_t now_ns_ = 0;
  size_t open_fds_ = 0, fd_budget_ = 0;
  uint64_t generation_ = 0;
  uint64_t read_bytes_prev_ = 0, write_bytes_prev_ = 0;
  bool io_valid_ = false;
  // The process's read_bytes or write_bytes changed since the last sample (or are unknown):
  // only then can a thread's io have moved.
  bool process_io_moved_ = true;
  // The threads' own IO in the current sample (add_thread_io) and its running total since the
  // first sample in which every thread's io file read (own_threads_io).
  struct ThreadsIo {
    bool complete = true;  // every thread listed had its io read
    uint64_t read_total = 0, write_total = 0, read_delta = 0, write_delta = 0;
  } threads_io_;
  bool own_io_valid_ = false;
  uint64_t own_read_ = 0, own_write_ = 0;
};

// Fields of /proc/<pid>/stat (and task/<tid>/stat) this collector uses.
struct ProcStat {
  std::string_view comm;
  uint64_t minflt = 0, majflt = 0, utime = 0, stime = 0, num_threads = 0, vsize = 0;
};
// Parses the line; the name may hold spaces and ')' so it ends at the last ')'.
bool parse_proc_stat(std::string_view text, ProcStat& out);

}  // namespace memscope::collector
