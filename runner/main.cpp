// memscope-run: runs a program with the memscope agent preloaded, passes stdio and signals
// through (the program dies with it if it is SIGKILLed), exits with the program's status, and
// prints one summary line per process traced in this run.
//
// Exit status: the program's own; 128+N when a signal N killed it; 127 program not found;
// 126 program not executable; 125 memscope-run itself failed (bad option, untraceable program,
// unwritable output directory).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <iostream>
#include <string>
#include <vector>

#include "analyzer/session.hpp"
#include "analyzer/summary.hpp"
#include "runner/output_check.hpp"
#include "runner/program_check.hpp"

namespace {

namespace fs = std::filesystem;
constexpr int kRunnerFailure = 125;

constexpr const char* kUsage =
    "usage: memscope-run [-o DIR] [options] -- PROGRAM [ARGS...]\n"
    "  -o, --output DIR     directory for the traces (created; default ./memscope-PROGRAM.PID)\n"
    "  --no-follow          trace PROGRAM only, not the children it forks or execs\n"
    "  --no-stacks          record no call stacks (faster, no allocation sites)\n"
    "  --stack-depth N      deepest call stack recorded, 1-256 (default 64)\n"
    "  --ring-slots N       per-thread event ring size in 64-byte slots (default 16384)\n"
    "  --drop-when-full     drop events rather than wait when a ring is full (reported)\n"
    "  --no-freeres         leave the C and C++ runtimes' buffers allocated at exit\n"
    "  --leak-check=WHAT    none, summary or full (default): classify the blocks live at\n"
    "                       exit as definitely, indirectly, possibly lost or reachable\n"
    "  --max-trace-size SIZE  largest trace file per process (like 1GiB, 500MB, 4096); past\n"
    "                       it the trace says so and ends (analysis: complete false)\n"
    "  --sample-bytes SIZE  sample allocations, one sampled byte per SIZE on average (like\n"
    "                       512KiB, the default for a service): per-site figures become\n"
    "                       estimates with a 95 % interval, totals stay exact\n"
    "  --sample-seed N      seed of the sampling draws, for a repeatable sample\n"
    "  -q, --quiet          no summary at the end\n"
    "  --force              as root, write into an output directory other users can change\n"
    "exit status: PROGRAM's own, 128+N if signal N killed it, 127 not found, 126 not\n"
    "executable, 125 memscope-run failed\n";

struct Options {
  std::string output;
  bool follow = true;
  bool stacks = true;
  std::string stack_depth;
  std::string ring_slots;
  bool drop_when_full = false;
  bool freeres = true;
  std::string leak_check;
  std::string max_trace_bytes;
  std::string sample_bytes;
  std::string sample_seed;
  bool quiet = false;
  bool force = false;
  std::vector<std::string> command;
};

[[noreturn]] void fail(const std::string& message, int status = kRunnerFailure) {
  std::cerr << "memscope-run: " << message << "\n";
  exit(status);
}

bool is_number_in(const std::string& s, unsigned long lo, unsigned long hi) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9)
    return false;
  unsigned long v = std::stoul(s);
  return v >= lo && v <= hi;
}

// SIZE: a whole number of bytes, or with a unit (KiB MiB GiB TiB, KB MB GB TB, B); "" if
// malformed or zero. Returned as the byte count MEMSCOPE_MAX_TRACE_BYTES takes.
std::string size_in_bytes(const std::string& text) {
  constexpr std::pair<const char*, unsigned long long> kUnits[] = {
      {"KiB", 1ull << 10},   {"MiB", 1ull << 20},      {"GiB", 1ull << 30},
      {"TiB", 1ull << 40},   {"KB", 1000ull},          {"MB", 1000000ull},
      {"GB", 1000000000ull}, {"TB", 1000000000000ull}, {"B", 1ull}};
  size_t digits = text.find_first_not_of("0123456789");
  size_t number_digits = digits == std::string::npos ? text.size() : digits;
  if (number_digits == 0 || number_digits > 12) return {};
  unsigned long long value = std::stoull(text.substr(0, digits));
  unsigned long long factor = 1;
  if (digits != std::string::npos) {
    std::string unit = text.substr(digits);
    auto it = std::find_if(std::begin(kUnits), std::end(kUnits),
                           [&](const auto& u) { return unit == u.first; });
    if (it == std::end(kUnits)) return {};
    factor = it->second;
  }
  if (value == 0 || value > (1ull << 60) / factor) return {};
  return std::to_string(value * factor);
}

