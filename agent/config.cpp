// The table of MEMSCOPE_* options and its parser. getenv is safe before libc constructors run
// and does not allocate; messages go through write(2) for the same reason.
#include "agent/config.hpp"

#include "agent/messages.hpp"
#include "format/leak_scan.hpp"

#include <unistd.h>

#include <strings.h>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <initializer_list>

namespace memscope::agent {

Config g_config;

namespace {

enum class Kind { kBool, kNumber, kPath, kChoice };

struct Option {
  const char* name;
  Kind kind;
  uint64_t default_value;
  uint64_t min;
  uint64_t max;
  const char* meaning;
  std::initializer_list<const char*> choices = {};  // kChoice: the value is the word's index
};

// Keep docs/usage.md in step with this table.
constexpr Option kOptions[] = {
    {"MEMSCOPE_OUTPUT", Kind::kPath, 0, 0, 0, "directory for trace files (default: .)"},
    {"MEMSCOPE_STACKS", Kind::kBool, 1, 0, 1, "capture a call stack for every allocation"},
    {"MEMSCOPE_STACK_DEPTH", Kind::kNumber, 64, 1, 256, "deepest stack captured, in frames"},
    {"MEMSCOPE_RING_SLOTS", Kind::kNumber, 16384, 1024, 1u << 22,
     "per-thread ring capacity in 64-byte slots (rounded up to a power of two)"},
    {"MEMSCOPE_DROP_WHEN_FULL", Kind::kBool, 0, 0, 1,
     "drop events when a ring is full instead of waiting (drops are reported)"},
    {"MEMSCOPE_FOLLOW", Kind::kBool, 1, 0, 1, "trace children made by fork and exec"},
    {"MEMSCOPE_FLUSH_MS", Kind::kNumber, 500, 10, 5000,
     "longest time an event waits in memory before it is written"},
    {"MEMSCOPE_QUIET", Kind::kBool, 0, 0, 1, "no messages from the agent on stderr"},
    {"MEMSCOPE_SAMPLE_MS", Kind::kNumber, 100, 0, 60000,
     "base interval of machine and process metric samples in ms (0: none)"},
    {"MEMSCOPE_SAMPLE_FIXED", Kind::kBool, 0, 0, 1,
     "sample at exactly MEMSCOPE_SAMPLE_MS, without backing off for many threads or a "
     "saturated machine"},
    {"MEMSCOPE_HEAP_SUMMARY_MB", Kind::kNumber, 256, 0, 1u << 20,
     "memory the agent may use to replay the heap while tracing, so memscope-analyze need not "
     "(0: off; past it the analysis replays the events itself)"},
    {"MEMSCOPE_FREERES", Kind::kBool, 1, 0, 1,
     "at exit, after the program's destructors, free the C and C++ runtimes' own buffers "
     "(__libc_freeres, __gnu_cxx::__freeres) as valgrind does"},
    {"MEMSCOPE_LEAK_CHECK",
     Kind::kChoice,
     2,
     0,
     2,
     "classify the blocks live at a normal end as lost or reachable: none, summary (totals), "
     "full (per site)",
     {"none", "summary", "full"}},
    {"MEMSCOPE_MAX_TRACE_BYTES", Kind::kNumber, 0, 0, 1ull << 60,
     "largest trace file in bytes (0: no limit); past it the trace says so and ends"},
    {"MEMSCOPE_SAMPLE_BYTES", Kind::kNumber, 0, 0, 1ull << 40,
     "sample allocations per byte with this mean gap in bytes (0: record every call); the "
     "analysis estimates per-site figures, totals stay exact"},
    {"MEMSCOPE_SAMPLE_SEED", Kind::kNumber, 0, 0, UINT64_MAX,
     "seed of the sampling draws, for a repeatable sample (0: a new seed each run)"},
};

bool parse_number(const char* text, uint64_t& out) {
  if (*text == '\0') return false;
  char* end = nullptr;
  unsigned long long v = strtoull(text, &end, 10);
  if (*end != '\0' || text[0] == '-') return false;
  out = v;
  return true;
}

bool parse_bool(const char* text, uint64_t& out) {
  for (const char* yes : {"1", "yes", "true", "on"})
    if (strcasecmp(text, yes) == 0) return out = 1, true;
  for (const char* no : {"0", "no", "false", "off"})
    if (strcasecmp(text, no) == 0) return out = 0, true;
  return false;
}

bool parse_choice(const Option& o, const char* text, uint64_t& out) {
  uint64_t index = 0;
  for (const char* word : o.choices) {
    if (strcasecmp(text, word) == 0) return out = index, true;
    ++index;
  }
  return false;
}

uint64_t read_option(const Option& o) {
  const char* text = getenv(o.name);
  if (text == nullptr) return o.default_value;
  uint64_t v = 0;
  bool ok = o.kind == Kind::kBool     ? parse_bool(text, v)
            : o.kind == Kind::kChoice ? parse_choice(o, text, v)
                                      : parse_number(text, v);
  if (ok && v >= o.min && v <= o.max) return v;
  std::string_view why = o.kind == Kind::kBool     ? ": expected 0 or 1, using the default"
                         : o.kind == Kind::kChoice ? ": not one of the choices, using the default"
                         : ok                      ? ": out of range, using the default"
                                                   : ": not a number, using the default";
  tell_user({"ignoring ", o.name, why});
  return o.default_value;
}

// A seed that differs between runs and between processes started at the same moment.
uint64_t fresh_seed() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t seed =
      static_cast<uint64_t>(now.tv_sec) * 1000000000ull + static_cast<uint64_t>(now.tv_nsec);
  return (seed ^ (static_cast<uint64_t>(getpid()) << 40)) | 1;
}

uint32_t round_up_power_of_two(uint64_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

}  // namespace

void load_config(Config& out) {
  set_messages_quiet(read_option(kOptions[7]) != 0);  // first: it silences the rest
  const char* dir = getenv(kOptions[0].name);
  if (dir == nullptr || *dir == '\0') dir = ".";
  if (strlen(dir) >= sizeof(out.output_dir)) {
    tell_user({"MEMSCOPE_OUTPUT is too long; writing traces to the current directory"});
    dir = ".";
  }
  strcpy(out.output_dir, dir);
  out.stacks = read_option(kOptions[1]) != 0;
  out.stack_depth = static_cast<uint32_t>(read_option(kOptions[2]));
  out.ring_slots = round_up_power_of_two(read_option(kOptions[3]));
  out.drop_when_full = read_option(kOptions[4]) != 0;
  out.follow_children = read_option(kOptions[5]) != 0;
  out.flush_interval_ms = static_cast<uint32_t>(read_option(kOptions[6]));
  out.sample_interval_ms = static_cast<uint32_t>(read_option(kOptions[8]));
  out.sample_fixed = read_option(kOptions[9]) != 0;
  out.heap_summary_mb = static_cast<uint32_t>(read_option(kOptions[10]));
  out.freeres = read_option(kOptions[11]) != 0;
  out.leak_check = static_cast<uint8_t>(read_option(kOptions[12]));
  out.max_trace_bytes = read_option(kOptions[13]);
  out.sample_bytes = read_option(kOptions[14]);
  out.sample_seed = read_option(kOptions[15]);
  if (out.sample_seed == 0) out.sample_seed = fresh_seed();
  // The scan follows pointers through every live block; a sampled trace knows few of them.
  if (out.sample_bytes != 0) out.leak_check = static_cast<uint8_t>(format::LeakCheckLevel::kNone);
}

bool children_scan_leaks() {
  return g_config.follow_children &&
         g_config.leak_check != static_cast<uint8_t>(format::LeakCheckLevel::kNone);
}

}  // namespace memscope::agent
