// See own_descriptors.hpp.
#include "collector/linux/own_descriptors.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace memscope::fds {
namespace {

constexpr rlim_t kHighestTop = 65536;

thread_local bool t_private_table = false;
std::atomic<bool> g_table_granted{false};  // inherited by fork children, as its meaning is

// The seccomp state watch_seccomp() saw: the calling thread's mode and the filter count of the
// process's main thread, which every filter reaching the sidecar also reaches (a TSYNC filter
// reaches all threads; one installed before the sidecar started, through the thread that
// started it, a fork child's main thread). The sidecar's own count is only in its own
// /proc/self/task/TID/status, and a thread that still holds its own /proc entries when the
// process ends makes reaping the process cost the parent 3-7 ms of d_invalidate (measured with
// a fork loop; bench/fork_cost). The status descriptor belongs to status_pid: a fork child
// inherits these variables but not the sidecar's private table, so there the number may be one
// of the program's.
struct SeccompWatch {
  bool watching = false;
  int mode = 0;
  long filters = -1;  // -1: the kernel does not say (before 5.9)
  int status_fd = -1;
  pid_t status_pid = 0;
};
SeccompWatch g_watch;
std::atomic<bool> g_stopped{false};
std::atomic<pid_t> g_sealed_pid{0};  // the process that stopped opening; a fork child is not it

// The numbers memscope holds in the program's table, plus one (0: a free entry, so that the
// table needs no constructor: the agent's start runs before the library's initializers): a
// fork child inherits copies of them that nothing in the child uses, and closes them.
std::atomic<int> g_held[kReserved];

void note_held(int fd) {
  for (std::atomic<int>& h : g_held) {
    int none = 0;
    if (h.compare_exchange_strong(none, fd + 1)) return;
  }
}

// "Seccomp_filters:" of the status file open as fd; -1 when unreadable or absent.
long read_filter_count(int fd) {
  char text[8192];
  ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
  if (n <= 0) return -1;
  text[n] = '\0';
  const char* line = strstr(text, "\nSeccomp_filters:");
  return line == nullptr ? -1 : strtol(line + sizeof("\nSeccomp_filters:") - 1, nullptr, 10);
}

bool filter_added() {
  int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  if (mode != g_watch.mode) return true;
  if (mode != SECCOMP_MODE_FILTER || g_watch.filters < 0) return false;
  if (g_watch.status_fd < 0 || g_watch.status_pid != getpid()) return false;
  // Only more: a main thread that has left (pthread_exit) has its filters released.
  return read_filter_count(g_watch.status_fd) > g_watch.filters;
}

bool may_open() {
  if (g_stopped.load(std::memory_order_relaxed)) return false;
  if (opening_sealed()) return false;
  if (!g_watch.watching || !filter_added()) return true;
  g_stopped.store(true);
  return false;
}

// The calling thread's table is its own and empty.
bool table_granted() {
  t_private_table = true;
  g_table_granted.store(true);
  // 0, 1 and 2 hold /dev/null, so that a library writing to "stderr" from this thread writes
  // nowhere rather than into the trace.
  for (int fd = 0; fd <= STDERR_FILENO; ++fd) {
    if (::open("/dev/null", O_RDWR) != fd) break;
  }
  return true;
}

}  // namespace

int floor() {
  rlimit limit{};
  rlim_t top = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
  top = std::min(top, kHighestTop);
  return static_cast<int>(top > 2 * kReserved ? top - kReserved : top / 2);
}

int move_above_floor(int fd) {
  if (fd < 0 || t_private_table) return fd;
  int lowest = floor();
  if (fd >= lowest) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, lowest);
  int saved = errno;
  close(fd);
  if (moved >= 0) note_held(moved);
  errno = saved;
  return moved;
}

void forget(int fd) {
  if (fd < 0) return;
  for (std::atomic<int>& h : g_held) {
    int held = fd + 1;
    if (h.compare_exchange_strong(held, 0)) return;
  }
}

int close_own(int fd) {
  forget(fd);
  return ::close(fd);
}

void close_inherited() {
  for (std::atomic<int>& h : g_held) {
    int held = h.exchange(0);
    if (held > 0) ::close(held - 1);
  }
}

int open_file(const char* path, int flags, mode_t mode) {
  if (!may_open()) {
    errno = EPERM;
    return -1;
  }
  return move_above_floor(::open(path, flags | O_CLOEXEC, mode));
}

DIR* open_directory(const char* path) {
  int fd = open_file(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return nullptr;
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) close_own(fd);
  return dir;
}

// An empty table at once where the kernel can (5.9+: close_range's CLOSE_RANGE_UNSHARE over
// every number copies none): copying the program's table only to close every entry costs
// time in proportion to its highest number, which our own descriptors above the floor make
// large. Otherwise unshare(), then close what was copied.
bool use_private_table() {
  if (t_private_table) return true;
  if (syscall(SYS_close_range, 0u, ~0u, CLOSE_RANGE_UNSHARE) == 0) return table_granted();
  if (unshare(CLONE_FILES) != 0) return false;
  if (syscall(SYS_close_range, 0u, ~0u, 0u) != 0) {
    rlimit limit{};
    rlim_t top = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
    for (rlim_t fd = 0; fd < std::min(top, kHighestTop); ++fd) close(static_cast<int>(fd));
  }
  return table_granted();
}

bool may_open_now() {
  return may_open();
}

bool in_private_table() {
  return t_private_table;
}

bool private_table_expected() {
  return g_table_granted.load() && prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0;
}

void watch_seccomp() {
  if (g_stopped.load()) return;
  int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  // A fork child inherits its parent's watch: a filter installed before the fork counts.
  if (g_watch.watching && mode != g_watch.mode) {
    g_stopped.store(true);
    return;
  }
  int fd = move_above_floor(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
  long filters = fd >= 0 ? read_filter_count(fd) : -1;
  if (g_watch.watching && g_watch.filters >= 0 && filters > g_watch.filters) {
    g_stopped.store(true);
  } else if (!g_watch.watching) {
    g_watch.mode = mode;
    g_watch.filters = filters;
  }
  g_watch.status_fd = fd;
  g_watch.status_pid = getpid();
  g_watch.watching = true;
}

bool opening_stopped() {
  return g_stopped.load();
}

void stop_opening_in_shared_table() {
  g_sealed_pid.store(getpid());
}

bool opening_sealed() {
  pid_t sealed = g_sealed_pid.load(std::memory_order_relaxed);
  return sealed != 0 && sealed == getpid();
}

}  // namespace memscope::fds