Options parse(int argc, char** argv) {
  Options o;
  int i = 1;
  auto value = [&](const std::string& flag) -> std::string {
    if (i + 1 >= argc) fail(flag + " needs a value\n" + kUsage);
    return argv[++i];
  };
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      exit(0);
    } else if (a == "-o" || a == "--output") {
      o.output = value(a);
    } else if (a == "--no-follow") {
      o.follow = false;
    } else if (a == "--no-stacks") {
      o.stacks = false;
    } else if (a == "--stack-depth") {
      o.stack_depth = value(a);
      if (!is_number_in(o.stack_depth, 1, 256)) fail("--stack-depth expects 1 to 256");
    } else if (a == "--ring-slots") {
      o.ring_slots = value(a);
      if (!is_number_in(o.ring_slots, 1024, 1u << 22)) fail("--ring-slots expects 1024 to 4194304");
    } else if (a == "--drop-when-full") {
      o.drop_when_full = true;
    } else if (a == "--no-freeres") {
      o.freeres = false;
    } else if (a.rfind("--leak-check", 0) == 0) {
      o.leak_check = a.size() > 12 && a[12] == '=' ? a.substr(13) : value(a);
      if (o.leak_check != "none" && o.leak_check != "summary" && o.leak_check != "full")
        fail("--leak-check expects none, summary or full");
    } else if (a == "--max-trace-size") {
      o.max_trace_bytes = size_in_bytes(value(a));
      if (o.max_trace_bytes.empty())
        fail("--max-trace-size expects a size above 0, like 1GiB, 500MB or 4096 (bytes)");
    } else if (a == "--sample-bytes") {
      o.sample_bytes = size_in_bytes(value(a));
      if (o.sample_bytes.empty() || std::stoull(o.sample_bytes) > (1ull << 40))
        fail("--sample-bytes expects a size from 1 byte to 1TiB, like 512KiB or 65536");
    } else if (a == "--sample-seed") {
      o.sample_seed = value(a);
      if (!is_number_in(o.sample_seed, 1, 999999999)) fail("--sample-seed expects 1 to 999999999");
    } else if (a == "-q" || a == "--quiet") {
      o.quiet = true;
    } else if (a == "--force") {
      o.force = true;
    } else if (!a.empty() && a[0] == '-') {
      fail("unknown option " + a + "\n" + kUsage);
    } else {
      break;  // the program, without a "--"
    }
  }
  for (; i < argc; ++i) o.command.push_back(argv[i]);
  if (o.command.empty()) fail(std::string("no program given\n") + kUsage);
  return o;
}

// The loader splits LD_PRELOAD at spaces and colons, and nothing escapes them: an agent path
// holding one would be read as two libraries that do not exist.
std::string preloadable(const std::string& agent) {
  size_t at = agent.find_first_of(" :");
  if (at == std::string::npos) return agent;
  fail("the agent's path " + agent + " contains a " + (agent[at] == ' ' ? "space" : "colon") +
       ", and the loader splits LD_PRELOAD at spaces and colons with no way to escape them; "
       "build or install memscope under a path without spaces or colons");
}

