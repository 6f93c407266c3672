// See hw_counters.hpp.
#include "collector/linux/hw_counters.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "collector/linux/own_descriptors.hpp"

namespace memscope::collector {
namespace {

class KernelPerfEvents : public PerfEvents {
 public:
  int open(perf_event_attr& attr, pid_t tid) override {
    if (!fds::may_open_now()) {
      errno = EPERM;
      return -1;
    }
    long fd = syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -1 : fds::move_above_floor(static_cast<int>(fd));
  }
  bool read(int fd, uint64_t (&values)[3]) override {
    return ::read(fd, values, sizeof(values)) == static_cast<ssize_t>(sizeof(values));
  }
  void close(int fd) override { fds::close_own(fd); }
};

}  // namespace

PerfEvents& kernel_perf_events() {
  static KernelPerfEvents events;
  return events;
}

const HwEventList& hardware_events() {
  static const HwEventList events = {{
      {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "cycles", true},
      {PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, "instructions", true},
      {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, "cache-misses", false},
      {PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_BACKEND, "stalled-cycles-backend", false},
  }};
  return events;
}

uint64_t scale_count(uint64_t value, uint64_t enabled_ns, uint64_t running_ns) {
  if (running_ns == 0 || running_ns >= enabled_ns) return value;
  long double scaled = static_cast<long double>(value) * static_cast<long double>(enabled_ns) /
                       static_cast<long double>(running_ns);
  return scaled >= 1.8e19L ? UINT64_MAX : static_cast<uint64_t>(scaled);
}

std::string describe_open_error(int error) {
  const char* name = strerrorname_np(error);
  std::string out = name ? name : std::to_string(error);
  switch (error) {
    case ENOENT:
      return out +
             ", the kernel offers no such event here (no hardware PMU, as in most virtual "
             "machines)";
    case EOPNOTSUPP:
      return out + ", the PMU does not support this event or its options";
    case EACCES:
    case EPERM:
      return out +
             ", not permitted even for user space only (kernel.perf_event_paranoid, or a "
             "seccomp or container policy)";
    case ENOSYS:
      return out + ", the kernel has no perf_event_open";
    case EINVAL:
      return out +
             ", the kernel refused the event's options (counting threads only, "
             "inherit_thread, needs Linux 5.13)";
    default: {
      const char* text = strerrordesc_np(error);
      return text ? out + ", " + text : out;
    }
  }
}

HwCounters::HwCounters(PerfEvents& perf, const HwEventList& events)
    : perf_(perf), events_(events) {}

HwCounters::~HwCounters() {
  for (Task& t : threads_) close_task(t);
  close_task(process_);
}

// Kernel and user space where the kernel allows it, so that a program living in the page-fault
// path is measured there too; user space only, for good, when perf_event_paranoid forbids the
// kernel to unprivileged users.
int HwCounters::open_event(const HwEventSpec& e, pid_t tid, bool inherit) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = e.type;
  attr.config = e.config;
  attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  // Threads the program creates later, but never fork children: their counts are theirs.
  attr.inherit = inherit ? 1 : 0;
  attr.inherit_thread = inherit ? 1 : 0;
  attr.exclude_kernel = attr.exclude_hv = user_only_ ? 1 : 0;
  int fd = perf_.open(attr, tid);
  // Decided on the first event of the process, so that every count means the same.
  bool first = !available_ && process_.fds[0] < 0;
  if (fd < 0 && first && !user_only_ && (errno == EACCES || errno == EPERM)) {
    user_only_ = true;
    attr.exclude_kernel = attr.exclude_hv = 1;
    fd = perf_.open(attr, tid);
  }
  return fd;
}

// Every event on one task; false (all closed, `error` and `failed` set) when a required one
// cannot be opened. An optional event that cannot be opened is simply not counted.
bool HwCounters::open_task(Task& task, pid_t tid, bool inherit, int& error, const char*& failed) {
  task.tid = tid;
  for (size_t i = 0; i < events_.size(); ++i) {
    task.fds[i] = open_event(events_[i], tid, inherit);
    if (task.fds[i] >= 0 || !events_[i].required) continue;
    error = errno;
    failed = events_[i].name;
    close_task(task);
    return false;
  }
  return true;
}

bool HwCounters::open_process(pid_t main_tid) {
  int error = 0;
  const char* failed = "";
  available_ = open_task(process_, main_tid, true, error, failed);
  reason_ = available_ ? std::string() : std::string(failed) + ": " + describe_open_error(error);
  if (!available_) user_only_ = false;
  return available_;
}

bool HwCounters::open_thread(pid_t tid) {
  if (!available_ || counts_thread(tid)) return false;
  for (Task& t : threads_) {
    if (t.tid != 0) continue;
    int error = 0;
    const char* failed = "";
    return open_task(t, tid, false, error, failed);  // a thread gone already: not counted
  }
  return false;
}

bool HwCounters::counts_thread(pid_t tid) const {
  for (const Task& t : threads_)
    if (t.tid == tid && tid != 0) return true;
  return false;
}

void HwCounters::close_thread(pid_t tid) {
  for (Task& t : threads_)
    if (t.tid == tid && tid != 0) close_task(t);
}

void HwCounters::read_task(const Task& task, format::HwScope scope, format::HwCounterGroup& out) {
  out.scope = scope;
  out.tid = static_cast<uint64_t>(task.tid);
  for (size_t i = 0; i < events_.size(); ++i) {
    format::HwCount& c = out.counts[i];
    c = {};
    uint64_t v[3];
    if (task.fds[i] < 0 || !perf_.read(task.fds[i], v) || v[2] == 0) continue;
    c = {1, scale_count(v[0], v[1], v[2]), v[1], v[2]};
  }
}

void HwCounters::read_all(std::vector<format::HwCounterGroup>& out) {
  out.clear();
  if (!available_) return;
  read_task(process_, format::HwScope::kProcess, out.emplace_back());
  for (const Task& t : threads_)
    if (t.tid != 0) read_task(t, format::HwScope::kThread, out.emplace_back());
}

bool HwCounters::read_thread(pid_t tid, format::HwCounterGroup& out) {
  for (const Task& t : threads_)
    if (t.tid == tid && tid != 0) {
      read_task(t, format::HwScope::kThread, out);
      return true;
    }
  return false;
}

void HwCounters::close_task(Task& task) {
  for (int& fd : task.fds) {
    if (fd >= 0) perf_.close(fd);
    fd = -1;
  }
  task.tid = 0;
}

}  // namespace memscope::collector
