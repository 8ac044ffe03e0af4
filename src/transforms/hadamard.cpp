// Block Hadamard rotations (see include/mrgptq/hadamard.hpp).
//
// The fast Walsh-Hadamard transform of a block of b values: for h = 1, 2, 4,
// ..., b/2, every pair (i, i+h) inside each 2h-chunk becomes (a+c, a-c); then
// all values are scaled by 1/sqrt(b) (unnormalised butterflies first, one
// scale at the end). The CUDA quantizer repeats this order for blocks of 32
// (bit-identical rotated values); for 16, 64 and 128 it computes the same sums
// partly on the tensor cores (src/kernels/act_quant.cu), equal to these but
// where a block's values span more than ~2^12 and a sum rounds.
#include "mrgptq/hadamard.hpp"

#include <cmath>
#include <random>
#include <string>

#include "mrgptq/error.hpp"

namespace mrgptq {
namespace {

// Butterfly stages h = 1, 2, 4 on one chunk of 8 values, in registers. The
// high element of a pair becomes (-high) + low, which equals low - high
// exactly, so the results are bit-identical to the plain butterfly order; the
// constant indices let the compiler use shuffles instead of stride-h loops,
// which do not vectorise for h < 8.
template <class T>
inline void butterflies_of_8(T* v) {
  T a[8], b[8];
  for (int k = 0; k < 8; ++k) a[k] = v[k];
  for (int k = 0; k < 8; ++k) b[k] = ((k & 1) ? -a[k] : a[k]) + a[k ^ 1];
  for (int k = 0; k < 8; ++k) a[k] = ((k & 2) ? -b[k] : b[k]) + b[k ^ 2];
  for (int k = 0; k < 8; ++k) v[k] = ((k & 4) ? -a[k] : a[k]) + a[k ^ 4];
}

template <class T>
void fwht(T* x, int64_t n, int block) {
  const T scale = T(1) / std::sqrt(T(block));
  int first_h = 1;
  if (block >= 8) {
    for (int64_t i = 0; i < n; i += 8) butterflies_of_8(x + i);  // all blocks in one pass
    first_h = 8;
  }
  for (int64_t base = 0; base < n; base += block) {
    T* v = x + base;
    for (int h = first_h; h < block; h *= 2)
      for (int i = 0; i < block; i += 2 * h)
        for (int j = i; j < i + h; ++j) {  // contiguous spans: vectorises for h >= 8
          const T a = v[j], c = v[j + h];
          v[j] = a + c;
          v[j + h] = a - c;
        }
    for (int i = 0; i < block; ++i) v[i] *= scale;
  }
}

bool power_of_two(int64_t b) {
  return b > 0 && (b & (b - 1)) == 0;
}

template <class T>
void apply_signs(T* x, int64_t dim, const std::vector<int8_t>& signs) {
  if (signs.empty()) return;
  for (int64_t i = 0; i < dim; ++i) x[i] *= T(signs[size_t(i)]);
}

}  // namespace

void fwht_blocks(float* x, int64_t n, int block) {
  fwht(x, n, block);
}
void fwht_blocks(double* x, int64_t n, int block) {
  fwht(x, n, block);
}

Rotation Rotation::make(int64_t dim, int block, std::optional<uint64_t> sign_seed) {
  if (!power_of_two(block) || dim <= 0 || dim % block)
    throw Error("rotation block " + std::to_string(block) +
                " must be a power of two dividing the dimension " + std::to_string(dim));
  Rotation r;
  r.block = block;
  r.dim = dim;
  if (sign_seed) {
    // Signs: bit 63 of successive std::mt19937_64(seed) outputs, 1 -> -1.
    std::mt19937_64 gen(*sign_seed);
    r.signs.resize(size_t(dim));
    for (auto& s : r.signs) s = (gen() >> 63) ? int8_t(-1) : int8_t(1);
  }
  return r;
}

void Rotation::apply_rows(float* x, int64_t rows) const {
  if (identity()) return;
#pragma omp parallel for schedule(static) if (rows * dim > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    apply_signs(x + r * dim, dim, signs);
    fwht(x + r * dim, dim, block);
  }
}

void Rotation::apply_rows(double* x, int64_t rows) const {
  if (identity()) return;
#pragma omp parallel for schedule(static) if (rows * dim > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    apply_signs(x + r * dim, dim, signs);
    fwht(x + r * dim, dim, block);
  }
}

void Rotation::unapply_rows(float* x, int64_t rows) const {
  if (identity()) return;
    // H is symmetric and orthogonal (its own inverse), so R^{-1} = H D.
#pragma omp parallel for schedule(static) if (rows * dim > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    fwht(x + r * dim, dim, block);
    apply_signs(x + r * dim, dim, signs);
  }
}

void Rotation::apply_hessian(MatrixD& H) const {
  if (identity()) return;
  if (H.rows != dim || H.cols != dim)
    throw Error("rotation: Hessian size does not match the rotation");
  // R^T H R: rotate every row (H R, as rows of H are row vectors), then every
  // column, which by symmetry of the result is the same as rotating rows of the
  // transpose.
  apply_rows(H.data.data(), dim);
  for (int64_t i = 0; i < dim; ++i)
    for (int64_t j = i + 1; j < dim; ++j) std::swap(H(i, j), H(j, i));
  apply_rows(H.data.data(), dim);
}

}  // namespace mrgptq
