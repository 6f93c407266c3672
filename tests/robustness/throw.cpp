// robust_throw N: makes N allocations with operator new (half deleted), prints "allocated=N",
// then throws a C++ exception that nobody catches (std::terminate, then abort: SIGABRT).
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
#include "robust_io.h"
}

int main(int argc, char** argv) {
  long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 100;
  std::vector<int*> blocks;
  blocks.reserve(static_cast<size_t>(n));  // one allocation
  for (long i = 1; i < n; ++i) blocks.push_back(new int(static_cast<int>(i)));
  for (size_t i = 0; i < blocks.size(); i += 2) delete blocks[i];
  robust_put_num(1, "allocated=", n);
  throw std::runtime_error("robust_throw: nobody catches this");
}
