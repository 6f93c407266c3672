// See hw_sampler.hpp.
#include "agent/hw_sampler.hpp"

#include <unistd.h>

namespace memscope::agent {
namespace {

constexpr uint64_t kReadIntervalNs = 1'000'000'000ull;

}  // namespace

// The process's counters go on the main thread (its tid is the pid): threads it creates from now
// on inherit them. The sidecar thread was created before, so its own work is not counted.
void HwSampler::start(TraceWriter& writer, uint64_t now) {
  if (started_) return;
  started_ = true;
  counters_.open_process(getpid());
  record_.stamp = last_ns_ = now;
  record_.available = counters_.available() ? 1 : 0;
  record_.user_only = counters_.user_only() ? 1 : 0;
  record_.reason = counters_.reason();
  counters_.read_all(record_.groups);
  write(writer);
  record_.reason.clear();  // said once
}

void HwSampler::thread_started(pid_t tid) {
  counters_.open_thread(tid);
}

void HwSampler::thread_ended(TraceWriter& writer, pid_t tid, uint64_t now) {
  if (!counters_.counts_thread(tid)) return;
  record_.stamp = now;
  record_.groups.resize(1);
  counters_.read_thread(tid, record_.groups[0]);
  counters_.close_thread(tid);
  write(writer);
}

void HwSampler::tick(TraceWriter& writer, uint64_t now, bool force) {
  if (!started_ || !counters_.available() || (!force && now - last_ns_ < kReadIntervalNs)) return;
  last_ns_ = record_.stamp = now;
  counters_.read_all(record_.groups);
  write(writer);
}

void HwSampler::write(TraceWriter& writer) {
  body_.clear();
  format::encode_hw_counters(record_, body_);
  writer.write(format::HwCountersFrame{std::string(body_.begin(), body_.end())});
}

}  // namespace memscope::agent
