// A dense row-major matrix: the one container the library passes around.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mrgptq {

template <class T>
struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<T> data;

  Matrix() = default;
  Matrix(int64_t r, int64_t c, T fill = T{})
      : rows(r), cols(c), data(static_cast<size_t>(r * c), fill) {}

  T* row(int64_t i) { return data.data() + i * cols; }
  const T* row(int64_t i) const { return data.data() + i * cols; }
  T& operator()(int64_t i, int64_t j) { return data[static_cast<size_t>(i * cols + j)]; }
  const T& operator()(int64_t i, int64_t j) const { return data[static_cast<size_t>(i * cols + j)]; }
  int64_t size() const { return rows * cols; }
  bool empty() const { return data.empty(); }
};

using MatrixF = Matrix<float>;
using MatrixD = Matrix<double>;

}  // namespace mrgptq
