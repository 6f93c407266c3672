// Encoder and decoder of metric sample bodies, key and delta. One field list per struct (`visit`)
// drives all four directions, so the writer and the reader cannot disagree on order, presence
// bits or change bits.
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
      v(s.io_write_bytes), v(s.live_heap_bytes), v(s.minor_faults), v(s.major_faults),
      v(s.profiler_wait_ns);
}
template <typename V, Is<PlatformMetrics> S>
void visit(V& v, S& s) {
  v(s.timestamp_ns), v(s.interval_ns), v(s.cpu), v(s.gpu), v(s.io), v(s.memory), v(s.cgroup),
      v(s.thread_count), v(s.threads), v(s.errors);
}

// A double is written as a fixed-point zigzag varint; the clamp keeps the zigzag below 2^63.
constexpr double kFixedLimit = 4.0e18;

constexpr uint8_t kKeySample = 0;
constexpr uint8_t kDeltaSample = 1;

// Tags of a changed optional field in a delta.
constexpr uint64_t kTagAbsent = 0, kTagFull = 1, kTagDelta = 2;

template <typename T>
bool present(const std::optional<T>& v) {
  if constexpr (std::is_same_v<T, double>) return v.has_value() && std::isfinite(*v);
  return v.has_value();
}

// NaN (which the clamp cannot order) becomes 0: a non-optional double has no "absent".
int64_t fixed_int(double v) {
  if (std::isnan(v)) return 0;
  return static_cast<int64_t>(
      std::clamp(std::round(v * kMetricFixedScale), -kFixedLimit, kFixedLimit));
}

// Integers a delta carries as a change (counters, ids, stamps); the rest are rewritten whole.
template <typename T>
constexpr bool kIntegerDelta = std::is_integral_v<T> && !std::is_same_v<T, bool>;
template <typename T>
struct IsStructList : std::false_type {};
template <typename E>
struct IsStructList<std::vector<E>>
    : std::bool_constant<std::is_class_v<E> && !std::is_same_v<E, std::string> &&
                         !IsOptional<E>::value> {};
template <typename T>
constexpr bool kStructList = IsStructList<T>::value;
template <typename T>
constexpr bool kIsStruct = std::is_class_v<T> && !IsOptional<T>::value && !IsVector<T>::value &&
                           !IsArray<T>::value && !std::is_same_v<T, std::string>;
// What a changed optional field may be written as a change against its previous value. Optional
// doubles may too from version 3 on (the fixed-point difference, when that is shorter than the
// value); they have their own branch.
template <typename T>
constexpr bool kDeltaCapable = kIntegerDelta<T> || kStructList<T> || kIsStruct<T>;

// List elements are matched to the previous sample's by identity, not position, so a thread
// that ends does not turn every later thread into a change.
bool same_key(const ThreadResourceMetrics& a, const ThreadResourceMetrics& b) {
  return a.thread_id == b.thread_id;
}
bool same_key(const DiskIoMetrics& a, const DiskIoMetrics& b) {
  return a.device == b.device;
}
bool same_key(const NetworkIoMetrics& a, const NetworkIoMetrics& b) {
  return a.interface == b.interface;
}
bool same_key(const TemperatureSensor& a, const TemperatureSensor& b) {
  return a.label == b.label;
}
bool same_key(const GpuProcessMemory& a, const GpuProcessMemory& b) {
  return a.pid == b.pid;
}
bool same_key(const GpuResourceMetrics& a, const GpuResourceMetrics& b) {
  return a.device_name == b.device_name && a.vendor == b.vendor;
}

// The fields of one struct as pointers, in visit order, so two structs can be walked in step.
constexpr int kMaxFields = 24;
struct FieldPointers {
  std::array<const void*, kMaxFields> at{};
  int count = 0;
  template <typename T>
  void operator()(const T& field) {
    at[static_cast<size_t>(count++)] = &field;
  }
};
template <typename S>
FieldPointers fields_of(const S& s) {
  FieldPointers p;
  visit(p, s);
  return p;
}

// Equality as the decoder will see it: doubles compare at the fixed-point resolution, and a
// non-finite optional double counts as absent.
template <typename T>
bool same(const T& a, const T& b);

