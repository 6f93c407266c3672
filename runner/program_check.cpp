// See program_check.hpp.
#include "runner/program_check.hpp"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace memscope::runner {
namespace {

constexpr int kNotFound = 127;
constexpr int kNotExecutable = 126;

bool is_executable_file(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

struct ElfIdentity {
  unsigned char elf_class = 0;  // ELFCLASS32 or ELFCLASS64
  uint16_t machine = 0;         // EM_*
};

// The class and machine of an ELF file (the same offsets in 32- and 64-bit headers); nullopt if
// it is not ELF (a script, say).
std::optional<ElfIdentity> elf_identity(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Elf32_Ehdr eh;
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof(eh)) ||
      std::memcmp(eh.e_ident, ELFMAG, SELFMAG))
    return std::nullopt;
  return ElfIdentity{eh.e_ident[EI_CLASS], eh.e_machine};
}

std::string describe(const ElfIdentity& id) {
  std::string bits = id.elf_class == ELFCLASS32   ? "32-bit"
                     : id.elf_class == ELFCLASS64 ? "64-bit"
                                                  : "unknown-class";
  switch (id.machine) {
    case EM_386:
      return bits + " x86";
    case EM_X86_64:
      return bits + " x86-64";
    case EM_ARM:
      return bits + " ARM";
    case EM_AARCH64:
      return bits + " AArch64";
    default:
      return bits + " (ELF machine " + std::to_string(id.machine) + ")";
  }
}

// memscope-run and the agent are built together: the agent's class and machine are ours.
std::string foreign_binary_problem(const std::string& path) {
  std::optional<ElfIdentity> program = elf_identity(path);
  std::optional<ElfIdentity> self = elf_identity("/proc/self/exe");
  if (!program || !self ||
      (program->elf_class == self->elf_class && program->machine == self->machine))
    return {};
  return path + " is a " + describe(*program) + " program and the memscope agent is " +
         describe(*self) +
         ": the loader cannot load the agent into it, so nothing could be traced. Profile a " +
         describe(*self) + " build of the program";
}

// True when the ELF file has a PT_INTERP header (is dynamically linked); nullopt if not ELF.
std::optional<bool> has_interpreter(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh;
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof(eh)) ||
      std::memcmp(eh.e_ident, ELFMAG, SELFMAG))
    return std::nullopt;
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
    return std::nullopt;
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    in.seekg(static_cast<std::streamoff>(eh.e_phoff + i * sizeof(ph)));
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof(ph))) return std::nullopt;
    if (ph.p_type == PT_INTERP) return true;
  }
  return false;
}

}  // namespace

std::optional<ResolvedProgram> resolve_program(const std::string& name, std::string& error,
                                               int& exit_status) {
  if (name.find('/') != std::string::npos) {
    struct stat st;
    if (stat(name.c_str(), &st) != 0) {
      error = "program " + name + " does not exist";
      exit_status = kNotFound;
      return std::nullopt;
    }
    if (!is_executable_file(name)) {
      error = "program " + name + " is not an executable file (check its permissions)";
      exit_status = kNotExecutable;
      return std::nullopt;
    }
    return ResolvedProgram{name};
  }
  const char* path_env = getenv("PATH");
  std::stringstream dirs(path_env ? path_env : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (is_executable_file(candidate)) return ResolvedProgram{candidate};
  }
  error = "program " + name + " was not found on PATH; give its path (./" + name + ") or fix PATH";
  exit_status = kNotFound;
  return std::nullopt;
}

std::string traceability_problem(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return path + " cannot be read";
  bool setuid_other = (st.st_mode & S_ISUID) && st.st_uid != geteuid();
  bool setgid_other = (st.st_mode & S_ISGID) && st.st_gid != getegid();
  if (setuid_other || setgid_other)
    return path + " is set" + std::string(setuid_other ? "uid" : "gid") +
           ": the loader ignores LD_PRELOAD for it, so nothing could be traced. Run memscope-run "
           "as the owning user, or profile a copy without the setuid/setgid bit";
  std::string foreign = foreign_binary_problem(path);
  if (!foreign.empty()) return foreign;
  std::optional<bool> dynamic = has_interpreter(path);
  if (dynamic.has_value() && !*dynamic)
    return path +
           " is statically linked: LD_PRELOAD cannot reach it, so nothing could be "
           "traced. Build it dynamically linked to profile it";
  return {};  // dynamic ELF, or a script whose interpreter will be traced
}

}  // namespace memscope::runner
