// Profiles a known region through the installed memscope; exits non-zero on a wrong count.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <memscope/memscope.hpp>

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : "consumer-out";
  std::vector<void*> blocks;
  blocks.reserve(50);
  memscope::IntegratedProfilingSession session{dir};
  session.start_profiling();
  for (int i = 0; i < 50; ++i) blocks.push_back(std::malloc(128));
  for (void* p : blocks) std::free(p);
  memscope::ProfileAnalysis analysis = session.stop_profiling_and_analyze();
  std::printf("consumer: %llu allocations, %llu bytes\n",
              static_cast<unsigned long long>(analysis.summary.total_allocations),
              static_cast<unsigned long long>(analysis.summary.total_allocated_bytes));
  return analysis.summary.total_allocations == 50 && analysis.summary.total_allocated_bytes == 6400
             ? 0
             : 1;
}