template <typename S>
struct SamePass {
  FieldPointers base;
  int index = 0;
  bool equal = true;
  template <typename T>
  void operator()(const T& field) {
    const T& other = *static_cast<const T*>(base.at[static_cast<size_t>(index++)]);
    if (equal && !same(field, other)) equal = false;
  }
};

template <typename T>
bool same(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, double>) {
    return fixed_int(a) == fixed_int(b);
  } else if constexpr (IsOptional<T>::value) {
    if (present(a) != present(b)) return false;
    return !present(a) || same(*a, *b);
  } else if constexpr (IsVector<T>::value || IsArray<T>::value) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!same(a[i], b[i])) return false;
    return true;
  } else if constexpr (kIsStruct<T>) {
    SamePass<T> pass{fields_of(b)};
    visit(pass, a);
    return pass.equal;
  } else {
    return a == b;
  }
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

// Collects the change bitmap of a struct against its previous value (every field has a bit).
struct ChangePass {
  FieldPointers base;
  uint64_t mask = 0;
  int bit = 0;
  template <typename T>
  void operator()(const T& field) {
    if (!same(field, *static_cast<const T*>(base.at[static_cast<size_t>(bit)]))) {
      mask |= 1ull << bit;
    }
    ++bit;
  }
};

// The fixed-point value a reader holds for `v` after decoding it: what a version 3 double
// change is taken against, on both sides, so writer and reader add the same difference.
int64_t reader_fixed(double v) {
  return fixed_int(static_cast<double>(fixed_int(v)) / kMetricFixedScale);
}

// Version 4: in a delta, a thread matched to its element in the base sample has its
// cpu_usage_percent compared with, and written as a change against, the usage its CPU time
// predicts: 100 x (CPU time now - CPU time in the base) / the sample's interval_ns, as the
// reader holds it (fixed point). The collector computes the usage exactly so, so the field is
// usually unchanged and costs nothing. CPU time is cpu_time_total_ns, else user + kernel.
// Empty (no prediction: the base's usage is the reference, as in version 3) without an interval
// or a CPU time on either side.
std::optional<uint64_t> thread_cpu_ns(const ThreadResourceMetrics& t) {
  if (t.cpu_time_total_ns) return t.cpu_time_total_ns;
  if (t.cpu_time_user_ns && t.cpu_time_kernel_ns)
    return *t.cpu_time_user_ns + *t.cpu_time_kernel_ns;
  return std::nullopt;
}
std::optional<double> predicted_usage(std::optional<uint64_t> base_cpu_ns,
                                      const ThreadResourceMetrics& now,
                                      std::optional<uint64_t> interval_ns) {
  auto now_cpu_ns = thread_cpu_ns(now);
  if (!base_cpu_ns || !now_cpu_ns || !interval_ns || *interval_ns == 0) return std::nullopt;
  uint64_t ran = *now_cpu_ns > *base_cpu_ns ? *now_cpu_ns - *base_cpu_ns : 0;
  double usage = 100.0 * static_cast<double>(ran) / static_cast<double>(*interval_ns);
  return static_cast<double>(fixed_int(usage)) / kMetricFixedScale;
}
// Where cpu_usage_percent sits in a thread's field list.
int usage_field_index() {
  static const int index = [] {
    ThreadResourceMetrics t;
    FieldPointers p = fields_of(t);
    for (int i = 0; i < p.count; ++i)
      if (p.at[static_cast<size_t>(i)] == &t.cpu_usage_percent) return i;
    return -1;
  }();
  return index;
}

class Encoder {
 public:
  // Integers everywhere as integer_delta against 0 (version 2 on), so the trailing zeros of
  // tick-based nanoseconds cost 2 bits, not 3 bytes. This writer only writes the newest version.
  explicit Encoder(std::vector<uint8_t>& out) : out_(out) {}
  // The interval_ns of the sample being written as a delta (thread usage predictions).
  void set_interval(std::optional<uint64_t> interval_ns) { interval_ns_ = interval_ns; }

