// Allocates known amounts in known functions, for the analyzer's symbol and heap-model tests
// (tests/analyzer/check_analysis.py). Lines marked `// @NAME` are found by the test, so edits
// that move lines keep it right. Built -O0 -g; an always_inline function gives an inlined frame.
#include <pthread.h>

#include <cstdio>
#include <cstdlib>

namespace {

void* volatile g_sink;  // keeps allocations observable at -O0 and beyond

__attribute__((noinline)) void leak_three() {
  for (int i = 0; i < 3; ++i) g_sink = std::malloc(1000);  // @LEAK
}

__attribute__((noinline)) void temporaries() {
  for (int i = 0; i < 10; ++i) {
    void* p = std::malloc(64);  // @TEMP
    std::free(p);
  }
}

// `first` is not temporary (the thread allocates `second` before freeing it); `second` is.
__attribute__((noinline)) void pairs() {
  for (int i = 0; i < 5; ++i) {
    void* first = std::malloc(32);   // @PAIR_FIRST
    void* second = std::malloc(48);  // @PAIR_SECOND
    std::free(first);
    std::free(second);
  }
}

__attribute__((noinline)) void peak_holder() {
  void* big = std::malloc(50000);  // @PEAK
  g_sink = big;
  std::free(big);
}

__attribute__((always_inline)) inline void* inlined_alloc(size_t n) {
  return std::malloc(n);  // @INLINED
}

__attribute__((noinline)) void calls_inlined() {
  void* p = inlined_alloc(300);  // @INLINED_CALL
  std::free(p);
}

__attribute__((noinline)) void cxx_new() {
  char* p = new char[777];  // @NEW
  delete[] p;
}

void* worker(void*) {
  pthread_setname_np(pthread_self(), "worker");
  for (int i = 0; i < 4; ++i) g_sink = std::malloc(128);  // @WORKER
  return nullptr;
}

}  // namespace

int main() {
  leak_three();
  temporaries();
  pairs();
  peak_holder();
  calls_inlined();
  cxx_new();
  pthread_t t;
  if (pthread_create(&t, nullptr, worker, nullptr) != 0) return 1;
  pthread_join(t, nullptr);
  std::puts("known_sites done");
  return 0;
}
