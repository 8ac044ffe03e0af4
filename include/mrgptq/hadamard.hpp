// Block Hadamard rotations.
//
// R = diag(D) * blockdiag(H_b, ..., H_b), with H_b the normalised Sylvester
// Hadamard matrix (symmetric, orthogonal) and D optional random +-1 signs.
// Weights rotate as W -> W R and activations as x -> R^T x, so that
// W x = (W R)(R^T x). Both amount to the same per-row operation: multiply by
// the signs, then a fast Walsh-Hadamard transform on each block. Hessians
// rotate as H -> R^T H R. Without signs R is symmetric and these read
// W R, R x and R H R.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "mrgptq/matrix.hpp"

namespace mrgptq {

// In-place normalised FWHT (scaled by 1/sqrt(block)) of every consecutive block
// of `block` values in x[0, n). block is a power of two dividing n.
void fwht_blocks(float* x, int64_t n, int block);
void fwht_blocks(double* x, int64_t n, int block);

struct Rotation {
  int block = 0;             // 0: identity
  int64_t dim = 0;           // rotated (padded) dimension
  std::vector<int8_t> signs;  // empty, or dim entries of +-1

  bool identity() const { return block == 0; }

  // Throws Error unless block is a power of two dividing dim. With a seed,
  // signs[i] = -1 when bit 63 of the i-th output of std::mt19937_64(seed) is
  // set, else +1 (exporters in other languages must reproduce this).
  static Rotation make(int64_t dim, int block, std::optional<uint64_t> sign_seed = {});

  // Each of `rows` rows of length dim: x -> R^T x (equivalently, a weight row w -> w R).
  void apply_rows(float* x, int64_t rows) const;
  void apply_rows(double* x, int64_t rows) const;
  // The inverse: x -> R x (a rotated weight row back to the original basis).
  void unapply_rows(float* x, int64_t rows) const;
  // H (dim x dim, symmetric) -> R^T H R, in place.
  void apply_hessian(MatrixD& H) const;
};

}  // namespace mrgptq
