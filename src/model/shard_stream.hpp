// A safetensors file written front to back without holding its tensors in
// memory: every name, dtype and shape is declared up front, so the header can
// be written first, then the tensors' bytes are appended in declaration order,
// in pieces of any size. Used for synthetic checkpoints (make-model) and for
// the vocabulary-sized tensors of an export.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "mrgptq/safetensors.hpp"

namespace mrgptq {

struct ShardEntry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  int64_t nbytes() const;
};

class StreamingShardWriter {
 public:
  // Creates `path` and writes the header; throws Error naming the file.
  StreamingShardWriter(const std::string& path, std::vector<ShardEntry> entries,
                       const std::vector<std::pair<std::string, std::string>>& metadata = {});
  // Appends the next bytes of data (tensors in declaration order).
  void append(const void* data, int64_t nbytes);
  // Checks that exactly the declared bytes were written; flushes and closes.
  void close();

 private:
  std::string path_;
  std::ofstream f_;
  int64_t expected_ = 0, written_ = 0;
};

}  // namespace mrgptq
