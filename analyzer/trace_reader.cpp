// See trace_reader.hpp.
#include "analyzer/trace_reader.hpp"

#include <xxhash.h>
#include <zstd.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "analyzer/progress.hpp"
#include "format/trace_format.hpp"

namespace memscope::analyzer {
namespace {

using format::Cursor;
using format::RecordType;

std::vector<std::string> split_nul(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\0', start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Decodes the records of one chunk. Returns false at the first malformed record.
class ChunkDecoder {
 public:
  ChunkDecoder(TraceVisitor& v) : visitor_(v) {}
  bool decode(const uint8_t* begin, const uint8_t* end);

 private:
  bool stamp(Cursor& c, uint64_t& out);
  bool address(Cursor& c, uint64_t& out);
  bool alloc(Cursor& c);
  bool free_record(Cursor& c);
  bool realloc_record(Cursor& c);
  bool stack(Cursor& c);
  bool skippable(Cursor& c, uint8_t type);
  bool process_info(Cursor& c);
  bool module(Cursor& c);
  bool thread_start(Cursor& c);
  bool thread_end(Cursor& c);
  bool thread_name(Cursor& c);
  bool thread_cpu(Cursor& c);
  bool process_end(Cursor& c);

  TraceVisitor& visitor_;
  uint32_t tid_ = 0;
  uint64_t last_stamp_ = 0;
  uint64_t last_address_ = 0;
  bool have_base_ = false;
};

bool ChunkDecoder::address(Cursor& c, uint64_t& out) {
  int64_t delta;
  if (!c.svarint(delta)) return false;
  last_address_ += static_cast<uint64_t>(delta);
  out = last_address_;
  return true;
}

bool ChunkDecoder::stamp(Cursor& c, uint64_t& out) {
  int64_t delta;
  if (!have_base_ || !c.svarint(delta)) return false;
  last_stamp_ += static_cast<uint64_t>(delta);
  out = last_stamp_;
  return true;
}

bool ChunkDecoder::alloc(Cursor& c) {
  HeapEvent e{EventKind::kAlloc, 0, tid_, 0, 0, 0, 0};
  if (!stamp(c, e.stamp) || !c.u8(e.fn) || !address(c, e.ptr) || !c.varint(e.size) ||
      !c.varint(e.stack_id))
    return false;
  visitor_.heap_event(e);
  return true;
}

bool ChunkDecoder::free_record(Cursor& c) {
  HeapEvent e{EventKind::kFree, 0, tid_, 0, 0, 0, 0};
  if (!stamp(c, e.stamp) || !address(c, e.ptr)) return false;
  visitor_.heap_event(e);
  return true;
}

bool ChunkDecoder::realloc_record(Cursor& c) {
  uint8_t fn;
  uint64_t before, after_delta, old_ptr, new_ptr, size, stack_id;
  if (!stamp(c, before) || !c.u8(fn) || !c.varint(after_delta) || !address(c, old_ptr) ||
      !c.varint(new_ptr) || !c.varint(size) || !c.varint(stack_id))
    return false;
  visitor_.heap_event({EventKind::kFree, fn, tid_, before, old_ptr, 0, 0});
  if (new_ptr != 0)
    visitor_.heap_event(
        {EventKind::kAlloc, fn, tid_, before + after_delta, new_ptr, size, stack_id});
  return true;
}

bool ChunkDecoder::stack(Cursor& c) {
  uint64_t id, count;
  if (!c.varint(id) || !c.varint(count) || count > c.remaining()) return false;
  std::vector<uint64_t> frames(count);
  int64_t previous = 0;
  for (auto& f : frames) {
    int64_t delta;
    if (!c.svarint(delta)) return false;
    previous += delta;
    f = static_cast<uint64_t>(previous);
  }
  visitor_.stack(id, frames);
  return true;
}

bool ChunkDecoder::process_info(Cursor& c) {
  ProcessInfo p;
  std::string cmdline;
  uint64_t drop = 0;
  if (!c.varint(p.pid) || !c.varint(p.ppid) || !c.varint(p.parent_pid) || !c.varint(p.fork_stamp) ||
      !c.bytes(p.exe) || !c.bytes(cmdline) || !c.bytes(p.malloc_provider) ||
      !c.varint(p.stack_depth) || !c.varint(p.ring_slots) || !c.varint(drop))
    return false;
  if (!c.at_end() && !c.varint(p.sidecar_tid)) return false;  // absent from older traces
  p.argv = split_nul(cmdline);
  p.drop_when_full = drop != 0;
  visitor_.process_info(p);
  return true;
}

bool ChunkDecoder::module(Cursor& c) {
  ModuleInfo m;
  uint8_t loaded;
  if (!c.varint(m.stamp) || !c.u8(loaded) || !c.varint(m.base) || !c.varint(m.size) ||
      !c.bytes(m.path) || !c.bytes(m.build_id))
    return false;
  m.loaded = loaded != 0;
  visitor_.module(m);
  return true;
}

bool ChunkDecoder::thread_start(Cursor& c) {
  ThreadInfo t;
  if (!c.varint(t.start_stamp) || !c.varint(t.tid) || !c.varint(t.parent_tid) || !c.bytes(t.name))
    return false;
  visitor_.thread_start(t);
  return true;
}

bool ChunkDecoder::thread_end(Cursor& c) {
  ThreadInfo t;
  if (!c.varint(t.end_stamp) || !c.varint(t.tid) || !c.bytes(t.name) || !c.varint(t.ring_waits) ||
      !c.varint(t.ring_wait_ns) || !c.varint(t.dropped_events))
    return false;
  t.name = t.name.c_str();  // the agent writes a fixed 16-byte field
  visitor_.thread_end(t);
  return true;
}

bool ChunkDecoder::thread_cpu(Cursor& c) {
  std::optional<ThreadCpu> t = format::decode_thread_cpu(c);
  if (!t) return false;
  visitor_.thread_cpu(*t);
  return true;
}

bool ChunkDecoder::thread_name(Cursor& c) {
  uint64_t stamp, tid;
  std::string name;
  if (!c.varint(stamp) || !c.varint(tid) || !c.bytes(name)) return false;
  visitor_.thread_name(tid, stamp, name);
  return true;
}

bool ChunkDecoder::process_end(Cursor& c) {
  ProcessEnd e;
  if (!c.varint(e.stamp) || !c.u8(e.reason) || !c.svarint(e.detail) ||
      !c.varint(e.dropped_events) || !c.varint(e.ring_waits))
    return false;
  visitor_.process_end(e);
  return true;
}

// Skippable records are length-framed: decode the ones we know inside their frame, skip the rest.
bool ChunkDecoder::skippable(Cursor& c, uint8_t type) {
  std::string body;
  if (!c.bytes(body)) return false;
  auto* b = reinterpret_cast<const uint8_t*>(body.data());
  Cursor inner(b, b + body.size());
  switch (static_cast<RecordType>(type)) {
    case RecordType::kProcessInfo:
      return process_info(inner);
    case RecordType::kModule:
      return module(inner);
    case RecordType::kThreadStart:
      return thread_start(inner);
    case RecordType::kThreadEnd:
      return thread_end(inner);
    case RecordType::kThreadName:
      return thread_name(inner);
    case RecordType::kThreadCpu:
      return thread_cpu(inner);
    case RecordType::kProcessEnd:
      return process_end(inner);
    case RecordType::kRegion: {
      uint64_t stamp, id;
      uint8_t begin;
      if (!inner.varint(stamp) || !inner.varint(id) || !inner.u8(begin)) return false;
      visitor_.region(stamp, id, begin != 0);
      return true;
    }
    case RecordType::kHeapSummary:
      visitor_.heap_summary(body);
      return true;
    case RecordType::kLeakScan:
      visitor_.leak_scan(body);
      return true;
    case RecordType::kHwCounters:
      visitor_.hw_counters(body);
      return true;
    case RecordType::kSampling:
      visitor_.sampling(body);
      return true;
    case RecordType::kTraceTruncated: {
      uint64_t stamp, limit;
      if (!inner.varint(stamp) || !inner.varint(limit)) return false;
      visitor_.trace_truncated(stamp, limit);
      return true;
    }
    case RecordType::kMetricSample: {
      uint64_t stamp;
      if (!inner.varint(stamp)) return false;
      visitor_.metric_sample(stamp, body.substr(static_cast<size_t>(inner.position() - b)));
      return true;
    }
    default:
      return true;  // a newer writer's record: skipped by design
  }
}

bool ChunkDecoder::decode(const uint8_t* begin, const uint8_t* end) {
  Cursor c(begin, end);
  while (!c.at_end()) {
    uint8_t type;
    if (!c.u8(type)) return false;
    bool ok = true;
    uint64_t value = 0;
    switch (static_cast<RecordType>(type)) {
      case RecordType::kThreadSwitch:
        ok = c.varint(value) && value <= UINT32_MAX;
        tid_ = static_cast<uint32_t>(value);
        break;
      case RecordType::kChunkBase:
        ok = c.varint(last_stamp_);
        have_base_ = true;
        break;
      case RecordType::kAlloc:
        ok = alloc(c);
        break;
      case RecordType::kFree:
        ok = free_record(c);
        break;
      case RecordType::kRealloc:
        ok = realloc_record(c);
        break;
      case RecordType::kStack:
        ok = stack(c);
        break;
      case RecordType::kWatermark:
        ok = c.varint(value);
        if (ok) visitor_.watermark(value);
        break;
      default:
        ok = type >= static_cast<uint8_t>(RecordType::kFirstSkippableType) && skippable(c, type);
    }
    if (!ok) return false;
  }
  return true;
}

std::string at_chunk(uint64_t index, uint64_t offset) {
  return "chunk " + std::to_string(index) + " at byte " + std::to_string(offset);
}

bool decompress(const format::ChunkHeader& h, std::vector<uint8_t>& stored,
                std::vector<uint8_t>& raw) {
  if (h.codec == static_cast<uint8_t>(format::Codec::kRaw)) {
    if (h.raw_bytes != h.stored_bytes) return false;
    raw.swap(stored);
    return true;
  }
  if (h.codec != static_cast<uint8_t>(format::Codec::kZstd)) return false;
  raw.resize(h.raw_bytes);
  size_t n = ZSTD_decompress(raw.data(), raw.size(), stored.data(), stored.size());
  return !ZSTD_isError(n) && n == h.raw_bytes;
}

// What can be checked of a chunk without decompressing it: a known codec and, for zstd, the
// decompressed size the frame header declares.
bool plausible(const format::ChunkHeader& h, const std::vector<uint8_t>& stored) {
  if (h.codec == static_cast<uint8_t>(format::Codec::kRaw)) return h.raw_bytes == h.stored_bytes;
  if (h.codec != static_cast<uint8_t>(format::Codec::kZstd)) return false;
  return ZSTD_getFrameContentSize(stored.data(), stored.size()) == h.raw_bytes;
}

// The records of one chunk, decoded on a worker thread and handed to the real visitor later on
// the reading thread, in the order they were decoded.
class ChunkBuffer : public TraceVisitor {
 public:
  void heap_event(const HeapEvent& e) override { events_.push_back(e); }
  void watermark(uint64_t s) override {
    later([s](TraceVisitor& v) { v.watermark(s); });
  }
  void process_info(const ProcessInfo& p) override {
    later([p](TraceVisitor& v) { v.process_info(p); });
  }
  void stack(uint64_t id, const std::vector<uint64_t>& frames) override {
    later([id, frames](TraceVisitor& v) { v.stack(id, frames); });
  }
  void module(const ModuleInfo& m) override {
    later([m](TraceVisitor& v) { v.module(m); });
  }
  void thread_start(const ThreadInfo& t) override {
    later([t](TraceVisitor& v) { v.thread_start(t); });
  }
  void thread_end(const ThreadInfo& t) override {
    later([t](TraceVisitor& v) { v.thread_end(t); });
  }
  void thread_name(uint64_t tid, uint64_t stamp, const std::string& name) override {
    later([tid, stamp, name](TraceVisitor& v) { v.thread_name(tid, stamp, name); });
  }
  void thread_cpu(const ThreadCpu& t) override {
    later([t](TraceVisitor& v) { v.thread_cpu(t); });
  }
  void process_end(const ProcessEnd& e) override {
    later([e](TraceVisitor& v) { v.process_end(e); });
  }
  void trace_truncated(uint64_t stamp, uint64_t limit) override {
    later([stamp, limit](TraceVisitor& v) { v.trace_truncated(stamp, limit); });
  }
  void metric_sample(uint64_t stamp, const std::string& body) override {
    later([stamp, body](TraceVisitor& v) { v.metric_sample(stamp, body); });
  }
  void region(uint64_t stamp, uint64_t id, bool begin) override {
    later([stamp, id, begin](TraceVisitor& v) { v.region(stamp, id, begin); });
  }
  void heap_summary(const std::string& body) override {
    later([body](TraceVisitor& v) { v.heap_summary(body); });
  }
  void leak_scan(const std::string& body) override {
    later([body](TraceVisitor& v) { v.leak_scan(body); });
  }
  void hw_counters(const std::string& body) override {
    later([body](TraceVisitor& v) { v.hw_counters(body); });
  }
  void sampling(const std::string& body) override {
    later([body](TraceVisitor& v) { v.sampling(body); });
  }

  void reserve_events(size_t n) { events_.reserve(n); }
  void deliver(TraceVisitor& visitor) const {
    size_t done = 0;
    for (const Later& l : later_) {
      visitor.heap_events(events_.data() + done, l.events_before - done);
      done = l.events_before;
      l.call(visitor);
    }
    visitor.heap_events(events_.data() + done, events_.size() - done);
  }

 private:
  struct Later {
    size_t events_before;  // heap events decoded before this record
    std::function<void(TraceVisitor&)> call;
  };
  void later(std::function<void(TraceVisitor&)> call) {
    later_.push_back({events_.size(), std::move(call)});
  }
  std::vector<HeapEvent> events_;
  std::vector<Later> later_;
};

// One chunk on its way through the pipeline: found by the reading thread, read, checked,
// decompressed and decoded by a worker, delivered by the reading thread.
struct ChunkJob {
  enum class Outcome { kDecoded, kMalformed, kSkipped, kCutShort, kBadHeader };
  uint64_t index = 0;
  uint64_t offset = 0;  // of the chunk header
  format::ChunkHeader header{};
  bool verify_only = false;  // not selected: its checksum is checked, nothing is decoded
  Outcome outcome = Outcome::kDecoded;
  ChunkBuffer records;
  std::exception_ptr failure;  // out of memory on a worker: rethrown where the reader runs
  bool done = false;
};

// Bytes of records per heap event in real traces, give or take: sizes the event buffer once.
constexpr size_t kBytesPerEvent = 8;

void decode_chunk(int fd, ChunkJob& job, std::vector<uint8_t>& stored, std::vector<uint8_t>& raw) {
  const format::ChunkHeader& h = job.header;
  stored.resize(h.stored_bytes);
  off_t at = static_cast<off_t>(job.offset + sizeof(h));
  if (pread(fd, stored.data(), stored.size(), at) != static_cast<ssize_t>(stored.size())) {
    job.outcome = ChunkJob::Outcome::kCutShort;
    return;
  }
  if (h.sequence != job.index || XXH64(stored.data(), stored.size(), h.sequence) != h.checksum ||
      (job.verify_only ? !plausible(h, stored) : !decompress(h, stored, raw))) {
    job.outcome = ChunkJob::Outcome::kSkipped;
    return;
  }
  if (job.verify_only) return;
  job.records.reserve_events(raw.size() / kBytesPerEvent);
  ChunkDecoder decoder(job.records);
  if (!decoder.decode(raw.data(), raw.data() + raw.size()))
    job.outcome = ChunkJob::Outcome::kMalformed;
}

// Worker threads decode the next few chunks while the reading thread delivers the oldest one,
// so decompression and decoding overlap the replay. Only `capacity()` chunks are in flight at
// once, which bounds memory whatever the size of the trace.
class ChunkPipeline {
 public:
  explicit ChunkPipeline(int fd) : fd_(fd) {
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    unsigned workers = std::clamp(cores - 1, 1u, 3u);
    for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~ChunkPipeline() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_ready_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  size_t capacity() const { return 2 * threads_.size() + 2; }
  size_t in_flight() const { return jobs_.size(); }
  void submit(std::unique_ptr<ChunkJob> job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    work_ready_.notify_one();
  }
  // Waits for the oldest chunk in flight and takes it out.
  std::unique_ptr<ChunkJob> next() {
    std::unique_lock lock(mutex_);
    job_done_.wait(lock, [this] { return jobs_.front()->done; });
    std::unique_ptr<ChunkJob> job = std::move(jobs_.front());
    jobs_.pop_front();
    --claimed_;
    return job;
  }

 private:
  void work() {
    std::vector<uint8_t> stored, raw;
    std::unique_lock lock(mutex_);
    for (;;) {
      work_ready_.wait(lock, [this] { return stopping_ || claimed_ < jobs_.size(); });
      if (stopping_) return;
      ChunkJob& job = *jobs_[claimed_++];
      lock.unlock();
      try {
        if (job.outcome != ChunkJob::Outcome::kBadHeader) decode_chunk(fd_, job, stored, raw);
      } catch (...) {
        job.failure = std::current_exception();
      }
      lock.lock();
      job.done = true;
      job_done_.notify_all();
    }
  }

  int fd_;
  std::mutex mutex_;
  std::condition_variable work_ready_, job_done_;
  std::deque<std::unique_ptr<ChunkJob>> jobs_;  // in file order
  size_t claimed_ = 0;                          // jobs_[0, claimed_) went to a worker
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Reads the header of the chunk at `offset`. Returns nullptr at a clean end of file.
std::unique_ptr<ChunkJob> find_chunk(int fd, uint64_t index, uint64_t offset) {
  auto job = std::make_unique<ChunkJob>();
  job->index = index;
  job->offset = offset;
  format::ChunkHeader& h = job->header;
  ssize_t n = pread(fd, &h, sizeof(h), static_cast<off_t>(offset));
  if (n == 0) return nullptr;
  bool header_ok = n == static_cast<ssize_t>(sizeof(h)) && h.magic == format::kChunkMagic &&
                   h.content <= static_cast<uint8_t>(format::ChunkContent::kEvents) &&
                   h.reserved[0] == 0 && h.reserved[1] == 0 &&
                   h.stored_bytes <= format::kMaxChunkBytes &&
                   h.raw_bytes <= format::kMaxChunkBytes;
  if (!header_ok) job->outcome = ChunkJob::Outcome::kBadHeader;
  return job;
}

// Hands one decoded chunk to the visitor. Returns false when reading must stop there.
bool deliver(const ChunkJob& job, TraceVisitor& visitor, ReadResult& result) {
  if (job.failure) std::rethrow_exception(job.failure);
  std::string where = at_chunk(job.index, job.offset);
  switch (job.outcome) {
    case ChunkJob::Outcome::kBadHeader:
      result.complete = false;
      result.error = "trace ends in a damaged or partial " + where +
                     " (the process was probably killed); results cover the chunks before it";
      return false;
    case ChunkJob::Outcome::kCutShort:
      result.complete = false;
      result.error = "trace is cut short inside " + where +
                     " (the process was probably killed); results cover the chunks before it";
      return false;
    case ChunkJob::Outcome::kSkipped:
      result.complete = false;
      result.error = "checksum or decompression failed in " + where + "; that chunk was skipped";
      return true;
    case ChunkJob::Outcome::kMalformed:
      result.complete = false;
      result.error = "malformed record in " + where + "; the rest of it was skipped";
      break;
    case ChunkJob::Outcome::kDecoded:
      break;
  }
  job.records.deliver(visitor);
  if (!job.verify_only) ++result.chunks;
  return true;
}

// Closes the trace file however reading ends.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) close(fd);
  }
};

bool selected(const format::ChunkHeader& h, ChunkSelection selection) {
  switch (selection) {
    case ChunkSelection::kAll:
      return true;
    case ChunkSelection::kRecords:
      return h.content != static_cast<uint8_t>(format::ChunkContent::kEvents);
    case ChunkSelection::kEvents:
      return h.content == static_cast<uint8_t>(format::ChunkContent::kEvents);
  }
  return true;
}

// Keeps a few chunks in flight, finding their headers ahead (cheap: one small read each), and
// delivers them in file order. Chunks not selected are only checked against their checksums
// (far cheaper than decompressing and decoding them), so damage anywhere is still reported.
// Stops at `max_chunks`, at the end, or at a damaged header.
void read_chunks(int fd, const std::string& path, uint64_t offset, TraceVisitor& visitor,
                 ChunkSelection selection, uint64_t max_chunks, ReadResult& result) {
  struct stat st {};
  uint64_t file_bytes = fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  Progress progress("memscope-analyze: reading " + path, file_bytes);
  ChunkPipeline pipeline(fd);
  uint64_t index = 0;
  bool more = true;
  for (;;) {
    while (more && index < max_chunks && pipeline.in_flight() < pipeline.capacity()) {
      std::unique_ptr<ChunkJob> job = find_chunk(fd, index++, offset);
      more = job && job->outcome != ChunkJob::Outcome::kBadHeader;
      if (!job) break;
      offset += sizeof(format::ChunkHeader) + job->header.stored_bytes;
      job->verify_only = !selected(job->header, selection);
      pipeline.submit(std::move(job));
    }
    if (pipeline.in_flight() == 0) return;
    std::unique_ptr<ChunkJob> job = pipeline.next();
    if (!deliver(*job, visitor, result)) return;
    progress.update(job->offset + sizeof(format::ChunkHeader) + job->header.stored_bytes);
  }
}

}  // namespace

ReadResult read_trace(const std::string& path, TraceVisitor& visitor, ChunkSelection selection,
                      uint64_t max_chunks) {
  ReadResult result;
  FileDescriptor file{open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    result.error = "cannot open " + path;
    return result;
  }
  format::FileHeader header;
  if (pread(file.fd, &header, sizeof(header), 0) != static_cast<ssize_t>(sizeof(header)) ||
      std::memcmp(header.magic, format::kFileMagic, sizeof(header.magic)) != 0) {
    result.error = path + " is not a memscope trace (bad or missing file header)";
    return result;
  }
  if (header.version < format::kOldestReadableVersion || header.version > format::kVersion) {
    result.error = path + " has trace format version " + std::to_string(header.version) +
                   "; this memscope-analyze reads versions " +
                   std::to_string(format::kOldestReadableVersion) + " to " +
                   std::to_string(format::kVersion);
    return result;
  }
  result.opened = true;
  result.pid = header.pid;
  result.start_monotonic_ns = header.start_monotonic_ns;
  result.start_realtime_ns = header.start_realtime_ns;
  visitor.file_header(header.start_monotonic_ns, header.start_realtime_ns);
  read_chunks(file.fd, path, header.header_bytes, visitor, selection, max_chunks, result);
  return result;
}

}  // namespace memscope::analyzer
