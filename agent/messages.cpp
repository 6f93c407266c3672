// See messages.hpp.
#include "agent/messages.hpp"

#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>

#include "collector/linux/own_descriptors.hpp"

namespace memscope::agent {
namespace {

std::atomic<bool> g_quiet{false};
constexpr size_t kMaxParts = 8;

// The program's stderr as it is now. The sidecar has a descriptor table of its own (where its
// 2 is /dev/null), so it borrows the program's 2 for the one write (pidfd_getfd, Linux 5.6);
// keeping a copy would hold a closed stderr open, and a pipe's reader would never see its end.
int borrow_program_stderr() {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
  if (pidfd < 0) return -1;
  int fd = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, STDERR_FILENO, 0));
  close(pidfd);
  return fd;
}

}  // namespace

void set_messages_quiet(bool quiet) {
  g_quiet.store(quiet);
}

void tell_user(std::initializer_list<std::string_view> parts) {
  if (g_quiet.load()) return;
  iovec iov[kMaxParts + 2];
  int n = 0;
  auto add = [&](std::string_view s) {
    iov[n].iov_base = const_cast<char*>(s.data());
    iov[n].iov_len = s.size();
    ++n;
  };
  add("memscope: ");
  for (std::string_view part : parts)
    if (n <= static_cast<int>(kMaxParts)) add(part);
  add("\n");
  int fd = fds::in_private_table() ? borrow_program_stderr() : STDERR_FILENO;
  if (fd < 0) return;
  ssize_t ignored = writev(fd, iov, n);
  (void)ignored;
  if (fd != STDERR_FILENO) close(fd);
}

}  // namespace memscope::agent
