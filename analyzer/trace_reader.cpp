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
#include <utility>

#include "analyzer/progress.hpp"
#include "format/record_reader.hpp"
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

// Room for a chunk's heap events, allocated without being cleared: only the pages that events
// are written to are ever touched (a std::vector resized ahead would clear all of it).
struct EventBuffer {
  std::unique_ptr<HeapEvent[]> data;
  size_t capacity = 0;
  // A buffer of `new_capacity` events holding the first `keep` of this one.
  EventBuffer grown(size_t new_capacity, size_t keep) const {
    EventBuffer b{std::make_unique_for_overwrite<HeapEvent[]>(new_capacity), new_capacity};
    std::copy(data.get(), data.get() + keep, b.data.get());
    return b;
  }
};

// The records of one chunk, decoded on a worker thread and handed to the real visitor later on
// the reading thread, in the order they were decoded.
class ChunkBuffer final : public TraceVisitor {
 public:
  // Inline through the final class: a store per event, where push_back was a call.
  void heap_event(const HeapEvent& e) override {
    if (count_ == events_.capacity) [[unlikely]]
      events_ = events_.grown(std::max<size_t>(64, 2 * count_), count_);
    events_.data[count_++] = e;
  }
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

  // With an eighth more: chunks differ in size a little, and a reused buffer should fit the next.
  void reserve_events(size_t n) {
    if (events_.capacity < n) events_ = events_.grown(n + n / 8, count_);
  }
  // An earlier chunk's buffer, its capacity kept: this chunk's events go into pages already
  // faulted in instead of a fresh allocation the kernel must clear page by page.
  void reuse_events(EventBuffer buffer) {
    events_ = std::move(buffer);
    count_ = 0;
  }
  EventBuffer take_events() {
    count_ = 0;
    return std::exchange(events_, EventBuffer{});
  }
  void deliver(TraceVisitor& visitor) const {
    size_t done = 0;
    for (const Later& l : later_) {
      visitor.heap_events(events_.data.get() + done, l.events_before - done);
      done = l.events_before;
      l.call(visitor);
    }
    visitor.heap_events(events_.data.get() + done, count_ - done);
    visitor.chunk_delivered();
  }

 private:
  struct Later {
    size_t events_before;  // heap events decoded before this record
    std::function<void(TraceVisitor&)> call;
  };
  void later(std::function<void(TraceVisitor&)> call) {
    later_.push_back({count_, std::move(call)});
  }
  EventBuffer events_;
  size_t count_ = 0;  // events_ holds this chunk's first count_
  std::vector<Later> later_;
};

// Decodes the records of one chunk by the schema (format/record_reader.hpp) and hands them to
// the visitor (a ChunkBuffer, whose calls inline: one per heap event). Returns false at the first
// malformed record.
class ChunkDecoder {
 public:
  // `state`: the worker's, reset here; its tables keep their capacity from chunk to chunk instead
  // of growing afresh in each one.
  ChunkDecoder(ChunkBuffer& v, uint16_t version, format::ChunkState& state)
      : visitor_(v), version_(version), state_(state) {
    state_.restart();
  }
  // `streams`: a version 3 events chunk (format::EventStream).
  bool decode(const uint8_t* begin, const uint8_t* end, bool streams);

 private:
  bool decode(format::ChunkStreams& s);
  template <typename R>
  bool read(format::ChunkStreams& s) {
    R record;
    return format::read_record(s, state_, record) && deliver(record);
  }
  bool deliver(const format::ThreadSwitchRecord& r);
  bool deliver(const format::ChunkBaseRecord& r);
  bool deliver(const format::AllocRecord& r);
  bool deliver(const format::FreeRecord& r);
  bool deliver(const format::ReallocRecord& r);
  bool deliver(const format::StackRecord& r);
  bool deliver(const format::WatermarkRecord& r);
  bool deliver(const format::ProcessInfoRecord& r);
  bool deliver(const format::ModuleRecord& r);
  bool deliver(const format::ThreadStartRecord& r);
  bool deliver(const format::ThreadEndRecord& r);
  bool deliver(const format::ThreadNameRecord& r);
  bool deliver(const format::ProcessEndRecord& r);
  bool deliver(const format::RegionRecord& r);
  bool deliver(const format::MetricSampleRecord& r);
  bool deliver(const format::HeapSummaryRecord& r);
  bool deliver(const format::ThreadCpuFrame& r);
  bool deliver(const format::LeakScanFrame& r);
  bool deliver(const format::TraceTruncatedRecord& r);
  bool deliver(const format::HwCountersFrame& r);
  bool deliver(const format::SamplingFrame& r);

