// The Linux backend: one reader per source family, each rooted at options.root so the same
// code runs on the machine and on fixture trees. The readers keep their files open.
#include <unistd.h>

#include "collector/gpu/gpu_source.hpp"
#include "collector/linux/cgroup_reader.hpp"
#include "collector/linux/cpu_reader.hpp"
#include "collector/linux/own_descriptors.hpp"
#include "collector/linux/process_reader.hpp"
#include "collector/linux/system_io_reader.hpp"
#include "memscope/collector.hpp"

namespace memscope {
namespace {

uint64_t to_ns(std::chrono::milliseconds ms) {
  return static_cast<uint64_t>(std::chrono::nanoseconds(ms).count());
}

class LinuxBackend final : public CollectorBackend {
 public:
  explicit LinuxBackend(const CollectorOptions& options)
      : cpu_(options.root, to_ns(options.slow_source_period), caps_),
        process_(options.root, pid_of(options), options.per_thread,
                 to_ns(options.slow_source_period), caps_),
        io_(options.root, caps_),
        cgroup_(options.root, pid_of(options), to_ns(options.slow_source_period), caps_) {
    if (options.gpu) {
      open_gpus(options);
    } else {
      caps_.nvml_status = "GPU sampling disabled";
    }
  }

  const CollectorCapabilities& capabilities() const override { return caps_; }

  void sample(PlatformMetrics& out, uint64_t interval_ns) override {
    cpu_.sample(out.cpu, out.timestamp_ns, interval_ns, out.errors);
    process_.sample(out, out.timestamp_ns, interval_ns, out.errors);
    io_.sample(out.io, interval_ns, out.errors);
    cgroup_.sample(out.cgroup, out.timestamp_ns, out.errors);
    if (fds::opening_stopped()) {
      out.errors.emplace_back(
          "a seccomp filter was installed: no file is opened any more (threads started since "
          "have their CPU time only, from their CPU clocks; files that failed to open are not "
          "retried)");
    } else if (fds::opening_sealed()) {
      out.errors.emplace_back(
          "memscope shares the program's descriptor table, so it opened its files before the "
          "program ran and opens none since: threads started since have their CPU time only, "
          "from their CPU clocks; names are not refreshed, files that failed to open or that "
          "the program closed are not reopened");
    }
    if (gpus_.empty()) return;
    std::vector<GpuResourceMetrics> gpus;
    for (auto& source : gpus_) source->sample(gpus, out.timestamp_ns, interval_ns);
    if (!gpus.empty()) out.gpu = std::move(gpus);
  }

 private:
  static pid_t pid_of(const CollectorOptions& options) {
    return options.pid > 0 ? options.pid : getpid();
  }

  void open_gpus(const CollectorOptions& options) {
    auto nvml = collector::make_nvml_source(options.nvml_library, to_ns(options.slow_source_period),
                                            caps_.nvml_status);
    caps_.nvml = nvml != nullptr;
    if (nvml) gpus_.push_back(std::move(nvml));
    if (auto amd = collector::make_amd_source(options.root)) {
      caps_.amd_gpu = true;
      gpus_.push_back(std::move(amd));
    }
    if (auto intel = collector::make_intel_source(options.root)) {
      caps_.intel_gpu = true;
      gpus_.push_back(std::move(intel));
    }
  }

  CollectorCapabilities caps_;  // filled by the readers' constructors, so declared first
  collector::CpuReader cpu_;
  collector::ProcessReader process_;
  collector::SystemIoReader io_;
  collector::CgroupReader cgroup_;
  std::vector<std::unique_ptr<collector::GpuSource>> gpus_;
};

}  // namespace

std::unique_ptr<CollectorBackend> make_platform_backend(const CollectorOptions& options) {
  return std::make_unique<LinuxBackend>(options);
}

}  // namespace memscope
