// The program scripts/demo profiles: four named worker threads parse generated records with
// short-lived allocations (the "temporary allocation" pattern memscope points at), a cache that
// keeps growing and is never released (a leak), and a writer thread doing file IO. Expected
// analysis (README, "Set up and try it"): MemoryBound from the allocation churn in parse_row,
// the leak named at worker, every thread ranked, and a caution about memscope's own waits.
#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Record {
  std::string key;
  std::vector<double> values;
};

Record parse_row(const std::string& line) {
  Record r;
  size_t comma = line.find(',');
  r.key = line.substr(0, comma);
  size_t start = comma + 1;
  while (start < line.size()) {
    size_t end = line.find(',', start);
    if (end == std::string::npos) end = line.size();
    r.values.push_back(std::strtod(line.substr(start, end - start).c_str(), nullptr));
    start = end + 1;
  }
  return r;
}

std::string make_row(int worker, int i) {
  std::string row = "key" + std::to_string(worker) + "_" + std::to_string(i % 5000);
  for (int v = 0; v < 8; ++v) row += "," + std::to_string((i * 31 + v * 7) % 1000) + ".5";
  return row;
}

// Never cleared: the leak the report should name.
std::map<std::string, std::unique_ptr<char[]>>* g_cache =
    new std::map<std::string, std::unique_ptr<char[]>>;
pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;

void worker(int id, int rows, double* sum) {
  std::string name = "parser-" + std::to_string(id);
  pthread_setname_np(pthread_self(), name.c_str());
  double total = 0;
  for (int i = 0; i < rows; ++i) {
    Record r = parse_row(make_row(id, i));
    for (double v : r.values) total += v;
    if (i % 97 == 0) {
      pthread_mutex_lock(&g_cache_lock);
      (*g_cache)[r.key] = std::make_unique<char[]>(256);
      pthread_mutex_unlock(&g_cache_lock);
    }
  }
  *sum = total;
}

void writer(const std::string& path, int blocks) {
  pthread_setname_np(pthread_self(), "writer");
  std::ofstream out(path, std::ios::binary);
  std::vector<char> block(1 << 16, 'x');
  for (int i = 0; i < blocks; ++i)
    out.write(block.data(), static_cast<std::streamsize>(block.size()));
}

}  // namespace

int main(int argc, char** argv) {
  int rows = argc > 1 ? std::atoi(argv[1]) : 200000;
  std::string scratch = (std::filesystem::temp_directory_path() / "memscope-demo.bin").string();
  std::vector<double> sums(4);
  std::vector<std::thread> threads;
  for (int id = 0; id < 4; ++id)
    threads.emplace_back(worker, id, rows, &sums[static_cast<size_t>(id)]);
  threads.emplace_back(writer, scratch, 512);
  for (auto& t : threads) t.join();
  std::filesystem::remove(scratch);
  double total = 0;
  for (double s : sums) total += s;
  std::printf("demo: parsed %d rows in 4 threads, checksum %.1f, cache holds %zu entries\n",
              rows * 4, total, g_cache->size());
  return 0;
}
