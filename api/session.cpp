// IntegratedProfilingSession: opens and closes a region through the agent's C interface
// (agent/region_api.h, looked up at run time so a missing agent is a clear error, not a crash)
// and analyses it with memscope-analyze's own engine (region_analysis.cpp).
#include <dlfcn.h>

#include <cerrno>
#include <cstring>

#include "api/region_analysis.hpp"
#include "memscope/memscope.hpp"

namespace memscope {
namespace {

using BeginFn = int (*)(const char*, uint64_t*, uint64_t*);
using EndFn = int (*)(uint64_t, uint64_t*, char*, size_t);

template <typename F>
F agent_function(const char* name) {
  auto f = reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
  if (f == nullptr)
    throw ProfilingError(std::string("memscope: the agent library is not loaded (") + name +
                         " not found); link the memscope::memscope target or run the program "
                         "under memscope-run");
  return f;
}

}  // namespace

IntegratedProfilingSession::IntegratedProfilingSession(std::filesystem::path output_directory)
    : directory_(std::move(output_directory)) {}

IntegratedProfilingSession::~IntegratedProfilingSession() {
  if (region_id_ == 0) return;
  auto end = reinterpret_cast<EndFn>(dlsym(RTLD_DEFAULT, "memscope_region_end"));
  uint64_t end_ns = 0;
  char path[1];
  if (end != nullptr) end(region_id_, &end_ns, path, sizeof(path));
}

void IntegratedProfilingSession::start_profiling() {
  if (region_id_ != 0)
    throw ProfilingError("memscope: start_profiling() called twice; stop the session first");
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (ec)
    throw ProfilingError("memscope: cannot create " + directory_.string() + ": " + ec.message());
  auto begin = agent_function<BeginFn>("memscope_region_begin");
  int rc = begin(directory_.c_str(), &region_id_, &begin_ns_);
  if (rc == EBUSY)
    throw ProfilingError(
        "memscope: another profiling session of this process is open; stop it "
        "before starting a new one");
  if (rc != 0) {
    region_id_ = 0;
    throw ProfilingError("memscope: cannot write a trace into " + directory_.string() +
                         " (see the message above); choose a writable directory");
  }
}

ProfileAnalysis IntegratedProfilingSession::stop_profiling_and_analyze() {
  if (region_id_ == 0)
    throw ProfilingError("memscope: stop_profiling_and_analyze() called without start_profiling()");
  auto end = agent_function<EndFn>("memscope_region_end");
  uint64_t end_ns = 0;
  char path[4096];
  int rc = end(region_id_, &end_ns, path, sizeof(path));
  region_id_ = 0;
  if (rc != 0) throw ProfilingError("memscope: the profiling region was not open in the agent");
  api::RegionResult result = api::analyze_region(path, begin_ns_, end_ns);
  result.analysis.json_ = std::move(result.json);
  result.analysis.directory_ = directory_;
  return std::move(result.analysis);
}

std::filesystem::path ProfileAnalysis::write_json(const std::filesystem::path& file) const {
  std::filesystem::path target = file.empty() ? directory_ / "analysis.json" : file;
  if (!api::write_text_file(target, json_))
    throw ProfilingError("memscope: cannot write " + target.string());
  return target;
}

std::filesystem::path ProfileAnalysis::write_html(const std::filesystem::path& file) const {
  std::filesystem::path target = file.empty() ? directory_ / "report.html" : file;
  std::string error;
  if (!api::write_html_file(target, json_, error))
    throw ProfilingError("memscope: cannot write " + target.string() + ": " + error);
  return target;
}

const char* to_string(Bottleneck b) {
  switch (b) {
    case Bottleneck::CpuBound:
      return "CpuBound";
    case Bottleneck::MemoryBound:
      return "MemoryBound";
    case Bottleneck::IoBound:
      return "IoBound";
    case Bottleneck::GpuBound:
      return "GpuBound";
    case Bottleneck::ContentionBound:
      return "ContentionBound";
    case Bottleneck::Balanced:
      return "Balanced";
  }
  return "Balanced";
}

}  // namespace memscope
