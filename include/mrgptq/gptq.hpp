// GPTQ: quantize the columns of W one at a time, in a chosen order, pushing
// each column's rounding error onto the columns not yet quantized through the
// upper Cholesky factor of H^-1 (Frantar et al., 2022).
#pragma once
#include <cstdint>
#include <functional>
#include <string_view>

#include "mrgptq/formats.hpp"
#include "mrgptq/matrix.hpp"

namespace mrgptq {

struct GptqOptions {
  double damp = 0.01;       // lambda: H += lambda * mean(diag H) * I
  int block_size = 128;     // lazy-batch width of the trailing update
  bool act_order = true;    // columns by descending diag(H), static groups
  int max_damp_tries = 6;   // if the Cholesky fails, damp *= 10, at most this many times
  ScaleRule rule = ScaleRule::Floor;
  float global_scale = 0.f;  // NVFP4: 0 = from the weight's amax
  std::function<void(std::string_view)> warn;  // told when damping had to grow
};

struct GptqResult {
  QuantizedTensor q;      // same basis and padding as W
  double damp_used = 0;   // the lambda that succeeded
  int damp_increases = 0;
};

// W: [rows, cols] with cols already padded to a multiple of the group;
// H: [cols, cols] symmetric positive semi-definite. Dead columns (H_ii == 0)
// get H_ii = 1 and W[:, i] = 0 as in GPTQ. Throws Error if no damping works.
GptqResult gptq_quantize(const MatrixF& W, const MatrixD& H, Format f, const GptqOptions& opt);

}  // namespace mrgptq
