// Reading and parsing /proc and /sys text files without allocating in the steady state: a file
// stays open between samples and is re-read with pread from offset 0 into a buffer that only
// grows, and the parsers work on string_views of that buffer.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace memscope::collector {

// A growable read buffer reused across reads.
class ReadBuffer {
 public:
  // Reads the whole of fd from offset 0; empty optional on a read error.
  std::optional<std::string_view> read_all(int fd);

 private:
  std::vector<char> data_ = std::vector<char>(4096);
};

// One file kept open between samples. Opening is retried on each read while it fails, so a file
// that appears later (a hot-plugged sensor) is picked up.
class ProcFile {
 public:
  ProcFile() = default;
  explicit ProcFile(std::string path) : path_(std::move(path)) {}
  ~ProcFile();
  ProcFile(ProcFile&& other) noexcept;
  ProcFile& operator=(ProcFile&& other) noexcept;
  ProcFile(const ProcFile&) = delete;
  ProcFile& operator=(const ProcFile&) = delete;

  std::optional<std::string_view> read();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  ReadBuffer buffer_;
};

// Reads a file once (open, read, close) into buffer: for per-thread files of threads that come
// and go, where keeping descriptors would cost more than it saves.
std::optional<std::string_view> read_file_once(const char* path, ReadBuffer& buffer);
bool path_exists(const std::string& path);
std::string join_path(std::string_view root, std::string_view relative);
// Appends the directory of one thread's own files (stat, status, io, comm, ...) to out:
// PROC_DIR/TID/task/TID, not PROC_DIR/PID/task/TID. Allocates only when out must grow. Both name
// the same files, but a file opened and closed under PROC_DIR/PID/task/TID leaves a cached dentry
// inside the process's directory, and when that thread ends shortly before the process (every
// thread alive at exit does), reaping the process costs its parent 4.5-7 ms in wait4, 1.7-3.3 ms of
// it in the kernel, retrying d_invalidate over the dying dentries (Linux 6.18; 0.03-0.14 ms with
// the PROC_DIR/TID form). A traced program's parent (a shell, make, memscope-run) must not pay that
// per process.
void append_thread_directory(std::string& out, std::string_view proc_dir, long tid);
// Directory entries (names only, sorted); empty when the directory is missing.
std::vector<std::string> list_directory(const std::string& path);

// Splits text into lines while counting them, so parse errors can name the line.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : rest_(text) {}
  bool next(std::string_view& line);
  int line_number() const { return line_; }

 private:
  std::string_view rest_;
  int line_ = 0;
};

// Splits a line on spaces, tabs and the given extra separators.
class Fields {
 public:
  explicit Fields(std::string_view line, std::string_view extra_separators = {}) : rest_(line) {
    separator(' '), separator('\t');
    for (char c : extra_separators) separator(c);
  }
  bool next(std::string_view& field);
  // Skips n fields; false when the line has fewer.
  bool skip(int n);

 private:
  // A bit per byte value: the parsers of every per-thread file spend their time here.
  void separator(char c) {
    auto u = static_cast<unsigned char>(c);
    separators_[u >> 6] |= 1ull << (u & 63);
  }
  bool is_separator(char c) const {
    auto u = static_cast<unsigned char>(c);
    return (separators_[u >> 6] >> (u & 63)) & 1;
  }
  std::string_view rest_;
  uint64_t separators_[4] = {};
};

std::string_view trim(std::string_view s);

template <typename T>
std::optional<T> parse_number(std::string_view s) {
  s = trim(s);
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

// Reads "key value [unit]" lines (/proc/meminfo, /proc/<pid>/status, cpu.stat): the number
// that follows `key` (whose end is marked by ':' or a space); empty when the key is absent.
std::optional<uint64_t> find_key_u64(std::string_view text, std::string_view key);

// "path:line: what", the form every parse error takes.
std::string parse_error(const std::string& path, int line, std::string_view what);

}  // namespace memscope::collector
