// robust_probepipe DATA OUT: a program that closes every descriptor and then opens its own at
// the low numbers, where an unwinder's probe pipe might have been: DATA (a regular file of a
// known content, read-write) and a blocking pipe, alternately, for numbers 0 to 15. Then it
// allocates from deep call stacks (libunwind, which the agent once used, validated addresses
// through its pipe while unwinding them). Each file must still be at offset 0 with its content
// unchanged, each pipe empty, and nothing may block. Opens OUT last and writes one line per number
// there, "fd N ok" or what went wrong.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "robust_io.h"

enum { kLow = 16, kDepth = 150 };

__attribute__((noinline)) static void* deep(int n) {
  if (n == 0) return malloc(48);
  void* p = deep(n - 1);
  __asm__ volatile("" ::: "memory");  // keeps the frames (no tail call)
  return p;
}

static const char* check(int fd, int is_pipe, const char* content, size_t size) {
  if (is_pipe) {
    fcntl(fd, F_SETFL, O_NONBLOCK);
    char byte;
    if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDONLY) return "ok";  // the write end
    return read(fd, &byte, 1) < 0 && errno == EAGAIN ? "ok" : "pipe not empty";
  }
  char buf[256];
  if (lseek(fd, 0, SEEK_CUR) != 0) return "offset moved";
  ssize_t n = pread(fd, buf, sizeof(buf), 0);
  return n == (ssize_t)size && memcmp(buf, content, size) == 0 ? "ok" : "content changed";
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const char content[] = "the program's own data, which nobody else writes\n";
  struct rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  for (rlim_t fd = 0; fd < limit.rlim_cur; ++fd) close((int)fd);
  int is_pipe[kLow] = {0};
  for (int fd = 0; fd < kLow;) {
    if (fd % 4 < 2) {
      if (open(argv[1], O_RDWR) != fd) return 3;
      ++fd;
    } else {
      int pair[2];
      if (pipe(pair) != 0 || pair[0] != fd) return 4;
      is_pipe[fd++] = 1, is_pipe[fd++] = 1;
    }
  }
  for (int i = 0; i < 200; ++i) free(deep(kDepth + i % 7));
  int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0) return 5;
  for (int fd = 0; fd < kLow; ++fd) {
    robust_put_num(out, "fd ", fd);
    robust_put(out, check(fd, is_pipe[fd], content, sizeof(content) - 1));
    robust_put(out, "\n");
  }
  return 0;
}