  template <typename T>
  void operator()(const T& field) {
    if constexpr (IsOptional<T>::value) {
      if (present(field)) value(field.value());
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

  // A struct as its change bitmap, then each changed field as a change against `base`'s.
  template <typename S>
  void write_struct_delta(const S& s, const S& base) {
    write_struct_delta(s, fields_of(base));
  }

  // The same against base fields that may point elsewhere than into one struct (a prediction).
  template <typename S>
  void write_struct_delta(const S& s, const FieldPointers& base) {
    ChangePass changes{base};
    visit(changes, s);
    varint(changes.mask);
    if (changes.mask == 0) return;
    DeltaPass pass{*this, changes.base, changes.mask};
    visit(pass, s);
  }

  static size_t varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) v >>= 7, ++n;
    return n;
  }

  void varint(uint64_t v) {
    uint8_t buf[10];
    out_.insert(out_.end(), buf, buf + put_varint(buf, v));
  }

 private:
  struct DeltaPass {
    Encoder& encoder;
    FieldPointers base;
    uint64_t mask;
    int bit = 0;
    template <typename T>
    void operator()(const T& field) {
      int i = bit++;
      if (mask & (1ull << i)) {
        encoder.field_delta(field, *static_cast<const T*>(base.at[static_cast<size_t>(i)]));
      }
    }
  };

  template <typename T>
  void field_delta(const T& v, const T& base) {
    if constexpr (IsOptional<T>::value) {
      using V = typename T::value_type;
      if (!present(v)) {
        varint(kTagAbsent);
      } else if constexpr (std::is_same_v<V, double>) {
        // A usage that drops to 0 is shorter whole; one that moves a little, as a difference.
        int64_t now = fixed_int(*v);
        int64_t diff = present(base) ? now - reader_fixed(*base) : 0;
        if (present(base) && varint_size(zigzag_encode(diff)) < varint_size(zigzag_encode(now))) {
          varint(kTagDelta);
          varint(zigzag_encode(diff));  // both within ±4e18
        } else {
          varint(kTagFull);
          value(*v);
        }
      } else if constexpr (kIntegerDelta<V>) {
        // Version 4: the tag shares one varint with the compact integer (2 bits, not a byte).
        uint64_t tag = present(base) ? kTagDelta : kTagFull;
        integer_delta(static_cast<uint64_t>(static_cast<int64_t>(*v)),
                      present(base) ? static_cast<uint64_t>(static_cast<int64_t>(*base)) : 0, tag);
      } else if (kDeltaCapable<V> && present(base)) {
        varint(kTagDelta);
        value_delta(v.value(), base.value());
      } else {
        varint(kTagFull);
        value(v.value());
      }
    } else {
      value_delta(v, base);
    }
  }

  // A changed integer as the difference (wrapping), with trailing decimal zeros folded into a
  // 2-bit exponent: CPU times from clock ticks move in multiples of 10 ms = 10^7 ns. With a
  // `tag` (an optional field's, version 4) the same varint carries it in 2 more low bits.
  void integer_delta(uint64_t now, uint64_t base, std::optional<uint64_t> tag = std::nullopt) {
    int64_t d = static_cast<int64_t>(now - base);
    uint64_t exponent = 0;
    while (exponent < 2 && d != 0 && d % 1000 == 0) d /= 1000, ++exponent;
    uint64_t z = zigzag_encode(d);
    int room = tag ? 60 : 62;
    if (z >> room) {
      varint(tag ? 3 << 2 | *tag : 3);  // escape: the raw difference follows
      varint(zigzag_encode(static_cast<int64_t>(now - base)));
    } else {
      uint64_t compact = z << 2 | exponent;
      varint(tag ? compact << 2 | *tag : compact);
    }
  }

  // Element i of a list that has no counterpart in the base: a change against element i - 1 of
  // the same list (version 3), whole when it is the first. Threads of one program share names and
  // have neighbouring ids and similar counters, so a key sample's thread costs a third as much.
  template <typename E>
  void new_element(const std::vector<E>& list, size_t i) {
    if (i == 0) {
      value(list[0]);
    } else {
      write_struct_delta(list[i], list[i - 1]);
    }
  }

