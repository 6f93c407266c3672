// trace_to_raw IN OUT: rewrites a memscope trace with every chunk stored uncompressed
// (codec 0, checksum recomputed), so the fuzzer's mutations land in records rather than in
// zstd frames. Used by scripts/fuzz to add raw copies of the real traces to the seed corpus.
#include <xxhash.h>
#include <zstd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

#include "format/trace_format.hpp"

namespace fmt = memscope::format;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: trace_to_raw IN OUT\n";
    return 1;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (bytes.size() < sizeof(fmt::FileHeader)) {
    std::cerr << argv[1] << ": too short\n";
    return 1;
  }
  fmt::FileHeader header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  std::vector<uint8_t> out(bytes.begin(), bytes.begin() + header.header_bytes);
  size_t pos = header.header_bytes;
  while (pos + sizeof(fmt::ChunkHeader) <= bytes.size()) {
    fmt::ChunkHeader chunk;
    std::memcpy(&chunk, bytes.data() + pos, sizeof(chunk));
    size_t payload = pos + sizeof(chunk);
    if (chunk.stored_bytes > bytes.size() - payload) break;
    size_t next = payload + chunk.stored_bytes;
    std::vector<uint8_t> raw(chunk.raw_bytes);
    if (chunk.codec == static_cast<uint8_t>(fmt::Codec::kZstd)) {
      size_t n =
          ZSTD_decompress(raw.data(), raw.size(), bytes.data() + payload, chunk.stored_bytes);
      if (ZSTD_isError(n) || n != raw.size()) break;
    } else {
      raw.assign(bytes.begin() + static_cast<long>(payload),
                 bytes.begin() + static_cast<long>(next));
    }
    chunk.codec = static_cast<uint8_t>(fmt::Codec::kRaw);
    chunk.stored_bytes = chunk.raw_bytes = static_cast<uint32_t>(raw.size());
    chunk.checksum = XXH64(raw.data(), raw.size(), chunk.sequence);
    const auto* h = reinterpret_cast<const uint8_t*>(&chunk);
    out.insert(out.end(), h, h + sizeof(chunk));
    out.insert(out.end(), raw.begin(), raw.end());
    pos = next;
  }
  std::ofstream o(argv[2], std::ios::binary);
  o.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
  return o ? 0 : 1;
}