  ChunkBuffer& visitor_;
  uint16_t version_;
  format::ChunkState& state_;
  uint32_t tid_ = 0;
};

bool ChunkDecoder::deliver(const format::ThreadSwitchRecord& r) {
  if (r.tid > UINT32_MAX) return false;
  tid_ = static_cast<uint32_t>(r.tid);
  return true;
}

bool ChunkDecoder::deliver(const format::ChunkBaseRecord& r) {
  state_.last_stamp = r.stamp;
  state_.have_base = true;
  return true;
}

bool ChunkDecoder::deliver(const format::AllocRecord& r) {
  visitor_.heap_event({EventKind::kAlloc, r.fn, tid_, r.stamp, r.ptr, r.size, r.stack_id});
  return true;
}

bool ChunkDecoder::deliver(const format::FreeRecord& r) {
  visitor_.heap_event({EventKind::kFree, 0, tid_, r.stamp, r.ptr, 0, 0});
  return true;
}

bool ChunkDecoder::deliver(const format::ReallocRecord& r) {
  visitor_.heap_event({EventKind::kFree, r.fn, tid_, r.stamp, r.old_ptr, 0, 0});
  if (r.new_ptr != 0)
    visitor_.heap_event({EventKind::kAlloc, r.fn, tid_, r.stamp + r.after_minus_before, r.new_ptr,
                         r.size, r.stack_id});
  return true;
}

bool ChunkDecoder::deliver(const format::StackRecord& r) {
  visitor_.stack(r.id, r.frames);
  return true;
}

bool ChunkDecoder::deliver(const format::WatermarkRecord& r) {
  visitor_.watermark(r.stamp);
  return true;
}

bool ChunkDecoder::deliver(const format::ProcessInfoRecord& r) {
  ProcessInfo p;
  p.pid = r.pid;
  p.ppid = r.ppid;
  p.parent_pid = r.parent_pid;
  p.fork_stamp = r.fork_stamp;
  p.exe = r.exe;
  p.argv = split_nul(r.cmdline);
  p.malloc_provider = r.malloc_provider;
  p.stack_depth = r.stack_depth;
  p.ring_slots = r.ring_slots;
  p.drop_when_full = r.drop_when_full != 0;
  p.sidecar_tid = r.sidecar_tid;
  visitor_.process_info(p);
  return true;
}

bool ChunkDecoder::deliver(const format::ModuleRecord& r) {
  visitor_.module({r.stamp, r.loaded != 0, r.base, r.size, r.path, r.build_id});
  return true;
}

bool ChunkDecoder::deliver(const format::ThreadStartRecord& r) {
  ThreadInfo t;
  t.start_stamp = r.stamp;
  t.tid = r.tid;
  t.parent_tid = r.parent_tid;
  t.name = r.name;
  visitor_.thread_start(t);
  return true;
}

bool ChunkDecoder::deliver(const format::ThreadEndRecord& r) {
  ThreadInfo t;
  t.end_stamp = r.stamp;
  t.tid = r.tid;
  t.name = r.name.c_str();  // older agents wrote a fixed 16-byte field
  t.ring_waits = r.ring_waits;
  t.ring_wait_ns = r.ring_wait_ns;
  t.dropped_events = r.dropped_events;
  visitor_.thread_end(t);
  return true;
}

bool ChunkDecoder::deliver(const format::ThreadNameRecord& r) {
  visitor_.thread_name(r.tid, r.stamp, r.name);
  return true;
}

bool ChunkDecoder::deliver(const format::ProcessEndRecord& r) {
  visitor_.process_end(
      {r.stamp, static_cast<uint8_t>(r.reason), r.detail, r.dropped_events, r.ring_waits});
  return true;
}

