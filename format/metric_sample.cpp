// Encoder and decoder of metric sample bodies. One field list per struct (`visit`) drives both,
// so the writer and the reader cannot disagree on order or presence bits.
#include "format/metric_sample.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <limits>
#include <string>
#include <type_traits>

#include "format/trace_format.hpp"

namespace memscope::format {
namespace {

template <typename S, typename T>
concept Is = std::same_as<std::remove_const_t<S>, T>;

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};
template <typename T>
struct IsArray : std::false_type {};
template <typename T, size_t N>
struct IsArray<std::array<T, N>> : std::true_type {};

// --- Field lists: adding a field means appending it here (and bumping the version). ---

template <typename V, Is<PsiMetrics> S>
void visit(V& v, S& s) {
  v(s.some_avg10), v(s.full_avg10), v(s.some_total_us), v(s.full_total_us), v(s.some_percent),
      v(s.full_percent);
}
template <typename V, Is<TemperatureSensor> S>
void visit(V& v, S& s) {
  v(s.label), v(s.celsius);
}
template <typename V, Is<CpuResourceMetrics> S>
void visit(V& v, S& s) {
  v(s.overall_usage_percent), v(s.per_core_usage), v(s.user_percent), v(s.system_percent),
      v(s.iowait_percent), v(s.irq_percent), v(s.steal_percent), v(s.idle_percent),
      v(s.frequency_mhz), v(s.temperature_celsius), v(s.context_switches_per_sec),
      v(s.interrupts_per_sec), v(s.load_average), v(s.online_cores), v(s.procs_running),
      v(s.psi_cpu), v(s.psi_memory), v(s.psi_io);
}
template <typename V, Is<GpuProcessMemory> S>
void visit(V& v, S& s) {
  v(s.pid), v(s.used_bytes);
}
template <typename V, Is<GpuResourceMetrics> S>
void visit(V& v, S& s) {
  v(s.device_name), v(s.vendor), v(s.compute_usage_percent), v(s.memory_usage_percent),
      v(s.memory_used_bytes), v(s.memory_total_bytes), v(s.temperature_celsius),
      v(s.power_usage_watts), v(s.frequency_mhz), v(s.processes);
}
template <typename V, Is<DiskIoMetrics> S>
void visit(V& v, S& s) {
  v(s.device), v(s.read_bytes_per_sec), v(s.write_bytes_per_sec), v(s.read_ops_per_sec),
      v(s.write_ops_per_sec);
}
template <typename V, Is<NetworkIoMetrics> S>
void visit(V& v, S& s) {
  v(s.interface), v(s.rx_bytes_per_sec), v(s.tx_bytes_per_sec), v(s.rx_packets_per_sec),
      v(s.tx_packets_per_sec);
}
template <typename V, Is<IoResourceMetrics> S>
void visit(V& v, S& s) {
  v(s.disks), v(s.networks), v(s.process_read_bytes), v(s.process_write_bytes),
      v(s.process_read_bytes_per_sec), v(s.process_write_bytes_per_sec);
}
template <typename V, Is<MemoryResourceMetrics> S>
void visit(V& v, S& s) {
  v(s.process_rss_bytes), v(s.process_virtual_bytes), v(s.process_minor_faults),
      v(s.process_major_faults), v(s.machine_available_bytes), v(s.machine_total_bytes);
}
template <typename V, Is<CgroupResourceMetrics> S>
void visit(V& v, S& s) {
  v(s.version), v(s.path), v(s.cpu_quota_cores), v(s.cpu_periods), v(s.cpu_throttled_periods),
      v(s.cpu_throttled_usec), v(s.memory_limit_bytes), v(s.memory_usage_bytes);
}
template <typename V, Is<ThreadResourceMetrics> S>
void visit(V& v, S& s) {
  v(s.thread_id), v(s.thread_name), v(s.cpu_time_user_ns), v(s.cpu_time_kernel_ns),
      v(s.cpu_time_total_ns), v(s.cpu_usage_percent), v(s.run_queue_wait_ns),
      v(s.voluntary_context_switches), v(s.involuntary_context_switches), v(s.io_read_bytes),
      v(s.io_write_bytes), v(s.live_heap_bytes);
}
template <typename V, Is<PlatformMetrics> S>
void visit(V& v, S& s) {
  v(s.timestamp_ns), v(s.interval_ns), v(s.cpu), v(s.gpu), v(s.io), v(s.memory), v(s.cgroup),
      v(s.thread_count), v(s.threads), v(s.errors);
}

// A double is written as a fixed-point zigzag varint; the clamp keeps the zigzag below 2^63.
constexpr double kFixedLimit = 4.0e18;

template <typename T>
bool present(const std::optional<T>& v) {
  if constexpr (std::is_same_v<T, double>) return v.has_value() && std::isfinite(*v);
  return v.has_value();
}

// Collects the presence bitmap of one struct's optional fields.
struct MaskPass {
  uint64_t mask = 0;
  int bit = 0;
  template <typename T>
  void operator()(const T& field) {
    if constexpr (IsOptional<T>::value) {
      if (present(field)) mask |= 1ull << bit;
      ++bit;
    }
  }
};

class Encoder {
 public:
  explicit Encoder(std::vector<uint8_t>& out) : out_(out) {}

  template <typename T>
  void operator()(const T& field) {
    if constexpr (IsOptional<T>::value) {
      if (present(field)) value(*field);
    } else {
      value(field);
    }
  }

