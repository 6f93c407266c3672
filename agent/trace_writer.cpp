// See trace_writer.hpp.
#include "agent/trace_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

#include "agent/agent_memory.hpp"
#include "collector/linux/own_descriptors.hpp"

namespace memscope::agent {
struct TraceWriter::ZstdContext {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
};

namespace {

// zstd's fastest regular level: the sidecar shares the machine with the program.
constexpr int kCompressionLevel = 1;
constexpr int kMaxExecGenerations = 1000;

std::string trace_name(const char* dir, pid_t pid, int generation) {
  std::string name = std::string(dir) + "/memscope." + std::to_string(pid);
  if (generation > 0) name += "." + std::to_string(generation);
  return name + ".mst";
}

}  // namespace

std::unique_ptr<TraceWriter> TraceWriter::unshared() {
  memory::ScopedUnshared parent_only;
  return std::make_unique<TraceWriter>();
}

// The agent's writers live as long as the process; this matters to tests and tools.
TraceWriter::~TraceWriter() {
  if (zstd_ != nullptr) ZSTD_freeCCtx(zstd_->cctx);
  delete zstd_;
  if (fd_ >= 0) fds::close_own(fd_);
}

bool TraceWriter::open(const char* dir, pid_t pid, uint64_t start_monotonic_ns,
                       uint64_t start_realtime_ns, std::string& error) {
  for (int generation = 0; generation < kMaxExecGenerations; ++generation) {
    std::string candidate = trace_name(dir, pid, generation);
    struct stat st;
    if (lstat(candidate.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      error = "refusing to write the trace through a symbolic link at " + candidate +
              "; remove it or choose another output directory";
      return false;
    }
    int fd = fds::open_file(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) {
      error = "cannot create " + candidate + ": " + strerror(errno);
      return false;
    }
    fd_ = fd;
    path_ = candidate;
    fstat(fd_, &st);
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    format::FileHeader header{};
    std::memcpy(header.magic, format::kFileMagic, sizeof(header.magic));
    header.version = format::kVersion;
    header.header_bytes = sizeof(header);
    header.pid = static_cast<uint64_t>(pid);
    header.start_monotonic_ns = start_monotonic_ns;
    header.start_realtime_ns = start_realtime_ns;
    return write_all(&header, sizeof(header), error);
  }
  error = std::string("too many traces for one pid in ") + dir;
  return false;
}

// A writer's buffers are its process's own: a fork child starts a writer of its own, so the
// parent writes them after a fork without copy-on-write faults (agent_memory.hpp).
void TraceWriter::Stream::grow(size_t size) {
  memory::ScopedUnshared parent_only;
  buffer.resize(size);
}

void TraceWriter::Stream::raw(const uint8_t* data, size_t n) {
  if (n == 0) return;  // data and an empty buffer may be null, which memcpy may not be given
  if (buffer.size() < used + n) grow(used + n + buffer.size());
  std::memcpy(buffer.data() + used, data, n);
  used += n;
}

// Framed records go to records chunks only, which are one stream.
void TraceWriter::frame_from(size_t start) {
  Stream& c = records_.own[0];
  size_t body = c.used - start;
  uint8_t length[10];
  size_t n = format::put_varint(length, body);
  if (c.buffer.size() < c.used + n) c.grow(c.used + n + c.buffer.size());
  std::memmove(c.buffer.data() + start + n, c.buffer.data() + start, body);
  std::memcpy(c.buffer.data() + start, length, n);
  c.used += n;
}

const std::vector<uint8_t>& TraceWriter::assemble(Chunk& chunk) {
  memory::ScopedUnshared parent_only;  // as Stream::grow
  assembled_.resize(chunk.used() + format::kEventStreams * 10);
  size_t at = 0;
  for (const Stream& s : chunk.own) at += format::put_varint(assembled_.data() + at, s.used);
  for (const Stream& s : chunk.own) {
    if (s.used == 0) continue;  // an empty stream may have no buffer yet: memcpy wants one
    std::memcpy(assembled_.data() + at, s.buffer.data(), s.used);
    at += s.used;
  }
  assembled_.resize(at);
  return assembled_;
}

bool TraceWriter::still_our_file() {
  struct stat st;
  return fstat(fd_, &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_;
}

bool TraceWriter::write_all(const void* data, size_t n, std::string& error) {
  auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      error = "writing " + path_ + " failed: " + strerror(errno);
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
    written_ += static_cast<uint64_t>(w);
  }
  return true;
}

bool TraceWriter::seal_chunk(std::string& error) {
  if (truncated_) {
    discard_pending();
    return true;
  }
  if (!seal(records_, true, error) || !seal(events_, true, error)) return false;
  forget_chunk_state();
  return true;
}

bool TraceWriter::seal_past_limit(std::string& error) {
  events_.clear();
  if (!seal(records_, false, error)) return false;
  discard_pending();
  return true;
}

void TraceWriter::discard_pending() {
  records_.clear();
  events_.clear();
  forget_chunk_state();
}

// What the deltas, indexes and block numbers of a chunk refer to: each chunk starts afresh.
void TraceWriter::forget_chunk_state() {
  chunk_has_base_ = false;
  last_address_ = 0;
  infos_.clear();
  blocks_.clear();
  allocations_ = 0;
  frees_.clear();
}

bool TraceWriter::seal(Chunk& chunk, bool within_limit, std::string& error) {
  if (chunk.used() == 0 || fd_ < 0) return true;
  // Someone may have removed the file (or its directory): writing on into an unlinked inode
  // would lose everything silently, so stop with a message instead.
  struct stat at_path;
  if (lstat(path_.c_str(), &at_path) != 0 || at_path.st_dev != dev_ || at_path.st_ino != ino_) {
    error = "the trace file " + path_ + " was removed or replaced while tracing";
    return false;
  }
  // Where the sidecar shares the program's descriptor table (own_descriptors.hpp), a program
  // that closes every descriptor (daemons do) closes ours too, and may have reused the number:
  // never write into theirs: reopen ours by path, unless opening has stopped in that mode (an
  // open takes the lowest free number for a moment): then tracing stops, with the reason.
  if (!still_our_file()) {
    fds::forget(fd_);  // perhaps the program's number now: never written, never closed
    fd_ = -1;
    if (fds::opening_sealed()) {  // reopening would take a number the program could be given
      error = "the program closed memscope's descriptor of " + path_ +
              ", which shares the program's descriptor table, and memscope opens nothing while "
              "the program runs";
      return false;
    }
    int fd = fds::open_file(path_.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_dev != dev_ || st.st_ino != ino_) {
      if (fd >= 0) fds::close_own(fd);
      error = "the trace file " + path_ + " was removed or replaced while tracing";
      return false;
    }
    fd_ = fd;
  }
  const bool streams = chunk.content == format::ChunkContent::kEvents;
  const uint8_t* raw = streams ? assemble(chunk).data() : chunk.own[0].buffer.data();
  const size_t used = streams ? assembled_.size() : chunk.own[0].used;
  memory::ScopedUnshared parent_only;  // zstd's workspace and the buffers, as Stream::grow
  if (zstd_ == nullptr) zstd_ = new ZstdContext;
  compressed_.resize(ZSTD_compressBound(used));
  size_t stored = ZSTD_compressCCtx(zstd_->cctx, compressed_.data(), compressed_.size(), raw, used,
                                    kCompressionLevel);
  format::ChunkHeader header{};
  header.magic = format::kChunkMagic;
  header.content = static_cast<uint8_t>(chunk.content);
  const uint8_t* payload = compressed_.data();
  if (ZSTD_isError(stored) || stored >= used) {
    header.codec = static_cast<uint8_t>(format::Codec::kRaw);
    stored = used;
    payload = raw;
  } else {
    header.codec = static_cast<uint8_t>(format::Codec::kZstd);
  }
  header.stored_bytes = static_cast<uint32_t>(stored);
  header.raw_bytes = static_cast<uint32_t>(used);
  header.sequence = sequence_;
  header.checksum = XXH64(payload, stored, sequence_);
  // One write for header and payload keeps a crash from leaving a header without its payload
  // in most cases; the reader copes with the rest.
  out_.resize(sizeof(header) + stored);
  std::memcpy(out_.data(), &header, sizeof(header));
  std::memcpy(out_.data() + sizeof(header), payload, stored);
  if (within_limit && max_bytes_ != 0 && written_ + out_.size() > max_bytes_) {
    truncated_ = true;
    discard_pending();
    return true;
  }
  if (!write_all(out_.data(), out_.size(), error)) return false;
  ++sequence_;
  chunk.clear();
  return true;
}

}  // namespace memscope::agent
