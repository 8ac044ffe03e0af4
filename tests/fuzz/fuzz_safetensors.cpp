// fuzz-sources: src/io/safetensors.cpp src/io/half.cpp
// libFuzzer target: the safetensors header parser and validator. Any input must
// either parse into tensors that lie inside the buffer or throw mrgptq::Error;
// crashes, leaks and out-of-bounds reads (AddressSanitizer) are bugs.
#include <cstddef>
#include <cstdint>
#include <span>

#include "mrgptq/error.hpp"
#include "mrgptq/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    mrgptq::SafetensorsReader r(std::span<const uint8_t>(data, size), "fuzz");
    // Touch every accepted tensor: its bytes must be readable, and float
    // dtypes must convert without reading past the view.
    volatile uint8_t sink = 0;
    for (const auto& t : r.tensors()) {
      if (t.nbytes) sink = sink ^ t.data[0] ^ t.data[t.nbytes - 1];
      const auto dt = t.dtype;
      if (dt == mrgptq::DType::F32 || dt == mrgptq::DType::F16 || dt == mrgptq::DType::BF16 ||
          dt == mrgptq::DType::F64) {
        if (r.to_f32(t).size() != size_t(t.numel())) __builtin_trap();
      }
      if (r.find(t.name) == nullptr) __builtin_trap();
    }
    (void)r.metadata().size();
  } catch (const mrgptq::Error&) {
    // Rejected with a message: the expected outcome for most inputs.
  }
  return 0;
}