// The agent sits in the build tree's lib/ beside bin/, or where `cmake --install` put it
// (MEMSCOPE_AGENT_DIR_FROM_BIN, relative to the installed bin directory).
std::string agent_path() {
  std::error_code ec;
  fs::path bin = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (const char* relative : {"../lib", MEMSCOPE_AGENT_DIR_FROM_BIN}) {
    fs::path agent = bin / relative / "libmemscope_agent.so";
    if (!ec && fs::exists(agent)) return preloadable(fs::weakly_canonical(agent).string());
  }
  fail("cannot find the agent library libmemscope_agent.so next to memscope-run (in " +
       (bin / "../lib").string() + " or " + (bin / MEMSCOPE_AGENT_DIR_FROM_BIN).string() +
       "); rebuild with scripts/build or reinstall");
}

std::string prepare_output(const Options& o) {
  std::string dir = o.output;
  if (dir.empty())
    dir = "memscope-" + fs::path(o.command[0]).filename().string() + "." + std::to_string(getpid());
  // Directories memscope-run creates are writable by their owner only, whatever the umask (the
  // program keeps its own).
  mode_t umask_before = umask(0);
  umask(umask_before | 022);
  std::error_code ec;
  fs::create_directories(dir, ec);
  umask(umask_before);
  if (ec) fail("cannot create output directory " + dir + ": " + ec.message());
  if (!fs::is_directory(dir) || access(dir.c_str(), W_OK | X_OK) != 0)
    fail("output directory " + dir + " is not writable; choose another with -o DIR");
  std::string unsafe = memscope::runner::output_dir_problem_for_root(dir);
  if (!unsafe.empty() && !o.force)
    fail("as root, refusing to write traces into " + dir + ": " + unsafe +
         ". Choose an output directory only root can change, or pass --force to write there "
         "anyway");
  if (!unsafe.empty())
    std::cerr << "memscope-run: warning: as root, writing traces into " << dir << " (--force), "
              << "although " << unsafe << "\n";
  return fs::absolute(dir).string();
}

void set_agent_environment(const Options& o, const std::string& agent, const std::string& dir) {
  const char* existing = getenv("LD_PRELOAD");
  std::string preload = agent + (existing && *existing ? std::string(" ") + existing : "");
  setenv("LD_PRELOAD", preload.c_str(), 1);
  setenv("MEMSCOPE_OUTPUT", dir.c_str(), 1);
  setenv("MEMSCOPE_FOLLOW", o.follow ? "1" : "0", 1);
  setenv("MEMSCOPE_STACKS", o.stacks ? "1" : "0", 1);
  setenv("MEMSCOPE_DROP_WHEN_FULL", o.drop_when_full ? "1" : "0", 1);
  setenv("MEMSCOPE_FREERES", o.freeres ? "1" : "0", 1);
  if (!o.leak_check.empty()) setenv("MEMSCOPE_LEAK_CHECK", o.leak_check.c_str(), 1);
  if (!o.stack_depth.empty()) setenv("MEMSCOPE_STACK_DEPTH", o.stack_depth.c_str(), 1);
  if (!o.ring_slots.empty()) setenv("MEMSCOPE_RING_SLOTS", o.ring_slots.c_str(), 1);
  if (!o.max_trace_bytes.empty()) setenv("MEMSCOPE_MAX_TRACE_BYTES", o.max_trace_bytes.c_str(), 1);
  if (!o.sample_bytes.empty()) setenv("MEMSCOPE_SAMPLE_BYTES", o.sample_bytes.c_str(), 1);
  if (!o.sample_seed.empty()) setenv("MEMSCOPE_SAMPLE_SEED", o.sample_seed.c_str(), 1);
}

pid_t g_child = 0;

// Signals sent to memscope-run itself go on to the program. Terminal-generated ones (Ctrl-C)
// already reach the program through its process group, so they are not sent twice.
void forward_signal(int sig, siginfo_t* info, void*) {
  if (g_child > 0 && (info->si_code == SI_USER || info->si_code == SI_QUEUE)) kill(g_child, sig);
}

