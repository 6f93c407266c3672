// prog_cxx_containers: C++ allocation through operator new/delete and the standard containers.
//
// Exercises: scalar and array new/delete, over-aligned new (operator new(size, align_val_t),
// which libstdc++ serves with aligned_alloc), nothrow new, std::vector growth (each growth
// step is a new block), std::string beyond the small-string buffer, std::map and
// std::unordered_map (node blocks and bucket arrays, rehashing), std::make_shared and
// std::unique_ptr, a thrown and caught exception (__cxa_allocate_exception uses malloc), and
// two deliberate leaks. The libstdc++ emergency exception pool (allocated at start-up, never
// freed) is part of both runs' totals and leaks. Deterministic; prints a checksum.
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

struct alignas(128) Overaligned {
  unsigned char bytes[200];
};

void* volatile sink;
int* leaked_array;
std::string* leaked_string;
std::uint64_t checksum;

[[gnu::noinline]] void thrower(int i) {
  if (i % 2 == 0) throw std::runtime_error("even: " + std::to_string(i) + " is not allowed here");
}

}  // namespace

int main() {
  // Scalar and array new/delete.
  for (int i = 0; i < 200; ++i) {
    auto* v = new std::uint64_t(static_cast<std::uint64_t>(i));
    sink = v;
    auto* a = new std::uint32_t[static_cast<std::size_t>(i) + 1]();
    sink = a;
    a[i] = static_cast<std::uint32_t>(i);
    checksum += *v + a[i];
    delete[] a;
    delete v;
  }

  // Over-aligned new.
  for (int i = 0; i < 20; ++i) {
    auto* o = new Overaligned();
    sink = o;
    o->bytes[i] = static_cast<unsigned char>(i);
    checksum += o->bytes[i] + (reinterpret_cast<std::uintptr_t>(o) % 128 == 0 ? 0 : 1000000);
    delete o;
  }

  // nothrow new.
  auto* nt = new (std::nothrow) char[333];
  sink = nt;
  nt[0] = 1;
  checksum += static_cast<unsigned char>(nt[0]);
  delete[] nt;

  // std::vector growth without reserve: every capacity step is a new block.
  {
    std::vector<int> v;
    for (int i = 0; i < 5000; ++i) v.push_back(i);
    std::vector<std::vector<int>> nested(50);
    for (int i = 0; i < 50; ++i)
      nested[static_cast<std::size_t>(i)].assign(static_cast<std::size_t>(i) + 1, i);
    checksum += v[4999] + nested[49][0];
  }

  // Strings beyond the small-string buffer.
  {
    std::string s;
    for (int i = 0; i < 300; ++i) s += "memscope-" + std::to_string(i) + ";";
    checksum += s.size();
  }

  // Node-based and hashed containers.
  {
    std::map<int, std::string> m;
    std::unordered_map<int, int> um;
    for (int i = 0; i < 1000; ++i) {
      m.emplace(i * 7 % 1000, std::string(static_cast<std::size_t>(20 + i % 30), 'x'));
      um[i * 13] = i;
    }
    for (int i = 0; i < 1000; i += 3) m.erase(i);
    checksum += m.size() + um.size() + static_cast<std::uint64_t>(um[13 * 999]);
  }

  // Smart pointers.
  for (int i = 0; i < 100; ++i) {
    auto sp = std::make_shared<std::vector<double>>(static_cast<std::size_t>(i) + 1, 1.5);
    auto up = std::make_unique<std::string>(static_cast<std::size_t>(40 + i), 'y');
    std::shared_ptr<std::vector<double>> copy = sp;
    checksum += copy->size() + up->size();
  }

  // Exceptions.
  for (int i = 0; i < 10; ++i) {
    try {
      thrower(i);
      checksum += 1;
    } catch (const std::runtime_error& e) {
      checksum += std::string(e.what()).size();
    }
  }

  // Deliberate leaks.
  leaked_array = new int[64]();
  leaked_string = new std::string(100, 'z');
  sink = leaked_array;
  sink = leaked_string;

  std::printf("cxx_containers: checksum=%llu\n", static_cast<unsigned long long>(checksum));
  return 0;
}
