// The few NVML declarations memscope uses, written out here so that NVIDIA's headers and
// library are not build dependencies: the library is loaded with dlopen at runtime. Layouts
// follow nvml.h (NVML API version 11/12). The test fake implements the same functions.
#pragma once

namespace memscope::nvml {

using Return = int;
inline constexpr Return kSuccess = 0;
inline constexpr Return kInsufficientSize = 7;
inline constexpr unsigned kTemperatureGpu = 0;   // NVML_TEMPERATURE_GPU
inline constexpr unsigned kClockSm = 1;          // NVML_CLOCK_SM
inline constexpr unsigned kNameBufferSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE

struct DeviceOpaque;
using Device = DeviceOpaque*;

struct Utilization {
  unsigned gpu;     // percent of time a kernel was running
  unsigned memory;  // percent of time memory was read or written
};

struct Memory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

// nvmlProcessInfo_t as taken by nvmlDeviceGetComputeRunningProcesses_v3.
struct ProcessInfo {
  unsigned pid;
  unsigned long long usedGpuMemory;
  unsigned gpuInstanceId;
  unsigned computeInstanceId;
};

using InitFn = Return (*)();
using ShutdownFn = Return (*)();
using GetCountFn = Return (*)(unsigned*);
using GetHandleFn = Return (*)(unsigned, Device*);
using GetNameFn = Return (*)(Device, char*, unsigned);
using GetUtilizationFn = Return (*)(Device, Utilization*);
using GetMemoryFn = Return (*)(Device, Memory*);
using GetTemperatureFn = Return (*)(Device, unsigned, unsigned*);
using GetPowerFn = Return (*)(Device, unsigned*);            // milliwatts
using GetClockFn = Return (*)(Device, unsigned, unsigned*);  // MHz
using GetProcessesFn = Return (*)(Device, unsigned*, ProcessInfo*);

}  // namespace memscope::nvml
