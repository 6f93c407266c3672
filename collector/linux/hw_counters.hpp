// Hardware counters through perf_event_open(2): cycles, instructions, last-level cache misses and
// backend stall cycles, for the whole program and for a few of its threads. Where the kernel
// offers none (most virtual machines) or forbids them, `available()` is false and `reason()`
// says why, in words a user can act on. The system call is behind PerfEvents, so that tests feed
// fake counts and errors.
//
// Descriptors stay bounded whatever the thread count: one per event for the process (inherited
// by the threads it creates later, threads only) and one per event for each of at most
// kThreadSlots threads. Open them only from memscope's sidecar thread, whose descriptor table is
// its own (own_descriptors.hpp): the sidecar, started before the process counters are opened,
// is then not counted in them.
#pragma once

#include <linux/perf_event.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "format/hw_counters.hpp"

namespace memscope::collector {

class PerfEvents {
 public:
  virtual ~PerfEvents() = default;
  // perf_event_open(attr, tid, any CPU, no group, close-on-exec): a descriptor, or -1 with errno.
  virtual int open(perf_event_attr& attr, pid_t tid) = 0;
  // The value, time enabled and time running (PERF_FORMAT_TOTAL_TIME_ENABLED | _RUNNING).
  virtual bool read(int fd, uint64_t (&values)[3]) = 0;
  virtual void close(int fd) = 0;
};

// The kernel's, through own_descriptors (above the floor in a shared table; nothing once the
// program has installed a seccomp filter).
PerfEvents& kernel_perf_events();

struct HwEventSpec {
  uint32_t type;    // PERF_TYPE_*
  uint64_t config;  // PERF_COUNT_*
  const char* name;
  bool required;  // without it there are no counters at all
};
using HwEventList = std::array<HwEventSpec, format::kHwEvents>;

// The hardware events in format::HwEvent order.
const HwEventList& hardware_events();

// value x enabled / running: the kernel counted the event `running` of the `enabled` ns it was
// asked to (the PMU is shared round-robin when more events are open than it has counters).
uint64_t scale_count(uint64_t value, uint64_t enabled_ns, uint64_t running_ns);

// "ENOENT: ..." for an errno of perf_event_open.
std::string describe_open_error(int error);

class HwCounters {
 public:
  static constexpr size_t kThreadSlots = 4;

  explicit HwCounters(PerfEvents& perf = kernel_perf_events(),
                      const HwEventList& events = hardware_events());
  ~HwCounters();
  HwCounters(const HwCounters&) = delete;
  HwCounters& operator=(const HwCounters&) = delete;

  // Counters on `main_tid` and every thread it creates from now on. First with the kernel
  // counted; where perf_event_paranoid refuses that (EACCES, EPERM), user space only.
  bool open_process(pid_t main_tid);
  bool available() const { return available_; }
  bool user_only() const { return user_only_; }
  const std::string& reason() const { return reason_; }

  // A thread's own counters while a slot is free; false otherwise.
  bool open_thread(pid_t tid);
  bool counts_thread(pid_t tid) const;
  void close_thread(pid_t tid);

  // The process's reading, then each counted thread's.
  void read_all(std::vector<format::HwCounterGroup>& out);
  bool read_thread(pid_t tid, format::HwCounterGroup& out);

 private:
  struct Task {
    pid_t tid = 0;
    std::array<int, format::kHwEvents> fds;
    Task() { fds.fill(-1); }
  };
  int open_event(const HwEventSpec& e, pid_t tid, bool inherit);
  bool open_task(Task& task, pid_t tid, bool inherit, int& error, const char*& failed);
  void read_task(const Task& task, format::HwScope scope, format::HwCounterGroup& out);
  void close_task(Task& task);

  PerfEvents& perf_;
  const HwEventList& events_;
  bool available_ = false;
  bool user_only_ = false;
  std::string reason_ = "not opened";
  Task process_;
  std::array<Task, kThreadSlots> threads_;
};

}  // namespace memscope::collector
