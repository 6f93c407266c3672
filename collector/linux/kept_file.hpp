// A file of this process's /proc opened once, at the sidecar's start, and read again later
// (pread from 0; a directory's entries with getdents64 after a seek to 0): for what is needed
// at a moment when nothing may be opened, where the sidecar shares the program's descriptor
// table (own_descriptors.hpp) or at the process's end. A fork child inherits the object but not
// the descriptor (the sidecar's table was its parent's), and the program may close a shared
// table's descriptor and reuse its number: both are told by process id, device and inode, and
// such a descriptor is forgotten, never closed or read.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace memscope::fds {

class KeptFile {
 public:
  // Opens `path` (through own_descriptors.hpp) unless this process keeps it already.
  void keep(const char* path, int flags);
  // The whole file from offset 0 into `out`; false when it is not kept or cannot be read.
  bool read_all(std::string& out) const;
  // A directory's entry names, "." and ".." left out; false when it is not kept or unreadable.
  bool list(std::vector<std::string>& names) const;

 private:
  bool still_ours() const;
  int fd_ = -1;
  pid_t pid_ = 0;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace memscope::fds
