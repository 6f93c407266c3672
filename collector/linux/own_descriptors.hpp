// memscope's own descriptors. POSIX gives open() the lowest free number and programs rely on it
// (close(0) then open() or dup() to make stdin), so every descriptor the agent, the sidecar and
// the collector open goes through here:
// - In the sidecar, whose thread has a descriptor table of its own (use_private_table), numbers
//   are never the program's and the program cannot close them.
// - Anywhere else (the program's threads, a sidecar that the system refused a table of its
//   own), a descriptor is moved at once to a number at or above the floor, just under the top
//   of the soft RLIMIT_NOFILE, that the program is given only once it holds nearly that many.
// - Opening stops for good once the program has installed a seccomp filter since
//   watch_seccomp(): such a filter may kill the process on open(); then opens fail with EPERM.
// - Where the sidecar shares the program's table, opening stops too once the sidecar's start is
//   over (stop_opening_in_shared_table): an open takes the lowest free number until it is
//   moved, a number the program could be given at that moment, so nothing is opened while the
//   program runs; what the sidecar reads again and again was opened during its start.
#pragma once

#include <dirent.h>
#include <sys/types.h>

namespace memscope::fds {

// The reserved numbers at the top: everything memscope may hold in a shared table fits.
constexpr int kReserved = 128;

// The lowest number for our descriptors in a shared table: kReserved below the soft
// RLIMIT_NOFILE (capped at 65536, as the kernel's table grows to the highest number).
int floor();
// Moves fd to the lowest free number at or above the floor and closes fd (no-op in a private
// table or when fd is there already). -1 (errno set, fd closed) when no such number is free:
// never a low number.
int move_above_floor(int fd);
// memscope's own descriptors in a shared table are remembered (at most kReserved): close them
// with close_own, or forget one the program closed (EBADF) or that closedir() closes. In a fork
// child, before anything is opened there, close_inherited() closes the copies of its parent's
// (nothing in the child uses them; kept, every generation would add its own set).
int close_own(int fd);
void forget(int fd);
void close_inherited();
// open(2) and opendir(3) through the rules above.
int open_file(const char* path, int flags, mode_t mode = 0);
DIR* open_directory(const char* path);

// For the calling thread: a copy of the process's descriptor table of its own, with every
// inherited descriptor closed (they are the program's; holding them would keep its pipes from
// seeing EOF). False where the system refuses (seccomp, old kernel): the thread shares the
// program's table then, and the floor applies.
bool use_private_table();
bool in_private_table();
// Whether use_private_table() can be expected to succeed on a thread the caller starts now: it
// did in this process or in the one it was forked from, and the calling thread has no seccomp
// filter that could refuse unshare() since.
bool private_table_expected();

// Remembers the calling thread's seccomp state (filter count); from then on every open first
// checks it and stops opening, once and for all, when a filter was added.
void watch_seccomp();
bool opening_stopped();
// Sidecar, at the end of its start, where it shares the program's table: from now on nothing
// is opened in this process (a fork child, whose sidecar starts while fork() has not returned
// yet, opens its own and then stops the same way). opening_sealed() says whether that is so.
void stop_opening_in_shared_table();
bool opening_sealed();
// Whether memscope may open a descriptor now (checks for a new seccomp filter, as every open
// does): for descriptors that come from other system calls than open(), perf_event_open's.
bool may_open_now();

}  // namespace memscope::fds