bool ChunkDecoder::deliver(const format::RegionRecord& r) {
  visitor_.region(r.stamp, r.id, r.begin != 0);
  return true;
}

bool ChunkDecoder::deliver(const format::MetricSampleRecord& r) {
  visitor_.metric_sample(r.stamp, r.body);
  return true;
}

bool ChunkDecoder::deliver(const format::HeapSummaryRecord& r) {
  visitor_.heap_summary(r.body);
  return true;
}

bool ChunkDecoder::deliver(const format::ThreadCpuFrame& r) {
  visitor_.thread_cpu(r.cpu);
  return true;
}

bool ChunkDecoder::deliver(const format::LeakScanFrame& r) {
  visitor_.leak_scan(r.body);
  return true;
}

bool ChunkDecoder::deliver(const format::TraceTruncatedRecord& r) {
  visitor_.trace_truncated(r.stamp, r.limit_bytes);
  return true;
}

bool ChunkDecoder::deliver(const format::HwCountersFrame& r) {
  visitor_.hw_counters(r.body);
  return true;
}

bool ChunkDecoder::deliver(const format::SamplingFrame& r) {
  visitor_.sampling(r.body);
  return true;
}

// A framed type this reader does not know (a newer writer's record) is stepped over by design.
bool skip_framed(Cursor& c) {
  uint64_t n;
  return c.varint(n) && c.skip(n);
}

bool ChunkDecoder::decode(const uint8_t* begin, const uint8_t* end, bool streams) {
  Cursor whole(begin, end);
  if (!streams) {
    format::ChunkStreams one(whole);
    return decode(one);
  }
  Cursor parts[format::kEventStreams];
  if (!format::split_streams(begin, end, parts)) return false;
  format::ChunkStreams split(parts);
  return decode(split) && split.at_end();  // no stream holds more than its records read
}

