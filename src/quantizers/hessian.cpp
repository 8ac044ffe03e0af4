// Streaming Hessian H = (2/n) sum_t x_t x_t^T: each batch through BLAS ssyrk
// (float32, the fast path), added into a float64 sum so that many batches do
// not lose precision.
#include "mrgptq/hessian.hpp"

#include <cblas.h>

#include "mrgptq/error.hpp"

namespace mrgptq {

HessianAccumulator::HessianAccumulator(int64_t dim) : dim_(dim), sum_(dim, dim) {
  if (dim <= 0) throw Error("Hessian: dimension must be positive");
}

void HessianAccumulator::add(const float* x, int64_t tokens) {
  if (tokens <= 0) return;
  const int64_t batch = 2048;
  std::vector<float> part(size_t(dim_ * dim_));
  for (int64_t t0 = 0; t0 < tokens; t0 += batch) {
    const int64_t n = std::min(batch, tokens - t0);
    // part (lower triangle) = X^T X for this batch; X is [n, dim] row-major.
    cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, int(dim_), int(n), 1.f, x + t0 * dim_,
                int(dim_), 0.f, part.data(), int(dim_));
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t i = 0; i < dim_; ++i)
      for (int64_t j = 0; j <= i; ++j) sum_(i, j) += double(part[size_t(i * dim_ + j)]);
  }
  tokens_ += tokens;
}

MatrixD HessianAccumulator::finalize() const {
  if (tokens_ == 0) throw Error("Hessian: no calibration tokens were added");
  MatrixD H(dim_, dim_);
  const double s = 2.0 / double(tokens_);
  for (int64_t i = 0; i < dim_; ++i)
    for (int64_t j = 0; j <= i; ++j) H(i, j) = H(j, i) = s * sum_(i, j);
  return H;
}

}  // namespace mrgptq
