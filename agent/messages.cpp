// See messages.hpp.
#include "agent/messages.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <atomic>

namespace memscope::agent {
namespace {

std::atomic<bool> g_quiet{false};
constexpr size_t kMaxParts = 8;

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
  ssize_t ignored = writev(STDERR_FILENO, iov, n);
  (void)ignored;
}

}  // namespace memscope::agent
