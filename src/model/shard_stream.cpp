// Streaming safetensors writer (see shard_stream.hpp).
#include "shard_stream.hpp"

#include <nlohmann/json.hpp>

#include "mrgptq/error.hpp"

namespace mrgptq {

int64_t ShardEntry::nbytes() const {
  int64_t n = int64_t(dtype_size(dtype));
  for (int64_t d : shape) n *= d;
  return n;
}

StreamingShardWriter::StreamingShardWriter(
    const std::string& path, std::vector<ShardEntry> entries,
    const std::vector<std::pair<std::string, std::string>>& metadata)
    : path_(path) {
  nlohmann::json h = nlohmann::json::object();
  for (const ShardEntry& e : entries) {
    const int64_t b = e.nbytes();
    h[e.name] = {{"dtype", dtype_name(e.dtype)},
                 {"shape", e.shape},
                 {"data_offsets", {expected_, expected_ + b}}};
    expected_ += b;
  }
  if (!metadata.empty()) {
    nlohmann::json m = nlohmann::json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    h["__metadata__"] = m;
  }
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // data 8-byte aligned, as HF writes it
  f_.open(path, std::ios::binary);
  if (!f_) throw Error(path + ": cannot create");
  uint8_t le[8];
  for (int i = 0; i < 8; ++i) le[i] = uint8_t(uint64_t(header.size()) >> (8 * i));
  f_.write(reinterpret_cast<const char*>(le), 8);
  f_.write(header.data(), std::streamsize(header.size()));
}

void StreamingShardWriter::append(const void* data, int64_t nbytes) {
  if (written_ + nbytes > expected_) throw Error(path_ + ": more data than the header declares");
  f_.write(static_cast<const char*>(data), std::streamsize(nbytes));
  written_ += nbytes;
}

void StreamingShardWriter::close() {
  if (written_ != expected_) throw Error(path_ + ": less data than the header declares");
  f_.flush();
  if (!f_) throw Error(path_ + ": write failed (disk full?)");
  f_.close();
}

}  // namespace mrgptq
