// See last_thread.hpp.
#include "agent/last_thread.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agent/agent_state.hpp"
#include "agent/futex.hpp"
#include "agent/real_functions.hpp"
#include "agent/thread_mode.hpp"
#include "collector/linux/kept_file.hpp"

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
char g_exit_thread_name[16];

// The thread that will call the owed exit(0), parked from the moment the main thread leaves
// through glibc (or a thread leaves after it). It must be started by a program thread: the
// sidecar's thread has a descriptor table of its own (own_descriptors.hpp), which a thread it
// started would share, and once the program's last thread is gone nothing else holds the
// program's table: the exit handlers would write to /dev/null and its pipes would close early.
enum ExitThread : int { kNoExitThread, kExitThreadStarting, kExitThreadParked, kExitThreadFailed };
std::atomic<int> g_exit_thread{kNoExitThread};
std::atomic<uint32_t> g_exit_released{0};

// Sidecar only.
uint64_t g_next_look_ns = 0;
uint64_t g_burst_until_ns = 0;
uint32_t g_ends_seen = 0;
int g_main_wait_status = 0;

// The kernel zeroes the word when the thread is gone (CLONE_CHILD_CLEARTID); a thread that
// joined it may then have glibc set it to -1.
bool main_thread_gone() {
  return g_main_tid != nullptr && __atomic_load_n(g_main_tid, __ATOMIC_ACQUIRE) != g_main_tid_value;
}

// /proc/self/stat, opened once by the sidecar at its start (keep_process_stat) and re-read: no
// open later, when a number could be one the program is about to be given.
fds::KeptFile g_stat;

// Fields 20 (num_threads) and 52 (exit_code, as waitpid reports it) of /proc/self/stat, which
// describe the thread group and its main thread.
bool read_process_stat(long& threads, long& exit_code) {
  std::string text;
  if (!g_stat.read_all(text)) return false;
  const char* p = strrchr(text.c_str(), ')');  // the command name may hold spaces and parentheses
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

void* run_owed_exit(void* parked) {
  pthread_sigmask(SIG_SETMASK, &g_program_mask, nullptr);
  prctl(PR_SET_NAME, g_exit_thread_name);
  while (parked != nullptr && g_exit_released.load(std::memory_order_acquire) == 0)
    futex_wait_forever(g_exit_released, 0);
  exit(0);
}

bool start_owed_exit_thread(bool parked) {
  ScopedMode passthrough(ThreadMode::kPassthrough);  // glibc allocates the thread's TLS
  pthread_t thread;
  if (g_real.pthread_create(&thread, nullptr, run_owed_exit, parked ? &g_exit_released : nullptr) !=
      0)
    return false;
  pthread_detach(thread);
  return true;
}

// On a program thread leaving once the main thread leaves or has left: it may be the last.
// Only while a sidecar runs: nobody else would release the parked thread, and glibc would
// count it for ever.
void park_exit_thread() {
  if (!g_sidecar_running.load(std::memory_order_acquire)) return;
  int none = kNoExitThread;
  if (!g_exit_thread.compare_exchange_strong(none, kExitThreadStarting)) return;
  if (syscall(SYS_gettid) == getpid()) prctl(PR_GET_NAME, g_exit_thread_name);  // its name now
  g_exit_thread.store(start_owed_exit_thread(true) ? kExitThreadParked : kExitThreadFailed,
                      std::memory_order_release);
}

}  // namespace

void init_last_thread() {
  pthread_sigmask(SIG_SETMASK, nullptr, &g_program_mask);
  prctl(PR_GET_NAME, g_exit_thread_name);
  g_exit_thread.store(kNoExitThread);  // a fork child has no parked thread of its parent's
  g_exit_released.store(0);
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
  bool main_gone = main_thread_gone();
  if (main_gone) g_outlived_main.store(true);
  if (main_gone || syscall(SYS_gettid) == getpid()) park_exit_thread();
  g_thread_ends.fetch_add(1, std::memory_order_relaxed);
}

ProgramThreads program_threads_left(uint64_t now_ns) {
  // glibc counts the sidecar and the parked exit thread, if there is one, but they owe exit(0).
  unsigned ours = memscope_thread_count();
  if (g_glibc_threads != nullptr && __atomic_load_n(g_glibc_threads, __ATOMIC_ACQUIRE) == ours)
    return ProgramThreads::kExitOwed;
  if (!main_thread_gone() || !time_to_look(now_ns)) return ProgramThreads::kRunning;
  long threads, exit_code;
  if (!read_process_stat(threads, exit_code)) return ProgramThreads::kRunning;
  g_main_wait_status = static_cast<int>(exit_code);
  // Left: the main thread (a zombie until the group ends), the sidecar and the parked thread.
  return threads <= ours + 1 ? ProgramThreads::kAllGone : ProgramThreads::kRunning;
}

bool start_exit_thread() {
  if (g_exit_thread.load(std::memory_order_acquire) == kExitThreadParked) {
    g_exit_released.store(1, std::memory_order_release);
    futex_wake_all(g_exit_released);
    return true;
  }
  return start_owed_exit_thread(false);  // shares the sidecar's descriptor table: see above
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

unsigned memscope_thread_count() {
  return g_exit_thread.load(std::memory_order_acquire) == kExitThreadParked ? 2 : 1;
}

// procfs counts a task directory's links as 2 plus the thread group's threads: a stat(), no
// descriptor, so a program thread asks without touching the program's table (an open there
// would take the lowest free number for a moment, and moving it above the floor makes the
// kernel grow the table: 10 ms in a fork child whose table is still small).
long kernel_thread_count() {
  struct stat st;
  if (stat("/proc/self/task", &st) != 0 || st.st_nlink < 3) return -1;
  return static_cast<long>(st.st_nlink) - 2;
}

void keep_process_stat() {
  g_stat.keep("/proc/self/stat", O_RDONLY);
}

void restore_program_signal_mask() {
  pthread_sigmask(SIG_SETMASK, &g_program_mask, nullptr);
}

}  // namespace memscope::agent
