// Hessian accumulation for GPTQ: H = (2/n) sum_t x_t x_t^T over calibration
// inputs, streamed in batches (BLAS syrk into a float64 accumulator).
#pragma once
#include <cstdint>

#include "mrgptq/matrix.hpp"

namespace mrgptq {

class HessianAccumulator {
 public:
  explicit HessianAccumulator(int64_t dim);
  // x: [tokens, dim] row-major.
  void add(const float* x, int64_t tokens);
  int64_t dim() const { return dim_; }
  int64_t tokens() const { return tokens_; }
  // (2/n) X^T X, both triangles filled. Throws Error if no tokens were added.
  MatrixD finalize() const;

 private:
  int64_t dim_;
  int64_t tokens_ = 0;
  MatrixD sum_;  // lower triangle of X^T X
};

}  // namespace mrgptq
