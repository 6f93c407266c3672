// libFuzzer target for the trace reader and memscope-analyze's processing: each input is
// written as a trace file and analysed the way memscope-analyze does it (session, heap
// report, text report, JSON report). A second pass analyses a copy whose chunk checksums are
// recomputed, so mutations reach the record decoder and the model instead of stopping at the
// checksum. Built by tests/fuzz/CMakeLists.txt with -fsanitize=fuzzer,address,undefined.
#include <unistd.h>
#include <xxhash.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "analyzer/analysis_report.hpp"
#include "analyzer/report_json.hpp"
#include "analyzer/report_text.hpp"
#include "analyzer/session.hpp"
#include "analyzer/symbolizer.hpp"
#include "format/trace_format.hpp"

namespace {

namespace fs = std::filesystem;
namespace fmt = memscope::format;

std::string trace_path() {
  static const std::string path = [] {
    const char* base = fs::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string dir = std::string(base) + "/memscope-fuzz." + std::to_string(getpid());
    fs::create_directories(dir);
    return dir + "/memscope.1.mst";
  }();
  return path;
}

void analyze_bytes(const uint8_t* data, size_t size) {
  const std::string& path = trace_path();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  memscope::analyzer::Session session = memscope::analyzer::analyze({path});
  memscope::analyzer::Symbolizer symbolizer(false);
  memscope::analyzer::AnalysisReport report = memscope::analyzer::build_analysis_report(
      session, symbolizer, memscope::analyzer::SuppressionList::builtin());
  std::ostringstream text;
  memscope::analyzer::text_report(report, text, 5);
  // Both documents must be valid JSON, whatever the trace held.
  for (auto budget :
       {std::optional<memscope::analyzer::SiteBudget>(),
        std::optional<memscope::analyzer::SiteBudget>(memscope::analyzer::SiteBudget{})}) {
    std::ostringstream json;
    memscope::analyzer::write_json_report(report, json, budget);
    if (nlohmann::json::parse(json.str(), nullptr, false).is_discarded()) std::abort();
  }
  if (text.str().size() > (size_t{1} << 40)) std::abort();
}

// Recomputes every chunk's checksum (XXH64 of the stored payload seeded with its sequence).
// Returns false when there is no chunk to fix.
bool fix_checksums(std::vector<uint8_t>& bytes) {
  if (bytes.size() < sizeof(fmt::FileHeader)) return false;
  fmt::FileHeader header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  size_t pos = header.header_bytes;
  bool fixed = false;
  while (pos + sizeof(fmt::ChunkHeader) <= bytes.size()) {
    fmt::ChunkHeader chunk;
    std::memcpy(&chunk, bytes.data() + pos, sizeof(chunk));
    size_t payload = pos + sizeof(chunk);
    if (chunk.stored_bytes > bytes.size() - payload) break;
    chunk.checksum = XXH64(bytes.data() + payload, chunk.stored_bytes, chunk.sequence);
    std::memcpy(bytes.data() + pos, &chunk, sizeof(chunk));
    fixed = true;
    pos = payload + chunk.stored_bytes;
  }
  return fixed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  analyze_bytes(data, size);
  std::vector<uint8_t> copy(data, data + size);
  if (fix_checksums(copy) && std::memcmp(copy.data(), data, size) != 0)
    analyze_bytes(copy.data(), copy.size());
  return 0;
}
