// See session.hpp.
#include "analyzer/session.hpp"

#include <algorithm>
#include <filesystem>

namespace memscope::analyzer {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> expand(const std::vector<std::string>& inputs,
                                std::vector<std::string>& errors) {
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(input, ec))
        if (entry.path().extension() == ".mst") found.push_back(entry.path().string());
      if (found.empty()) errors.push_back("no memscope traces (*.mst) in directory " + input);
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(input, ec)) {
      files.push_back(input);
    } else {
      errors.push_back("no such file or directory: " + input);
    }
  }
  return files;
}

// Only the first chunk: the process description and the header's start time.
struct InfoOnly : TraceVisitor {
  ProcessInfo info;
  bool found = false;
  void process_info(const ProcessInfo& p) override {
    info = p;
    found = true;
  }
  void heap_event(const HeapEvent&) override {}
};

const TracedProcess* latest_before(const Session& s, uint64_t pid, uint64_t start,
                                   const TracedProcess* self) {
  const TracedProcess* best = nullptr;
  for (const auto& p : s.processes) {
    if (p.get() == self || p->start_ns >= start) continue;
    if (p->analysis->info().pid == pid) best = p.get();
  }
  return best;
}

void link(Session& s) {
  for (auto& p : s.processes) {
    const ProcessInfo& info = p->analysis->info();
    if (info.parent_pid != 0) {
      p->parent = latest_before(s, info.parent_pid, p->start_ns, p.get());
      p->origin = Origin::kFork;
    } else if ((p->parent = latest_before(s, info.pid, p->start_ns, p.get()))) {
      p->origin = Origin::kExec;  // a new image in the same process
    } else if ((p->parent = latest_before(s, info.ppid, p->start_ns, p.get()))) {
      p->origin = Origin::kSpawn;  // an untraced fork (vfork, posix_spawn), then exec
    }
  }
}

}  // namespace

const char* origin_name(Origin origin) {
  switch (origin) {
    case Origin::kFork:
      return "fork";
    case Origin::kExec:
      return "exec";
    case Origin::kSpawn:
      return "spawn";
    default:
      return "root";
  }
}

std::string process_name(const ProcessInfo& info) {
  std::string name = info.argv.empty() ? std::string() : fs::path(info.argv[0]).filename().string();
  return name.empty() ? fs::path(info.exe).filename().string() : name;
}

Session analyze(const std::vector<std::string>& inputs, bool replay_events) {
  Session s;
  for (const std::string& file : expand(inputs, s.errors)) {
    InfoOnly probe;
    ReadResult header = read_trace(file, probe, ChunkSelection::kAll, 1);
    if (!header.opened) {
      s.errors.push_back(header.error);
      continue;
    }
    auto p = std::make_unique<TracedProcess>();
    p->analysis = std::make_unique<ProcessAnalysis>(file);
    if (replay_events) p->analysis->always_replay();
    p->analysis->process_info(probe.info);
    p->start_ns = header.start_monotonic_ns;
    s.processes.push_back(std::move(p));
  }
  std::stable_sort(s.processes.begin(), s.processes.end(),
                   [](const auto& a, const auto& b) { return a->start_ns < b->start_ns; });
  link(s);
  for (auto& p : s.processes)
    if (p->origin == Origin::kFork && p->parent)
      p->parent->analysis->want_snapshot_at(p->analysis->info().fork_stamp);
  for (auto& p : s.processes) {
    if (p->origin == Origin::kFork && p->parent) {
      const ForkSnapshot* at_fork =
          p->parent->analysis->snapshot_at(p->analysis->info().fork_stamp);
      if (at_fork) p->analysis->inherit_from(*at_fork);
    }
    p->analysis->read();
  }
  return s;
}

}  // namespace memscope::analyzer