bool ChunkDecoder::decode(format::ChunkStreams& c) {
  Cursor& types = *c.at[format::kTypeStream];
  while (!types.at_end()) {
    uint8_t type;
    if (!types.u8(type)) return false;
    bool ok;
    switch (static_cast<RecordType>(type)) {
      case RecordType::kThreadSwitch:
        ok = read<format::ThreadSwitchRecord>(c);
        break;
      case RecordType::kAlloc:
        ok = version_ >= 3 ? read<format::AllocRecord>(c) : read<format::AllocRecordV2>(c);
        break;
      case RecordType::kFree:
        ok = version_ >= 3 ? read<format::FreeRecord>(c) : read<format::FreeRecordV2>(c);
        break;
      case RecordType::kRealloc:
        ok = version_ >= 3 ? read<format::ReallocRecord>(c) : read<format::ReallocRecordV2>(c);
        break;
      case RecordType::kStack:
        ok = read<format::StackRecord>(c);
        break;
      case RecordType::kWatermark:
        ok = read<format::WatermarkRecord>(c);
        break;
      case RecordType::kChunkBase:
        ok = read<format::ChunkBaseRecord>(c);
        break;
      case RecordType::kProcessInfo:
        ok = read<format::ProcessInfoRecord>(c);
        break;
      case RecordType::kModule:
        ok = read<format::ModuleRecord>(c);
        break;
      case RecordType::kThreadStart:
        ok = read<format::ThreadStartRecord>(c);
        break;
      case RecordType::kThreadEnd:
        ok = read<format::ThreadEndRecord>(c);
        break;
      case RecordType::kThreadName:
        ok = read<format::ThreadNameRecord>(c);
        break;
      case RecordType::kProcessEnd:
        ok = read<format::ProcessEndRecord>(c);
        break;
      case RecordType::kRegion:
        ok = read<format::RegionRecord>(c);
        break;
      case RecordType::kMetricSample:
        ok = read<format::MetricSampleRecord>(c);
        break;
      case RecordType::kHeapSummary:
        ok = read<format::HeapSummaryRecord>(c);
        break;
      case RecordType::kThreadCpu:
        ok = read<format::ThreadCpuFrame>(c);
        break;
      case RecordType::kLeakScan:
        ok = read<format::LeakScanFrame>(c);
        break;
      case RecordType::kTraceTruncated:
        ok = read<format::TraceTruncatedRecord>(c);
        break;
      case RecordType::kHwCounters:
        ok = read<format::HwCountersFrame>(c);
        break;
      case RecordType::kSampling:
        ok = read<format::SamplingFrame>(c);
        break;
      default:
        ok = type >= static_cast<uint8_t>(RecordType::kFirstSkippableType) &&
             skip_framed(*c.at[format::kFieldStream]);
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

// One chunk on its way through the pipeline: found by the reading thread, read, checked,
// decompressed and decoded by a worker, delivered by the reading thread.
struct ChunkJob {
  enum class Outcome { kDecoded, kMalformed, kSkipped, kCutShort, kBadHeader };
  uint64_t index = 0;
  uint64_t offset = 0;                  // of the chunk header
  uint16_t version = format::kVersion;  // the trace's
  format::ChunkHeader header{};
  bool verify_only = false;  // not selected: its checksum is checked, nothing is decoded
  Outcome outcome = Outcome::kDecoded;
  ChunkBuffer records;
  std::exception_ptr failure;  // out of memory on a worker: rethrown where the reader runs
  bool done = false;
};

// Bytes of records per heap event in real traces, give or take: sizes the event buffer once.
constexpr size_t kBytesPerEvent = 5;

void decode_chunk(int fd, ChunkJob& job, std::vector<uint8_t>& stored, std::vector<uint8_t>& raw,
                  format::ChunkState& state) {
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
  ChunkDecoder decoder(job.records, job.version, state);
  bool streams =
      job.version >= 3 && h.content == static_cast<uint8_t>(format::ChunkContent::kEvents);
  if (!decoder.decode(raw.data(), raw.data() + raw.size(), streams))
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
  // A delivered chunk's event buffer, for a chunk not yet decoded. Every buffer belongs to a job
  // in flight or waits here, so there are never more than capacity() + 1 of them.
  void recycle(ChunkJob& job) {
    std::lock_guard lock(mutex_);
    spare_events_.push_back(job.records.take_events());
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
    format::ChunkState state;
    std::unique_lock lock(mutex_);
    for (;;) {
      work_ready_.wait(lock, [this] { return stopping_ || claimed_ < jobs_.size(); });
      if (stopping_) return;
      ChunkJob& job = *jobs_[claimed_++];
      if (!spare_events_.empty()) {
        job.records.reuse_events(std::move(spare_events_.back()));
        spare_events_.pop_back();
      }
      lock.unlock();
      try {
        if (job.outcome != ChunkJob::Outcome::kBadHeader)
          decode_chunk(fd_, job, stored, raw, state);
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
  std::vector<EventBuffer> spare_events_;
  size_t claimed_ = 0;  // jobs_[0, claimed_) went to a worker
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
void read_chunks(int fd, const std::string& path, uint16_t version, uint64_t offset,
                 TraceVisitor& visitor, ChunkSelection selection, uint64_t max_chunks,
                 ReadResult& result) {
  struct stat st {};
  uint64_t file_bytes = fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  Progress progress("memscope-analyze: reading " + path, file_bytes);
  ChunkPipeline pipeline(fd);
  uint64_t index = 0;
  bool more = true;
  for (;;) {
    while (more && index < max_chunks && pipeline.in_flight() < pipeline.capacity()) {
      std::unique_ptr<ChunkJob> job = find_chunk(fd, index++, offset);
      if (job) job->version = version;
      more = job && job->outcome != ChunkJob::Outcome::kBadHeader;
      if (!job) break;
      offset += sizeof(format::ChunkHeader) + job->header.stored_bytes;
      job->verify_only = !selected(job->header, selection);
      pipeline.submit(std::move(job));
    }
    if (pipeline.in_flight() == 0) return;
    std::unique_ptr<ChunkJob> job = pipeline.next();
    if (!deliver(*job, visitor, result)) return;
    pipeline.recycle(*job);
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
  read_chunks(file.fd, path, header.version, header.header_bytes, visitor, selection, max_chunks,
              result);
  return result;
}

}  // namespace memscope::analyzer
