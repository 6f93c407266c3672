// NVIDIA GPUs through NVML, loaded with dlopen so that machines without the driver (and the
// build) need nothing from NVIDIA. One nvmlInit for the collector's lifetime; utilization and
// memory are cheap and read every sample, process lists cost milliseconds and are read at the
// slow period.
#include <dlfcn.h>

#include "collector/gpu/gpu_source.hpp"
#include "collector/gpu/nvml_api.hpp"

namespace memscope::collector {
namespace {

struct NvmlFunctions {
  nvml::InitFn init = nullptr;
  nvml::ShutdownFn shutdown = nullptr;
  nvml::GetCountFn count = nullptr;
  nvml::GetHandleFn handle = nullptr;
  nvml::GetNameFn name = nullptr;
  nvml::GetUtilizationFn utilization = nullptr;
  nvml::GetMemoryFn memory = nullptr;
  nvml::GetTemperatureFn temperature = nullptr;
  nvml::GetPowerFn power = nullptr;
  nvml::GetClockFn clock = nullptr;
  nvml::GetProcessesFn processes = nullptr;  // optional: older drivers lack _v3
};

template <typename Fn>
bool bind(void* library, const char* symbol, Fn& out) {
  out = reinterpret_cast<Fn>(dlsym(library, symbol));
  return out != nullptr;
}

bool bind_all(void* lib, NvmlFunctions& f) {
  bind(lib, "nvmlDeviceGetComputeRunningProcesses_v3", f.processes);
  return bind(lib, "nvmlInit_v2", f.init) && bind(lib, "nvmlShutdown", f.shutdown) &&
         bind(lib, "nvmlDeviceGetCount_v2", f.count) &&
         bind(lib, "nvmlDeviceGetHandleByIndex_v2", f.handle) &&
         bind(lib, "nvmlDeviceGetName", f.name) &&
         bind(lib, "nvmlDeviceGetUtilizationRates", f.utilization) &&
         bind(lib, "nvmlDeviceGetMemoryInfo", f.memory) &&
         bind(lib, "nvmlDeviceGetTemperature", f.temperature) &&
         bind(lib, "nvmlDeviceGetPowerUsage", f.power) &&
         bind(lib, "nvmlDeviceGetClockInfo", f.clock);
}

class NvmlSource final : public GpuSource {
 public:
  NvmlSource(void* library, const NvmlFunctions& functions, uint64_t slow_period_ns)
      : library_(library), f_(functions), slow_period_ns_(slow_period_ns) {
    unsigned count = 0;
    if (f_.count(&count) != nvml::kSuccess) count = 0;
    for (unsigned i = 0; i < count; ++i) {
      nvml::Device device = nullptr;
      if (f_.handle(i, &device) == nvml::kSuccess) devices_.push_back({device, {}});
    }
  }
  ~NvmlSource() override {
    f_.shutdown();
    dlclose(library_);
  }

  void sample(std::vector<GpuResourceMetrics>& out, uint64_t now_ns, uint64_t) override {
    bool refresh_processes = !processes_read_ || now_ns - processes_read_ns_ >= slow_period_ns_;
    if (refresh_processes) processes_read_ns_ = now_ns, processes_read_ = true;
    for (DeviceState& device : devices_) {
      GpuResourceMetrics gpu;
      read_device(device.handle, gpu);
      if (refresh_processes) read_processes(device);
      gpu.processes = device.processes;
      out.push_back(std::move(gpu));
    }
  }

 private:
  struct DeviceState {
    nvml::Device handle;
    std::vector<GpuProcessMemory> processes;
  };

  void read_device(nvml::Device device, GpuResourceMetrics& gpu) {
    gpu.vendor = GpuVendor::kNvidia;
    char name[nvml::kNameBufferSize] = {};
    gpu.device_name = f_.name(device, name, sizeof name) == nvml::kSuccess ? name : "NVIDIA GPU";
    nvml::Utilization utilization{};
    if (f_.utilization(device, &utilization) == nvml::kSuccess) {
      gpu.compute_usage_percent = utilization.gpu;
    }
    nvml::Memory memory{};
    if (f_.memory(device, &memory) == nvml::kSuccess) {
      gpu.memory_used_bytes = memory.used;
      gpu.memory_total_bytes = memory.total;
      if (memory.total > 0) {
        gpu.memory_usage_percent =
            100.0 * static_cast<double>(memory.used) / static_cast<double>(memory.total);
      }
    }
    unsigned value = 0;
    if (f_.temperature(device, nvml::kTemperatureGpu, &value) == nvml::kSuccess) {
      gpu.temperature_celsius = value;
    }
    if (f_.power(device, &value) == nvml::kSuccess) gpu.power_usage_watts = value / 1000.0;
    if (f_.clock(device, nvml::kClockSm, &value) == nvml::kSuccess) gpu.frequency_mhz = value;
  }

  void read_processes(DeviceState& device) {
    device.processes.clear();
    if (!f_.processes) return;
    unsigned count = static_cast<unsigned>(infos_.size());
    nvml::Return rc = f_.processes(device.handle, &count, infos_.data());
    if (rc == nvml::kInsufficientSize) {
      infos_.resize(count + 8);  // processes may start between the two calls
      count = static_cast<unsigned>(infos_.size());
      rc = f_.processes(device.handle, &count, infos_.data());
    }
    if (rc != nvml::kSuccess) return;
    for (unsigned i = 0; i < count && i < infos_.size(); ++i) {
      GpuProcessMemory process{infos_[i].pid, infos_[i].usedGpuMemory};
      // NVML_VALUE_NOT_AVAILABLE (all ones) when the driver cannot attribute memory.
      if (infos_[i].usedGpuMemory == ~0ull) process.used_bytes.reset();
      device.processes.push_back(process);
    }
  }

  void* library_;
  NvmlFunctions f_;
  uint64_t slow_period_ns_;
  std::vector<DeviceState> devices_;
  std::vector<nvml::ProcessInfo> infos_ = std::vector<nvml::ProcessInfo>(16);
  uint64_t processes_read_ns_ = 0;
  bool processes_read_ = false;
};

}  // namespace

std::unique_ptr<GpuSource> make_nvml_source(const std::string& library, uint64_t slow_period_ns,
                                            std::string& status) {
  void* lib = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    status = why ? why : library + ": cannot be loaded";
    return nullptr;
  }
  NvmlFunctions functions;
  if (!bind_all(lib, functions)) {
    status = library + ": missing NVML functions";
  } else if (int rc = functions.init(); rc != nvml::kSuccess) {
    status = "nvmlInit_v2 failed with NVML error " + std::to_string(rc);
  } else {
    status = "ok";
    return std::make_unique<NvmlSource>(lib, functions, slow_period_ns);
  }
  dlclose(lib);
  return nullptr;
}

}  // namespace memscope::collector