  template <typename S>
  void write_struct(const S& s) {
    MaskPass mask;
    visit(mask, s);
    varint(mask.mask);
    visit(*this, s);
  }

  void varint(uint64_t v) {
    uint8_t buf[10];
    out_.insert(out_.end(), buf, buf + put_varint(buf, v));
  }

 private:
  static uint64_t fixed(double v) {
    double scaled = std::clamp(std::round(v * kMetricFixedScale), -kFixedLimit, kFixedLimit);
    return zigzag_encode(static_cast<int64_t>(scaled));
  }

  template <typename T>
  void value(const T& v) {
    if constexpr (std::is_same_v<T, double>) {
      varint(fixed(v));
    } else if constexpr (std::is_enum_v<T>) {
      varint(static_cast<uint64_t>(v));
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      varint(zigzag_encode(v));
    } else if constexpr (std::is_integral_v<T>) {
      varint(v);
    } else if constexpr (std::is_same_v<T, std::string>) {
      varint(v.size());
      out_.insert(out_.end(), v.begin(), v.end());
    } else if constexpr (IsVector<T>::value) {
      varint(v.size());
      for (const auto& element : v) value(element);
    } else if constexpr (IsArray<T>::value) {
      for (const auto& element : v) value(element);
    } else if constexpr (std::is_same_v<T, std::optional<double>>) {
      // An element of a per-core list: 0 is absent, else the fixed-point value plus one.
      varint(present(v) ? fixed(*v) + 1 : 0);
    } else {
      write_struct(v);
    }
  }

  std::vector<uint8_t>& out_;
};

class Decoder {
 public:
  Decoder(const uint8_t* data, size_t size) : in_(data, data + size) {}
  bool ok() const { return ok_; }
  bool at_end() const { return in_.at_end(); }
  bool u8(uint8_t& v) { return ok_ = ok_ && in_.u8(v); }

  template <typename T>
  void operator()(T& field) {
    if (!ok_) return;
    if constexpr (IsOptional<T>::value) {
      if (!(mask_ & (1ull << bit_++))) return;
      typename T::value_type v{};
      ok_ = value(v);
      field = std::move(v);
    } else {
      ok_ = value(field);
    }
  }

  template <typename S>
  bool read_struct(S& s) {
    uint64_t outer_mask = mask_;
    int outer_bit = bit_;
    bit_ = 0;
    if (!in_.varint(mask_)) return ok_ = false;
    visit(*this, s);
    // Bits beyond this struct's optional fields mean the bytes are not ours.
    if (bit_ < 64 && (mask_ >> bit_) != 0) ok_ = false;
    mask_ = outer_mask, bit_ = outer_bit;
    return ok_;
  }

 private:
  template <typename T>
  bool integer(T& v) {
    uint64_t raw;
    if (!in_.varint(raw)) return false;
    if constexpr (std::is_signed_v<T>) {
      int64_t s = zigzag_decode(raw);
      if (s < std::numeric_limits<T>::min() || s > std::numeric_limits<T>::max()) return false;
      v = static_cast<T>(s);
    } else {
      if (raw > std::numeric_limits<T>::max()) return false;
      v = static_cast<T>(raw);
    }
    return true;
  }

  static double fixed(uint64_t raw) {
    return static_cast<double>(zigzag_decode(raw)) / kMetricFixedScale;
  }

  // Each element takes at least one byte, so a count beyond the bytes left is garbage; checking
  // it first keeps a corrupt count from reserving gigabytes.
  bool count(uint64_t& n) { return in_.varint(n) && n <= in_.remaining(); }

  template <typename T>
  bool value(T& v) {
    if constexpr (std::is_same_v<T, double>) {
      uint64_t raw;
      if (!in_.varint(raw)) return false;
      v = fixed(raw);
      return true;
    } else if constexpr (std::is_enum_v<T>) {
      std::underlying_type_t<T> u;
      if (!integer(u)) return false;
      v = static_cast<T>(u);
      return true;
    } else if constexpr (std::is_integral_v<T>) {
      return integer(v);
    } else if constexpr (std::is_same_v<T, std::string>) {
      return in_.bytes(v);
    } else if constexpr (IsVector<T>::value) {
      uint64_t n;
      if (!count(n)) return false;
      v.resize(n);
      for (auto& element : v)
        if (!value(element)) return false;
      return true;
    } else if constexpr (IsArray<T>::value) {
      for (auto& element : v)
        if (!value(element)) return false;
      return true;
    } else if constexpr (std::is_same_v<T, std::optional<double>>) {
      uint64_t raw;
      if (!in_.varint(raw)) return false;
      if (raw != 0) v = fixed(raw - 1);
      return true;
    } else {
      return read_struct(v);
    }
  }

  Cursor in_;
  bool ok_ = true;
  uint64_t mask_ = 0;
  int bit_ = 0;
};

}  // namespace

void encode_metric_sample(const PlatformMetrics& metrics, std::vector<uint8_t>& out) {
  out.push_back(kMetricSampleVersion);
  Encoder(out).write_struct(metrics);
}

std::optional<PlatformMetrics> decode_metric_sample(const uint8_t* data, size_t size) {
  if (data == nullptr) return std::nullopt;
  Decoder decoder(data, size);
  uint8_t version = 0;
  if (!decoder.u8(version) || version != kMetricSampleVersion) return std::nullopt;
  PlatformMetrics metrics;
  if (!decoder.read_struct(metrics) || !decoder.at_end()) return std::nullopt;
  return metrics;
}

}  // namespace memscope::format
