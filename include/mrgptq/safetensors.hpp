// safetensors files: a memory-mapped, validating reader and an atomic writer.
// Layout: u64 little-endian header length N, N bytes of JSON
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the data; offsets are relative to the end of the header.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mrgptq/matrix.hpp"

namespace mrgptq {

enum class DType : uint8_t { BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64, F8_E4M3, F8_E5M2 };
size_t dtype_size(DType t);
const char* dtype_name(DType t);       // "F32", "BF16", "F8_E4M3", ...
DType parse_dtype(std::string_view s);  // throws Error

struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  int64_t numel() const;
};

class SafetensorsReader {
 public:
  // Memory-maps and validates the file; throws Error("<path>: <problem>").
  explicit SafetensorsReader(const std::string& path);
  // Parses an in-memory image (used by the fuzzer and tests); `where` names it in errors.
  SafetensorsReader(std::span<const uint8_t> bytes, std::string where);
  ~SafetensorsReader();
  SafetensorsReader(const SafetensorsReader&) = delete;
  SafetensorsReader& operator=(const SafetensorsReader&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* find(std::string_view name) const;
  const TensorView& at(std::string_view name) const;  // throws Error naming file and tensor
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Elements converted to float32 (F32, F16, BF16, F64).
  std::vector<float> to_f32(const TensorView& t) const;
  // A 2-D tensor as float32; throws Error on another rank or dtype.
  MatrixF matrix_f32(std::string_view name) const;

 private:
  void parse(std::span<const uint8_t> bytes);
  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::vector<uint8_t> owned_;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

class SafetensorsWriter {
 public:
  void add(std::string name, DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes);
  void add_f32(std::string name, std::vector<int64_t> shape, const float* data);
  void add_bf16(std::string name, std::vector<int64_t> shape, const float* data);  // RNE
  void set_metadata(std::string key, std::string value);
  // Writes `path` atomically (a temporary file in the same folder, then rename).
  void write(const std::string& path) const;

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

// bf16 / f16 <-> f32 conversions (round to nearest even).
float bf16_to_f32(uint16_t b);
uint16_t f32_to_bf16(float f);
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

}  // namespace mrgptq
