// robust_opnew N: replaces the global operator new and delete (all the usual forms) with its
// own counting versions on top of malloc/free, then makes N new/delete pairs of int[i % 50 + 1]
// and N / 2 of a single std::string object. Prints its own counts, which must be the same under
// memscope ("new=", "delete="). memscope must see each of its mallocs once, not the agent's
// own operator new (the agent's C++ runtime is private).
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

namespace {
long g_new = 0;
long g_delete = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++g_new;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++g_new;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
  return operator new(n, t);
}
void operator delete(void* p) noexcept {
  if (p) ++g_delete;
  std::free(p);
}
void operator delete[](void* p) noexcept {
  operator delete(p);
}
void operator delete(void* p, std::size_t) noexcept {
  operator delete(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  operator delete(p);
}

int main(int argc, char** argv) {
  long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 10000;
  long before_new = g_new, before_delete = g_delete;
  for (long i = 0; i < n; ++i) {
    int* volatile a = new int[static_cast<std::size_t>(i % 50 + 1)];
    a[0] = 1;
    delete[] a;
  }
  for (long i = 0; i < n / 2; ++i) {
    auto* volatile s = new std::string("x");
    delete s;
  }
  std::printf("new=%ld\ndelete=%ld\n", g_new - before_new, g_delete - before_delete);
  return 0;
}