  template <typename T>
  void value_delta(const T& v, const T& base) {
    if constexpr (kIntegerDelta<T>) {
      integer_delta(static_cast<uint64_t>(static_cast<int64_t>(v)),
                    static_cast<uint64_t>(static_cast<int64_t>(base)));
    } else if constexpr (kStructList<T>) {
      varint(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        size_t j = i < base.size() && same_key(v[i], base[i]) ? i : base.size();
        for (size_t k = 0; j == base.size() && k < base.size(); ++k)
          if (same_key(v[i], base[k])) j = k;
        if (j == base.size()) {
          varint(0);  // new element
          new_element(v, i);
        } else {
          varint(j + 1);
          write_element_delta(v[i], base[j]);
        }
      }
    } else if constexpr (kIsStruct<T>) {
      write_struct_delta(v, base);
    } else {
      value(v);
    }
  }

  // An element matched to its counterpart in the base sample.
  template <typename E>
  void write_element_delta(const E& now, const E& base) {
    if constexpr (std::is_same_v<E, ThreadResourceMetrics>) {
      std::optional<double> predicted = predicted_usage(thread_cpu_ns(base), now, interval_ns_);
      if (predicted) {
        FieldPointers fields = fields_of(base);
        fields.at[static_cast<size_t>(usage_field_index())] = &predicted;
        write_struct_delta(now, fields);
        return;
      }
    }
    write_struct_delta(now, base);
  }

  template <typename T>
  void value(const T& v) {
    if constexpr (std::is_same_v<T, double>) {
      varint(zigzag_encode(fixed_int(v)));
    } else if constexpr (std::is_enum_v<T>) {
      varint(static_cast<uint64_t>(v));
    } else if constexpr (kIntegerDelta<T>) {
      integer_delta(static_cast<uint64_t>(static_cast<int64_t>(v)), 0);
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      varint(zigzag_encode(v));
    } else if constexpr (std::is_integral_v<T>) {
      varint(v);
    } else if constexpr (std::is_same_v<T, std::string>) {
      varint(v.size());
      out_.insert(out_.end(), v.begin(), v.end());
    } else if constexpr (kStructList<T>) {
      varint(v.size());
      for (size_t i = 0; i < v.size(); ++i) new_element(v, i);
    } else if constexpr (IsVector<T>::value) {
      varint(v.size());
      for (const auto& element : v) value(element);
    } else if constexpr (IsArray<T>::value) {
      for (const auto& element : v) value(element);
    } else if constexpr (std::is_same_v<T, std::optional<double>>) {
      // An element of a per-core list: 0 is absent, else the fixed-point value plus one.
      varint(present(v) ? zigzag_encode(fixed_int(*v)) + 1 : 0);
    } else {
      write_struct(v);
    }
  }

  std::vector<uint8_t>& out_;
  std::optional<uint64_t> interval_ns_;
};

class Decoder {
 public:
  Decoder(const uint8_t* data, size_t size) : in_(data, data + size) {}
  void set_version(uint8_t version) { version_ = version; }
  // The sample being read; its interval_ns is read before its threads (thread predictions).
  void set_sample(const PlatformMetrics* sample) { sample_ = sample; }
  bool ok() const { return ok_; }
  bool at_end() const { return in_.at_end(); }
  bool u8(uint8_t& v) { return ok_ = ok_ && in_.u8(v); }
  bool varint(uint64_t& v) { return ok_ = ok_ && in_.varint(v); }

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

  // `s` holds the previous sample's value; the changed fields are read over it.
  // `predict`: a thread whose usage is read against its prediction (version 4), made from the
  // base's CPU time `base_cpu_ns` once the thread's own CPU time has been read.
  template <typename S>
  bool read_struct_delta(S& s, ThreadResourceMetrics* predict = nullptr,
                         std::optional<uint64_t> base_cpu_ns = std::nullopt) {
    uint64_t changed;
    if (!in_.varint(changed)) return ok_ = false;
    DeltaPass pass{*this, changed, predict, base_cpu_ns};
    if (changed == 0 && predict == nullptr) return ok_;
    visit(pass, s);
    // Bits beyond this struct's fields mean the bytes are not ours.
    if (pass.bit < 64 && (changed >> pass.bit) != 0) ok_ = false;
    return ok_;
  }

