// Implementation of the allocation-free file reading and text parsing helpers.
#include "collector/linux/proc_file.hpp"

#include "collector/linux/own_descriptors.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace memscope::collector {

std::optional<std::string_view> ReadBuffer::read_all(int fd) {
  size_t used = 0;
  for (;;) {
    ssize_t n = pread(fd, data_.data() + used, data_.size() - used, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
    // Only a read of 0 is the end: procfs's seq_file hands out whole records, so a read stops
    // short whenever the next line does not fit (/proc/PID/maps came back cut at 4 KiB, and the
    // leak scan lost the main thread's stack, which is listed last).
    // Grow when the file filled the buffer: later reads of the same file then fit.
    if (used == data_.size()) data_.resize(data_.size() * 2);
  }
  return std::string_view(data_.data(), used);
}

ProcFile::~ProcFile() {
  if (fd_ >= 0) fds::close_own(fd_);
}

ProcFile::ProcFile(ProcFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

ProcFile& ProcFile::operator=(ProcFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) fds::close_own(fd_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    buffer_ = std::move(other.buffer_);
    other.fd_ = -1;
  }
  return *this;
}

std::optional<std::string_view> ProcFile::read() {
  if (path_.empty()) return std::nullopt;
  if (fd_ >= 0) {
    errno = 0;
    auto text = buffer_.read_all(fd_);
    if (text || errno != EBADF) return text;
    fds::forget(fd_);  // the program closed it (so the number may be its own now): never close
    fd_ = -1;
  }
  fd_ = fds::open_file(path_.c_str(), O_RDONLY);
  if (fd_ < 0) return std::nullopt;
  return buffer_.read_all(fd_);
}

std::optional<std::string_view> read_file_once(const char* path, ReadBuffer& buffer) {
  int fd = fds::open_file(path, O_RDONLY);
  if (fd < 0) return std::nullopt;
  auto text = buffer.read_all(fd);
  fds::close_own(fd);
  return text;
}

bool path_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string join_path(std::string_view root, std::string_view relative) {
  std::string out(root);
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (!relative.empty() && relative.front() != '/') out += '/';
  out += relative;
  return out;
}

void append_thread_directory(std::string& out, std::string_view proc_dir, long tid) {
  char number[24];
  auto [end, ec] = std::to_chars(number, number + sizeof number, tid);
  std::string_view id(number, static_cast<size_t>(end - number));
  out += proc_dir;
  out += '/';
  out += id;
  out += "/task/";
  out += id;
}

std::vector<std::string> list_directory(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = fds::open_directory(path.c_str());
  if (!dir) return names;
  while (dirent* entry = readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  fds::forget(dirfd(dir));
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

bool LineReader::next(std::string_view& line) {
  if (rest_.empty()) return false;
  size_t end = rest_.find('\n');
  line = rest_.substr(0, end);
  rest_ = end == std::string_view::npos ? std::string_view() : rest_.substr(end + 1);
  ++line_;
  return true;
}

bool Fields::next(std::string_view& field) {
  size_t i = 0;
  while (i < rest_.size() && is_separator(rest_[i])) ++i;
  if (i == rest_.size()) return false;
  size_t j = i;
  while (j < rest_.size() && !is_separator(rest_[j])) ++j;
  field = rest_.substr(i, j - i);
  rest_ = rest_.substr(j);
  return true;
}

bool Fields::skip(int n) {
  std::string_view ignored;
  for (int i = 0; i < n; ++i)
    if (!next(ignored)) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<uint64_t> find_key_u64(std::string_view text, std::string_view key) {
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    if (line.size() <= key.size() || line.substr(0, key.size()) != key) continue;
    char after = line[key.size()];
    if (after != ':' && after != ' ' && after != '\t') continue;
    Fields fields(line.substr(key.size() + 1), ":");
    std::string_view value;
    if (fields.next(value)) return parse_number<uint64_t>(value);
  }
  return std::nullopt;
}

std::string parse_error(const std::string& path, int line, std::string_view what) {
  return path + ":" + std::to_string(line) + ": " + std::string(what);
}

}  // namespace memscope::collector
