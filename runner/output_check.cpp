// See output_check.hpp.
#include "runner/output_check.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace memscope::runner {
namespace {

namespace fs = std::filesystem;

// Who besides root can create, rename or remove entries in a directory; empty: nobody.
std::string other_writers(const struct stat& st) {
  if (st.st_uid != 0) return "is owned by uid " + std::to_string(st.st_uid);
  if (st.st_mode & S_IWOTH) return "is writable by every user";
  if ((st.st_mode & S_IWGRP) && st.st_gid != 0)
    return "is writable by group " + std::to_string(st.st_gid);
  return {};
}

}  // namespace

std::string output_dir_problem_for_root(const std::string& dir) {
  if (geteuid() != 0) return {};
  std::error_code ec;
  fs::path real = fs::canonical(dir, ec);
  if (ec) return {};  // prepare_output already found it a writable directory
  for (fs::path p = real;; p = p.parent_path()) {
    struct stat st;
    if (stat(p.c_str(), &st) != 0) break;
    std::string writers = other_writers(st);
    // Above the directory, a root-owned sticky one (/tmp) lets others touch their entries only.
    bool sticky_guard = p != real && st.st_uid == 0 && (st.st_mode & S_ISVTX);
    if (!writers.empty() && !sticky_guard)
      return (p == real ? "it " : "it lies under " + p.string() + ", which ") + writers +
             ", so another user could replace, remove or plant trace files";
    if (p == p.root_path()) break;
  }
  return {};
}

}  // namespace memscope::runner