 private:
  struct DeltaPass {
    Decoder& decoder;
    uint64_t mask;
    ThreadResourceMetrics* predict;
    std::optional<uint64_t> base_cpu_ns;
    int bit = 0;
    template <typename T>
    void operator()(T& field) {
      int i = bit++;
      if constexpr (std::is_same_v<T, std::optional<double>>) {
        // The CPU times come before the usage in a thread's field list, so they are read.
        if (predict != nullptr && &field == &predict->cpu_usage_percent) {
          auto predicted = predicted_usage(base_cpu_ns, *predict, decoder.sample_interval());
          if (predicted) field = predicted;
        }
      }
      if (decoder.ok_ && (mask & (1ull << i))) decoder.ok_ = decoder.field_delta(field);
    }
  };

  std::optional<uint64_t> sample_interval() const {
    return sample_ != nullptr ? sample_->interval_ns : std::nullopt;
  }

  template <typename T>
  bool field_delta(T& field) {
    if constexpr (IsOptional<T>::value) {
      using V = typename T::value_type;
      uint64_t tag;
      if (!in_.varint(tag)) return false;
      if constexpr (kIntegerDelta<V>) {
        if (version_ >= 4) {  // tag and compact integer in one varint
          uint64_t payload = tag >> 2;
          tag &= 3;
          if (tag == kTagAbsent && payload == 0) {
            field.reset();
            return true;
          }
          if (tag == kTagAbsent || tag > kTagDelta || (tag == kTagDelta && !field)) return false;
          V v = tag == kTagDelta ? *field : V{};
          if (!apply_compact(v, payload)) return false;
          field = v;
          return true;
        }
      }
      if (tag == kTagAbsent) {
        field.reset();
        return true;
      }
      if (tag == kTagFull) {
        V v{};
        if (!value(v)) return false;
        field = std::move(v);
        return true;
      }
      if constexpr (std::is_same_v<V, double>) {
        if (tag == kTagDelta && field.has_value() && version_ >= 3) {
          uint64_t raw;
          if (!in_.varint(raw)) return false;
          // Wrapping, so a garbage difference cannot overflow.
          uint64_t now =
              static_cast<uint64_t>(fixed_int(*field)) + static_cast<uint64_t>(zigzag_decode(raw));
          field = static_cast<double>(static_cast<int64_t>(now)) / kMetricFixedScale;
          return true;
        }
      } else if constexpr (kDeltaCapable<V>) {
        if (tag == kTagDelta && field.has_value()) return value_delta(*field);
      }
      return false;
    } else {
      return value_delta(field);
    }
  }

  // Adds a compact integer change (Encoder::integer_delta; `raw` 3: the raw difference follows)
  // to v, refusing a result outside T.
  template <typename T>
  bool apply_compact(T& v, uint64_t raw) {
    uint64_t diff;
    if ((raw & 3) == 3) {
      if (raw != 3 || !in_.varint(diff)) return false;
      diff = static_cast<uint64_t>(zigzag_decode(diff));
    } else {
      constexpr uint64_t kScale[] = {1, 1000, 1000000};
      diff = static_cast<uint64_t>(zigzag_decode(raw >> 2)) * kScale[raw & 3];
    }
    uint64_t now = static_cast<uint64_t>(static_cast<int64_t>(v)) + diff;
    if constexpr (std::is_signed_v<T>) {
      int64_t s = static_cast<int64_t>(now);
      if (s < std::numeric_limits<T>::min() || s > std::numeric_limits<T>::max()) return false;
    } else {
      if (now > std::numeric_limits<T>::max()) return false;
    }
    v = static_cast<T>(now);
    return true;
  }

