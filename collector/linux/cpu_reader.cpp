// Linux CPU readings; see cpu_reader.hpp.
#include "collector/linux/cpu_reader.hpp"

#include "collector/linux/rates.hpp"

namespace memscope::collector {
namespace {

constexpr const char* kPsiNames[3] = {"cpu", "memory", "io"};

uint64_t busy_ticks(const CpuTicks& t) {
  return t.user + t.nice + t.system + t.irq + t.softirq + t.steal;
}
uint64_t all_ticks(const CpuTicks& t) {
  return busy_ticks(t) + t.idle + t.iowait;
}

// Parses the counters after the "cpu"/"cpuN" label. Guest time is already inside user, so the
// guest columns are ignored.
bool parse_cpu_ticks(Fields& fields, CpuTicks& out) {
  uint64_t* slots[] = {&out.user,   &out.nice, &out.system,  &out.idle,
                       &out.iowait, &out.irq,  &out.softirq, &out.steal};
  int parsed = 0;
  std::string_view field;
  for (uint64_t* slot : slots) {
    if (!fields.next(field)) break;
    auto value = parse_number<uint64_t>(field);
    if (!value) return false;
    *slot = *value;
    ++parsed;
  }
  out.valid = parsed >= 4;  // kernels before 2.6 had only user, nice, system, idle
  return out.valid;
}

double percent_of(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

std::optional<double> usage_percent(const CpuTicks& prev, const CpuTicks& cur) {
  if (!prev.valid || !cur.valid) return std::nullopt;
  uint64_t all = counter_delta(all_ticks(prev), all_ticks(cur));
  if (all == 0) return std::nullopt;
  return percent_of(counter_delta(busy_ticks(prev), busy_ticks(cur)), all);
}

void fill_split(CpuResourceMetrics& out, const CpuTicks& p, const CpuTicks& c) {
  uint64_t all = counter_delta(all_ticks(p), all_ticks(c));
  if (!p.valid || !c.valid || all == 0) return;
  out.user_percent = percent_of(counter_delta(p.user + p.nice, c.user + c.nice), all);
  out.system_percent = percent_of(counter_delta(p.system, c.system), all);
  out.iowait_percent = percent_of(counter_delta(p.iowait, c.iowait), all);
  out.irq_percent = percent_of(counter_delta(p.irq + p.softirq, c.irq + c.softirq), all);
  out.steal_percent = percent_of(counter_delta(p.steal, c.steal), all);
  out.idle_percent = percent_of(counter_delta(p.idle, c.idle), all);
}

// Parses "some avg10=1.00 avg60=0.50 avg300=0.10 total=12345".
bool parse_psi_line(std::string_view line, std::optional<double>& avg10,
                    std::optional<uint64_t>& total) {
  Fields fields(line);
  std::string_view field;
  fields.next(field);  // "some" / "full"
  while (fields.next(field)) {
    size_t eq = field.find('=');
    if (eq == std::string_view::npos) return false;
    std::string_view key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "avg10") avg10 = parse_number<double>(value);
    if (key == "total") total = parse_number<uint64_t>(value);
  }
  return avg10.has_value() && total.has_value();
}

}  // namespace

CpuReader::CpuReader(const std::string& root, uint64_t slow_period_ns, CollectorCapabilities& caps)
    : stat_(join_path(root, "proc/stat")),
      loadavg_(join_path(root, "proc/loadavg")),
      cpuinfo_(join_path(root, "proc/cpuinfo")),
      slow_period_ns_(slow_period_ns) {
  caps.proc_stat = path_exists(stat_.path());
  for (int i = 0; i < 3; ++i) {
    psi_[i] = ProcFile(join_path(root, std::string("proc/pressure/") + kPsiNames[i]));
    caps.psi = caps.psi || path_exists(psi_[i].path());
  }
  std::string cpu_dir = join_path(root, "sys/devices/system/cpu");
  for (const std::string& name : list_directory(cpu_dir)) {
    if (name.size() < 4 || name.compare(0, 3, "cpu") != 0) continue;
    auto core = parse_number<uint32_t>(std::string_view(name).substr(3));
    std::string path = cpu_dir + "/" + name + "/cpufreq/scaling_cur_freq";
    if (!core || !path_exists(path)) continue;
    if (cpufreq_.size() <= *core) cpufreq_.resize(*core + 1);
    cpufreq_[*core] = ProcFile(path);
    use_cpufreq_ = true;
  }
  caps.cpufreq = use_cpufreq_;
  if (!use_cpufreq_) {
    read_cpuinfo_frequencies();
    caps.cpuinfo_frequency = !frequency_mhz_.empty();
  }
  discover_temperatures(root, caps);
}

void CpuReader::discover_temperatures(const std::string& root, CollectorCapabilities& caps) {
  std::string thermal = join_path(root, "sys/class/thermal");
  for (const std::string& zone : list_directory(thermal)) {
    if (zone.rfind("thermal_zone", 0) != 0) continue;
    ProcFile type(thermal + "/" + zone + "/type");
    auto text = type.read();
    std::string label = "thermal/" + std::string(text ? trim(*text) : std::string_view(zone));
    temperatures_.push_back({label, ProcFile(thermal + "/" + zone + "/temp")});
    caps.thermal_zones = true;
  }
  std::string hwmon = join_path(root, "sys/class/hwmon");
  for (const std::string& dev : list_directory(hwmon)) {
    std::string dir = hwmon + "/" + dev;
    ProcFile name_file(dir + "/name");
    auto name_text = name_file.read();
    std::string chip(name_text ? trim(*name_text) : std::string_view(dev));
    for (const std::string& file : list_directory(dir)) {
      if (file.rfind("temp", 0) != 0 || file.size() < 11 ||
          file.compare(file.size() - 6, 6, "_input") != 0) {
        continue;
      }
      std::string sensor = file.substr(0, file.size() - 6);
      ProcFile label_file(dir + "/" + sensor + "_label");
      auto label_text = label_file.read();
      std::string label = chip + "/" + std::string(label_text ? trim(*label_text) : sensor);
      temperatures_.push_back({label, ProcFile(dir + "/" + file)});
      caps.hwmon = true;
    }
  }
}

void CpuReader::sample(CpuResourceMetrics& out, uint64_t now_ns, uint64_t interval_ns,
                       std::vector<std::string>& errors) {
  read_stat(out, interval_ns, errors);
  read_loadavg(out, errors);
  read_psi(out, interval_ns, errors);
  read_frequencies(now_ns);
  out.frequency_mhz = frequency_mhz_;
  read_temperatures(out);
}

void CpuReader::read_stat(CpuResourceMetrics& out, uint64_t interval_ns,
                          std::vector<std::string>& errors) {
  auto text = stat_.read();
  if (!text) return;
  LineReader lines(*text);
  std::string_view line, label;
  std::vector<std::optional<double>>& cores = out.per_core_usage;
  uint32_t online = 0;
  while (lines.next(line)) {
    Fields fields(line);
    if (!fields.next(label)) continue;
    if (label.rfind("cpu", 0) == 0) {
      CpuTicks ticks;
      if (!parse_cpu_ticks(fields, ticks)) {
        errors.push_back(parse_error(stat_.path(), lines.line_number(), "bad cpu line"));
        continue;
      }
      if (label == "cpu") {
        out.overall_usage_percent = usage_percent(total_prev_, ticks);
        fill_split(out, total_prev_, ticks);
        total_prev_ = ticks;
        continue;
      }
      // Cores are keyed by number: an offline core vanishes from the file, leaving a gap.
      auto core = parse_number<uint32_t>(label.substr(3));
      if (!core) continue;
      ++online;
      if (core_prev_.size() <= *core) core_prev_.resize(*core + 1);
      if (cores.size() <= *core) cores.resize(*core + 1);
      cores[*core] = usage_percent(core_prev_[*core], ticks);
      core_prev_[*core] = ticks;
      continue;
    }
    std::string_view value;
    if (!fields.next(value)) continue;
    auto number = parse_number<uint64_t>(value);
    if (label == "ctxt" && number) {
      if (counters_valid_)
        out.context_switches_per_sec = per_second(ctxt_prev_, *number, interval_ns);
      ctxt_prev_ = *number;
    } else if (label == "intr" && number) {
      if (counters_valid_) out.interrupts_per_sec = per_second(intr_prev_, *number, interval_ns);
      intr_prev_ = *number;
    } else if (label == "procs_running" && number) {
      out.procs_running = static_cast<uint32_t>(*number);
    }
  }
  counters_valid_ = true;
  if (online > 0) out.online_cores = online;
}

void CpuReader::read_loadavg(CpuResourceMetrics& out, std::vector<std::string>& errors) {
  auto text = loadavg_.read();
  if (!text) return;
  Fields fields(*text, "\n");
  std::array<double, 3> loads{};
  std::string_view field;
  for (double& load : loads) {
    auto value = fields.next(field) ? parse_number<double>(field) : std::nullopt;
    if (!value) {
      errors.push_back(parse_error(loadavg_.path(), 1, "expected three load averages"));
      return;
    }
    load = *value;
  }
  out.load_average = loads;
}

void CpuReader::read_psi(CpuResourceMetrics& out, uint64_t interval_ns,
                         std::vector<std::string>& errors) {
  std::optional<PsiMetrics>* targets[3] = {&out.psi_cpu, &out.psi_memory, &out.psi_io};
  double interval_us = static_cast<double>(interval_ns) / 1000.0;
  for (int i = 0; i < 3; ++i) {
    auto text = psi_[i].read();  // may refuse reads (EOPNOTSUPP) when PSI is disabled
    if (!text) continue;
    PsiMetrics psi;
    PsiCounters& prev = psi_prev_[i];
    LineReader lines(*text);
    std::string_view line;
    while (lines.next(line)) {
      bool some = line.rfind("some", 0) == 0;
      auto& avg = some ? psi.some_avg10 : psi.full_avg10;
      auto& total = some ? psi.some_total_us : psi.full_total_us;
      if (!parse_psi_line(line, avg, total)) {
        errors.push_back(parse_error(psi_[i].path(), lines.line_number(), "bad pressure line"));
        continue;
      }
      uint64_t& prev_total = some ? prev.some_total_us : prev.full_total_us;
      bool& prev_valid = some ? prev.some_valid : prev.full_valid;
      if (prev_valid && interval_us > 0) {
        (some ? psi.some_percent : psi.full_percent) =
            100.0 * static_cast<double>(counter_delta(prev_total, *total)) / interval_us;
      }
      prev_total = *total;
      prev_valid = true;
    }
    *targets[i] = psi;
  }
}

void CpuReader::read_frequencies(uint64_t now_ns) {
  // scaling_cur_freq can take milliseconds per core on big machines: read it at the slow period.
  if (frequency_read_once_ && now_ns - frequency_read_ns_ < slow_period_ns_) return;
  frequency_read_once_ = true;
  frequency_read_ns_ = now_ns;
  if (!use_cpufreq_) {
    read_cpuinfo_frequencies();
    return;
  }
  frequency_mhz_.assign(cpufreq_.size(), std::nullopt);
  for (size_t core = 0; core < cpufreq_.size(); ++core) {
    auto text = cpufreq_[core].read();
    auto khz = text ? parse_number<uint64_t>(*text) : std::nullopt;
    if (khz) frequency_mhz_[core] = static_cast<double>(*khz) / 1000.0;
  }
}

void CpuReader::read_cpuinfo_frequencies() {
  auto text = cpuinfo_.read();
  frequency_mhz_.clear();
  if (!text) return;
  LineReader lines(*text);
  std::string_view line;
  std::optional<uint32_t> processor;
  while (lines.next(line)) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = trim(line.substr(0, colon)), value = line.substr(colon + 1);
    if (key == "processor") processor = parse_number<uint32_t>(value);
    if (key != "cpu MHz" || !processor) continue;
    if (frequency_mhz_.size() <= *processor) frequency_mhz_.resize(*processor + 1);
    frequency_mhz_[*processor] = parse_number<double>(value);
  }
}

void CpuReader::read_temperatures(CpuResourceMetrics& out) {
  for (TemperatureSource& source : temperatures_) {
    auto text = source.input.read();
    auto milli = text ? parse_number<int64_t>(*text) : std::nullopt;
    if (milli)
      out.temperature_celsius.push_back({source.label, static_cast<double>(*milli) / 1000});
  }
}

}  // namespace memscope::collector
