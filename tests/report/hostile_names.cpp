// A program whose strings are hostile to an HTML report (tests/report/browser_test.sh): threads
// named like HTML elements, a function whose demangled name is a long C++ template, and the
// command line the test passes (script-closing tags, U+2028). It allocates from those threads
// for about a second, so that the report has metric samples, sites, a peak and leaks to show,
// then forks a child that allocates too (a second process for the report's selector).
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace memscope_report_test {

template <typename T>
struct Tag {};

template <typename Outer, typename Inner, int N>
struct Matrix {
  // noinline: the allocation must be recorded with this frame, not the caller's.
  template <typename Policy>
  [[gnu::noinline]] static void* allocate_rows(size_t rows) {
    void* p = std::malloc(rows * sizeof(double) * N);
    asm volatile("" : : "r"(p) : "memory");  // keep the block: it is the point of the call
    return p;
  }
};

using LongName = Matrix<std::map<std::string, std::vector<std::pair<int, double>>>,
                        Tag<std::vector<std::string>>, 3>;

// Burns CPU and allocates for `ms` milliseconds; leaks one block so the leak table has a row.
void work(int ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  volatile double sink = 0;
  while (std::chrono::steady_clock::now() < end) {
    void* p = LongName::allocate_rows<Tag<std::map<int, std::string>>>(512);
    for (int i = 0; i < 20000; ++i) sink = sink + i * 0.5;
    std::free(p);
  }
  static void* leaked = nullptr;
  leaked = LongName::allocate_rows<Tag<std::map<int, std::string>>>(64);
  asm volatile("" : : "r"(leaked) : "memory");
}

void* named_thread(void* arg) {
  const char* name = static_cast<const char*>(arg);
  // PR_SET_NAME keeps the first 15 bytes (the kernel's limit), which is what any profiler sees.
  prctl(PR_SET_NAME, name);
  work(900);
  return nullptr;
}

}  // namespace memscope_report_test

int main() {
  // The first name is cut by the kernel to "<img src=x oner"; the second is a whole element.
  static char hostile_long[] = "<img src=x onerror=alert(1)>";
  static char hostile_short[] = "<img src=x>";
  pthread_t a, b;
  if (pthread_create(&a, nullptr, memscope_report_test::named_thread, hostile_long) != 0) return 1;
  if (pthread_create(&b, nullptr, memscope_report_test::named_thread, hostile_short) != 0) return 1;
  memscope_report_test::work(300);
  pthread_join(a, nullptr);
  pthread_join(b, nullptr);
  // A forked child gives the report a second process, so the test can use the selector.
  pid_t child = fork();
  if (child == 0) {
    memscope_report_test::work(250);
    _exit(0);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return 1;
  return 0;
}
