// Tiny output helpers for the robustness test programs: they write with write(2) instead of
// stdio, so that the only heap allocations a program makes are the ones its source shows (stdio
// allocates its stream buffer on first use) and the tests can expect exact counts.
#ifndef MEMSCOPE_TESTS_ROBUST_IO_H
#define MEMSCOPE_TESTS_ROBUST_IO_H

#include <string.h>
#include <unistd.h>

static inline void robust_put(int fd, const char* s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

// Writes "<label><value>\n" to fd without allocating.
static inline void robust_put_num(int fd, const char* label, long long value) {
  char digits[32];
  char line[96];
  int n = 0;
  unsigned long long v = value < 0 ? (unsigned long long)(-value) : (unsigned long long)value;
  do {
    digits[n++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v != 0);
  size_t len = strlen(label);
  if (len > sizeof(line) - 40) len = sizeof(line) - 40;
  memcpy(line, label, len);
  if (value < 0) line[len++] = '-';
  while (n > 0) line[len++] = digits[--n];
  line[len++] = '\n';
  line[len] = '\0';
  robust_put(fd, line);
}

#endif
