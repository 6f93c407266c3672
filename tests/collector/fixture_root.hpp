// Test helper: a private copy of a fixture tree (fixtures/<machine>/t0) that a test can move to
// its second snapshot (t1) in place, and a fake monotonic clock, so rates are exact.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "memscope/collector.hpp"

namespace memscope::testing {

class FixtureRoot {
 public:
  explicit FixtureRoot(const std::string& machine)
      : source_(std::filesystem::path(MEMSCOPE_COLLECTOR_FIXTURES) / machine) {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("memscope-collector-" + machine + "-" + std::to_string(getpid()) + "-" +
            std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    overlay(source_ / "t0");
  }
  ~FixtureRoot() { std::filesystem::remove_all(dir_); }

  std::string path() const { return dir_.string(); }
  // Rewrites the files that changed in place (same inode), as the kernel does: the collector
  // keeps its descriptors open and must see the new contents.
  void advance() { overlay(source_ / "t1"); }
  // A file of a thread other than the main one (proc/PID/task/TID/..., TID != PID) is stored
  // where the collector reads it, proc/TID/task/TID/... (collector/linux/proc_file.hpp says why),
  // and proc/PID/task/TID stays an empty directory, so that the task list still names the thread
  // but a reader of the old path finds nothing.
  void write(const std::string& relative, const std::string& text) const {
    std::filesystem::path target = dir_ / thread_file(relative);
    std::filesystem::create_directories(target.parent_path());
    std::ofstream(target, std::ios::trunc) << text;
  }
  // The thread ended: gone from the task list and from proc/TID.
  void end_thread(int pid, int tid) const {
    std::filesystem::remove_all(dir_ / "proc" / std::to_string(pid) / "task" / std::to_string(tid));
    std::filesystem::remove_all(dir_ / "proc" / std::to_string(tid));
  }

 private:
  void overlay(const std::filesystem::path& from) const {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(from)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      write(std::filesystem::relative(entry.path(), from).string(), text);
    }
  }

  std::filesystem::path thread_file(const std::string& relative) const {
    const std::filesystem::path path(relative);
    std::vector<std::string> parts(path.begin(), path.end());
    if (parts.size() < 5 || parts[0] != "proc" || parts[2] != "task" || parts[1] == parts[3])
      return path;
    std::filesystem::create_directories(dir_ / "proc" / parts[1] / "task" / parts[3]);
    std::filesystem::path moved = std::filesystem::path("proc") / parts[3] / "task" / parts[3];
    for (size_t i = 4; i < parts.size(); ++i) moved /= parts[i];
    return moved;
  }

  std::filesystem::path source_;
  std::filesystem::path dir_;
};

// Options for a fixture: the fake clock advances exactly one second per reading.
inline CollectorOptions fixture_options(const FixtureRoot& root, pid_t pid) {
  CollectorOptions options;
  options.root = root.path();
  options.pid = pid;
  options.nvml_library = "/nonexistent/libnvidia-ml.so.1";  // a real GPU must not leak in
  auto now = std::make_shared<uint64_t>(1'000'000'000);
  options.clock = [now] { return *now += 1'000'000'000; };
  return options;
}

}  // namespace memscope::testing