  template <typename T>
  bool value_delta(T& v) {
    if constexpr (kIntegerDelta<T>) {
      uint64_t raw;
      if (!in_.varint(raw)) return false;
      return apply_compact(v, raw);
    } else if constexpr (kStructList<T>) {
      uint64_t n;
      if (!count(n)) return false;
      T base = std::move(v);
      v.clear();
      v.reserve(n);
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t ref;
        if (!in_.varint(ref)) return false;
        if (ref == 0) {
          if (!new_element(v)) return false;
        } else {
          if (ref > base.size()) return false;
          v.push_back(base[ref - 1]);
          if constexpr (std::is_same_v<typename T::value_type, ThreadResourceMetrics>) {
            if (version_ >= 4) {
              if (!read_struct_delta(v.back(), &v.back(), thread_cpu_ns(v.back()))) return false;
              continue;
            }
          }
          if (!read_struct_delta(v.back())) return false;
        }
      }
      return true;
    } else if constexpr (kIsStruct<T>) {
      return read_struct_delta(v);
    } else {
      return value(v);
    }
  }

  // Appends the next element of a list being read (see Encoder::new_element).
  template <typename E>
  bool new_element(std::vector<E>& list) {
    if (version_ < 3 || list.empty()) {
      list.emplace_back();
      return value(list.back());
    }
    list.push_back(list.back());
    return read_struct_delta(list.back());
  }

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
      if (version_ < 2) return integer(v);
      v = 0;
      return value_delta(v);
    } else if constexpr (std::is_same_v<T, std::string>) {
      return in_.bytes(v);
    } else if constexpr (kStructList<T>) {
      uint64_t n;
      if (!count(n)) return false;
      v.clear();
      v.reserve(n);
      for (uint64_t i = 0; i < n; ++i)
        if (!new_element(v)) return false;
      return true;
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
  uint8_t version_ = kMetricSampleVersion;
  const PlatformMetrics* sample_ = nullptr;
  uint64_t mask_ = 0;
  int bit_ = 0;
};

static_assert(kMaxFields >= 18, "CpuResourceMetrics has 18 fields");

}  // namespace

void encode_metric_sample(const PlatformMetrics& metrics, std::vector<uint8_t>& out) {
  out.push_back(kMetricSampleVersion);
  out.push_back(kKeySample);
  Encoder(out).write_struct(metrics);
}

bool MetricSampleEncoder::encode(const PlatformMetrics& metrics, std::vector<uint8_t>& out) {
  bool key = !have_previous_;
  if (key) {
    encode_metric_sample(metrics, out);
  } else {
    out.push_back(kMetricSampleVersion);
    out.push_back(kDeltaSample);
    Encoder encoder(out);
    encoder.set_interval(metrics.interval_ns);
    // The base's timestamp lets a reader prove it holds the sample this delta was made against.
    encoder.varint(previous_.timestamp_ns);
    encoder.write_struct_delta(metrics, previous_);
  }
  previous_ = metrics;
  have_previous_ = true;
  return key;
}

bool is_key_metric_sample(const uint8_t* data, size_t size) {
  if (data == nullptr || size < 1) return false;
  if (data[0] == 1) return true;
  return size >= 2 && data[0] >= 2 && data[0] <= kMetricSampleVersion && data[1] == kKeySample;
}

std::optional<PlatformMetrics> decode_metric_sample(const uint8_t* data, size_t size,
                                                    const PlatformMetrics* previous) {
  if (data == nullptr) return std::nullopt;
  Decoder decoder(data, size);
  uint8_t version = 0, kind = kKeySample;
  if (!decoder.u8(version) || version < kMetricSampleOldestVersion ||
      version > kMetricSampleVersion) {
    return std::nullopt;
  }
  if (version >= 2 && !decoder.u8(kind)) return std::nullopt;
  decoder.set_version(version);
  PlatformMetrics metrics;
  if (kind == kKeySample) {
    if (!decoder.read_struct(metrics)) return std::nullopt;
  } else if (kind == kDeltaSample) {
    uint64_t base_timestamp;
    if (previous == nullptr || !decoder.varint(base_timestamp) ||
        base_timestamp != previous->timestamp_ns) {
      return std::nullopt;
    }
    metrics = *previous;
    decoder.set_sample(&metrics);
    if (!decoder.read_struct_delta(metrics)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!decoder.at_end()) return std::nullopt;
  return metrics;
}

std::optional<PlatformMetrics> MetricSampleDecoder::decode(const uint8_t* data, size_t size) {
  auto metrics = decode_metric_sample(data, size, previous_ ? &*previous_ : nullptr);
  if (metrics) previous_ = metrics;
  return metrics;
}

}  // namespace memscope::format
