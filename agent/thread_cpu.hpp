// A thread's own CPU time, context switches and page faults, read by the thread itself when it
// starts and when it ends (thread_registry.cpp), so that threads too short for the collector's
// sampling still have exact figures. The sidecar writes each reading as a kThreadCpu record.
#pragma once

#include <sys/resource.h>
#include <time.h>

#include <cstdint>

#include "agent/clock.hpp"

namespace memscope::agent {

struct ThreadCpuReading {
  bool valid = false;
  uint64_t stamp = 0;                   // now_ns() when read
  uint64_t cpu_ns = 0;                  // CLOCK_THREAD_CPUTIME_ID: the scheduler's exact run time
  uint64_t user_ns = 0, system_ns = 0;  // getrusage(RUSAGE_THREAD), microsecond resolution
  uint64_t voluntary_switches = 0, involuntary_switches = 0;
  uint64_t minor_faults = 0, major_faults = 0;
};

// Two system calls through the vDSO and the kernel; neither allocates nor takes a lock.
inline void read_thread_cpu(ThreadCpuReading& out) {
  timespec cpu;
  rusage usage;
  out.valid =
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0 && getrusage(RUSAGE_THREAD, &usage) == 0;
  if (!out.valid) return;
  auto ns = [](const timeval& t) {
    return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000ull +
           static_cast<uint64_t>(t.tv_usec) * 1000ull;
  };
  out.stamp = now_ns();
  out.cpu_ns =
      static_cast<uint64_t>(cpu.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(cpu.tv_nsec);
  out.user_ns = ns(usage.ru_utime);
  out.system_ns = ns(usage.ru_stime);
  out.voluntary_switches = static_cast<uint64_t>(usage.ru_nvcsw);
  out.involuntary_switches = static_cast<uint64_t>(usage.ru_nivcsw);
  out.minor_faults = static_cast<uint64_t>(usage.ru_minflt);
  out.major_faults = static_cast<uint64_t>(usage.ru_majflt);
}

}  // namespace memscope::agent
