// A stand-in for libnvidia-ml.so.1 with one fixed device, loaded by the collector through the
// same dlopen path as the real library: it proves the NVML source on machines without NVIDIA.
#include <cstring>

#include "collector/gpu/nvml_api.hpp"

using namespace memscope::nvml;

namespace {
DeviceOpaque* const kDevice = reinterpret_cast<DeviceOpaque*>(0x1);
int g_initialised = 0;
}  // namespace

extern "C" {
Return nvmlInit_v2() {
  return ++g_initialised, kSuccess;
}
Return nvmlShutdown() {
  return --g_initialised, kSuccess;
}
Return nvmlDeviceGetCount_v2(unsigned* count) {
  return *count = 1, kSuccess;
}
Return nvmlDeviceGetHandleByIndex_v2(unsigned index, Device* device) {
  if (index != 0) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  *device = kDevice;
  return kSuccess;
}
Return nvmlDeviceGetName(Device, char* name, unsigned length) {
  std::strncpy(name, "NVIDIA H100 80GB HBM3", length - 1);
  return kSuccess;
}
Return nvmlDeviceGetUtilizationRates(Device, Utilization* u) {
  *u = {87, 40};
  return kSuccess;
}
Return nvmlDeviceGetMemoryInfo(Device, Memory* m) {
  *m = {80ull << 30, 60ull << 30, 20ull << 30};
  return kSuccess;
}
Return nvmlDeviceGetTemperature(Device, unsigned sensor, unsigned* celsius) {
  if (sensor != kTemperatureGpu) return 2;
  return *celsius = 61, kSuccess;
}
Return nvmlDeviceGetPowerUsage(Device, unsigned* milliwatts) {
  return *milliwatts = 312500, kSuccess;
}
Return nvmlDeviceGetClockInfo(Device, unsigned clock, unsigned* mhz) {
  if (clock != kClockSm) return 2;
  return *mhz = 1755, kSuccess;
}
Return nvmlDeviceGetComputeRunningProcesses_v3(Device, unsigned* count, ProcessInfo* infos) {
  if (*count < 2) return *count = 2, kInsufficientSize;
  infos[0] = {4242, 1ull << 30, 0, 0};
  infos[1] = {4343, ~0ull, 0, 0};  // NVML_VALUE_NOT_AVAILABLE
  *count = 2;
  return kSuccess;
}
}
