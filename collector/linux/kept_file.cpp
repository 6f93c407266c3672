// See kept_file.hpp.
#include "collector/linux/kept_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "collector/linux/own_descriptors.hpp"

namespace memscope::fds {
namespace {

// struct linux_dirent64's fixed head: getdents64 has no glibc wrapper before 2.30's.
struct DirentHead {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
};

}  // namespace

void KeptFile::keep(const char* path, int flags) {
  if (still_ours()) return;
  if (pid_ == getpid()) forget(fd_);  // the program closed it: the number may be its own now
  *this = {};                         // or the parent's, in a fork child: never closed
  int fd = open_file(path, flags);
  struct stat st;
  if (fd < 0) return;
  if (fstat(fd, &st) != 0) {
    close_own(fd);
    return;
  }
  fd_ = fd, pid_ = getpid(), dev_ = st.st_dev, ino_ = st.st_ino;
}

bool KeptFile::still_ours() const {
  struct stat st;
  return fd_ >= 0 && pid_ == getpid() && fstat(fd_, &st) == 0 && st.st_dev == dev_ &&
         st.st_ino == ino_;
}

bool KeptFile::read_all(std::string& out) const {
  out.clear();
  if (!still_ours()) return false;
  char buf[4096];
  for (off_t at = 0;;) {
    ssize_t n = pread(fd_, buf, sizeof(buf), at);
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, static_cast<size_t>(n));
    at += n;
  }
}

bool KeptFile::list(std::vector<std::string>& names) const {
  names.clear();
  if (!still_ours() || lseek(fd_, 0, SEEK_SET) != 0) return false;
  alignas(8) char buf[8192];
  for (;;) {
    long n = syscall(SYS_getdents64, fd_, buf, sizeof(buf));
    if (n < 0) return false;
    if (n == 0) return true;
    for (long at = 0; at < n;) {
      DirentHead head;
      std::memcpy(&head, buf + at, sizeof(head));
      const char* name = buf + at + offsetof(DirentHead, type) + 1;
      if (std::strcmp(name, ".") != 0 && std::strcmp(name, "..") != 0) names.emplace_back(name);
      at += head.reclen;
    }
  }
}

}  // namespace memscope::fds