void install_forwarding() {
  struct sigaction sa = {};
  sa.sa_sigaction = forward_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH})
    sigaction(sig, &sa, nullptr);
}

int wait_for_child(pid_t child) {
  int status = 0;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) fail(std::string("waitpid failed: ") + strerror(errno));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kRunnerFailure;
}

// The trace files in `dir`, sorted.
std::vector<std::string> traces_in(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".mst") found.push_back(entry.path().string());
  std::sort(found.begin(), found.end());
  return found;
}

// Only this run's traces: a directory reused from earlier runs keeps theirs.
void print_summary(const std::string& dir, int status, const std::vector<std::string>& earlier) {
  using namespace memscope::analyzer;
  std::vector<std::string> ours;
  for (const std::string& t : traces_in(dir))
    if (!std::binary_search(earlier.begin(), earlier.end(), t)) ours.push_back(t);
  Session session = ours.empty() ? Session() : analyze(ours);
  if (!fs::is_directory(dir)) {
    std::cerr << "memscope-run: the output directory " << dir
              << " was removed during the run; its traces are lost\n";
    return;
  }
  if (session.processes.empty()) {
    std::cerr << "memscope-run: no trace was written to " << dir
              << " (the program may have cleared LD_PRELOAD or exec'd a static binary)\n";
    return;
  }
  for (const auto& p : session.processes) {
    Summary s = summarize(*p->analysis);
    std::cerr << "memscope-run: pid " << p->analysis->info().pid << " ("
              << process_name(p->analysis->info()) << ", " << describe_end(*p->analysis)
              << "): " << s.total_allocations << " allocations, " << s.total_allocated_bytes
              << " bytes, peak " << s.peak_heap_bytes << " bytes, leaked " << s.leaked_bytes
              << " bytes in " << s.leaked_allocations << " blocks"
              << (s.discarded_by_exec_allocations
                      ? ", " + std::to_string(s.discarded_by_exec_bytes) + " bytes in " +
                            std::to_string(s.discarded_by_exec_allocations) +
                            " blocks discarded by exec"
                      : "")
              << ", " << s.threads << " threads"
              << (s.dropped_events ? ", DROPPED " + std::to_string(s.dropped_events) + " events"
                                   : "")
              << (p->analysis->read_result().complete ? "" : " (trace incomplete)") << "\n";
  }
  std::cerr << "memscope-run: exit status " << status << "; traces in " << dir;
  if (!earlier.empty())
    std::cerr << " (with " << earlier.size() << " from earlier runs, not summarised here)";
  std::cerr << "; analyze with: memscope-analyze " << dir << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::string error;
  int not_found_status = kRunnerFailure;
  auto program = memscope::runner::resolve_program(o.command[0], error, not_found_status);
  if (!program) fail(error, not_found_status);
  std::string problem = memscope::runner::traceability_problem(program->path);
  if (!problem.empty()) fail(problem);
  std::string agent = agent_path();
  std::string dir = prepare_output(o);
  std::vector<std::string> earlier = traces_in(dir);

  install_forwarding();
  pid_t runner = getpid();
  g_child = fork();
  if (g_child < 0) fail(std::string("fork failed: ") + strerror(errno));
  if (g_child == 0) {
    // The program shares its runner's fate: a SIGKILL, which memscope-run cannot pass on, ends
    // the program too instead of leaving it running unsupervised.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != runner) _exit(kRunnerFailure);
    set_agent_environment(o, agent, dir);
    std::vector<char*> args;
    for (auto& a : o.command) args.push_back(a.data());
    args.push_back(nullptr);
    execv(program->path.c_str(), args.data());
    std::cerr << "memscope-run: cannot execute " << program->path << ": " << strerror(errno)
              << "\n";
    _exit(126);
  }
  int status = wait_for_child(g_child);
  if (!o.quiet) print_summary(dir, status, earlier);
  return status;
}
