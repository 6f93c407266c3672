// See last_thread.hpp.
#include "agent/last_thread.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "agent/real_functions.hpp"
#include "agent/thread_mode.hpp"

namespace memscope::agent {
namespace {

constexpr uint64_t kLookIntervalNs = 100'000'000ull;
constexpr uint64_t kLookBurstNs = 50'000'000ull;

const unsigned* g_glibc_threads = nullptr;  // __nptl_nthreads
const int* g_main_tid = nullptr;            // the main thread's tid in its struct pthread
int g_main_tid_value = 0;
sigset_t g_program_mask;
std::atomic<bool> g_outlived_main{false};
std::atomic<uint32_t> g_thread_ends{0};

// Sidecar only.
uint64_t g_next_look_ns = 0;
uint64_t g_burst_until_ns = 0;
uint32_t g_ends_seen = 0;
int g_main_wait_status = 0;
char g_exit_thread_name[16];

// The kernel zeroes the word when the thread is gone (CLONE_CHILD_CLEARTID); a thread that
// joined it may then have glibc set it to -1.
bool main_thread_gone() {
  return g_main_tid != nullptr && __atomic_load_n(g_main_tid, __ATOMIC_ACQUIRE) != g_main_tid_value;
}

// Fields 20 (num_threads) and 52 (exit_code, as waitpid reports it) of /proc/self/stat, which
// describe the thread group and its main thread.
bool read_process_stat(long& threads, long& exit_code) {
  char buf[1024];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  const char* p = strrchr(buf, ')');  // the command name may hold spaces and parentheses
  if (p == nullptr) return false;
  int field = 2;
  threads = -1;
  exit_code = -1;
  for (p = p + 1; *p != '\0'; ++p) {
    if (*p != ' ') continue;
    ++field;
    if (field == 20) threads = strtol(p + 1, nullptr, 10);
    if (field == 52) exit_code = strtol(p + 1, nullptr, 10);
  }
  return threads > 0 && exit_code >= 0;
}

bool time_to_look(uint64_t now) {
  uint32_t ends = g_thread_ends.load(std::memory_order_relaxed);
  if (ends != g_ends_seen) {  // the thread that ended is still leaving: look again soon
    g_ends_seen = ends;
    g_burst_until_ns = now + kLookBurstNs;
  }
  if (now < g_next_look_ns && now >= g_burst_until_ns) return false;
  g_next_look_ns = now + kLookIntervalNs;
  return true;
}

void* run_owed_exit(void*) {
  pthread_sigmask(SIG_SETMASK, &g_program_mask, nullptr);
  prctl(PR_SET_NAME, g_exit_thread_name);
  exit(0);
}

void read_main_thread_name() {
  int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? 0 : read(fd, g_exit_thread_name, sizeof(g_exit_thread_name) - 1);
  if (fd >= 0) close(fd);
  g_exit_thread_name[n > 0 ? n : 0] = '\0';
  if (char* newline = strchr(g_exit_thread_name, '\n')) *newline = '\0';
}

}  // namespace

void init_last_thread() {
  pthread_sigmask(SIG_SETMASK, nullptr, &g_program_mask);
  g_glibc_threads =
      static_cast<const unsigned*>(dlvsym(RTLD_DEFAULT, "__nptl_nthreads", "GLIBC_PRIVATE"));
  // {bits, count, offset} of struct pthread's tid, the word the kernel clears at thread exit.
  const auto* tid_field =
      static_cast<const uint32_t*>(dlvsym(RTLD_DEFAULT, "_thread_db_pthread_tid", "GLIBC_PRIVATE"));
  g_main_tid = nullptr;
  if (tid_field == nullptr || tid_field[0] != 32 || syscall(SYS_gettid) != getpid()) return;
  const auto* word =
      reinterpret_cast<const int*>(reinterpret_cast<const char*>(pthread_self()) + tid_field[2]);
  g_main_tid_value = getpid();
  if (*word == g_main_tid_value) g_main_tid = word;
}

void note_thread_leaving() {
  if (main_thread_gone()) g_outlived_main.store(true);
  g_thread_ends.fetch_add(1, std::memory_order_relaxed);
}

ProgramThreads program_threads_left(uint64_t now_ns) {
  if (g_glibc_threads != nullptr && __atomic_load_n(g_glibc_threads, __ATOMIC_ACQUIRE) == 1)
    return ProgramThreads::kExitOwed;
  if (!main_thread_gone() || !time_to_look(now_ns)) return ProgramThreads::kRunning;
  long threads, exit_code;
  if (!read_process_stat(threads, exit_code)) return ProgramThreads::kRunning;
  g_main_wait_status = static_cast<int>(exit_code);
  // Left: the main thread (a zombie until the group ends) and the sidecar.
  return threads <= 2 ? ProgramThreads::kAllGone : ProgramThreads::kRunning;
}

bool start_exit_thread() {
  ScopedMode passthrough(ThreadMode::kPassthrough);  // glibc allocates the thread's TLS
  read_main_thread_name();
  pthread_t thread;
  if (g_real.pthread_create(&thread, nullptr, run_owed_exit, nullptr) != 0) return false;
  pthread_detach(thread);
  return true;
}

int all_gone_status() {
  return g_outlived_main.load() ? 0 : g_main_wait_status;
}

void end_process_with(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    kill(getpid(), sig);
  }
  g_real.underscore_exit(WEXITSTATUS(wait_status));
  __builtin_unreachable();
}

void restore_program_signal_mask() {
  pthread_sigmask(SIG_SETMASK, &g_program_mask, nullptr);
}

}  // namespace memscope::agent
