/* Label IoBound: synchronous storage writes. Each 256 KiB block is written and fdatasync'd
   before the next, so the thread mostly waits for the disk (iowait, IO pressure, process write
   bytes). The file (argv[1], default ./io_bound.dat) cycles over 32 MiB and is removed at exit. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "io_bound.dat";
  enum { kBlock = 256 * 1024, kBlocks = 128 };
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
  if (fd < 0) {
    perror(path);
    return 1;
  }
  static char block[kBlock];
  unsigned long writes = 0;
  double end = now_s() + RUN_SECONDS;
  while (now_s() < end) {
    memset(block, (int)writes, sizeof(block));
    off_t at = (off_t)(writes % kBlocks) * kBlock;
    if (pwrite(fd, block, kBlock, at) != kBlock || fdatasync(fd) != 0) {
      perror("write");
      return 1;
    }
    /* Drop the written pages so each round really reaches the disk again. */
    posix_fadvise(fd, at, kBlock, POSIX_FADV_DONTNEED);
    ++writes;
  }
  close(fd);
  unlink(path);
  printf("io_bound: %lu synchronous writes of 256 KiB\n", writes);
  return 0;
}
