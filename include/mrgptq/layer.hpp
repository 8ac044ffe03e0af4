// The layer-level API: quantize one linear weight [out, in] with a method.
//
//   rtn      round-to-nearest with the format's scale rule
//   rtn-had  block Hadamard rotation, then RTN
//   gptq     GPTQ (Hessian required)
//   mr-gptq  block Hadamard with block = group, GPTQ on the rotated weight and
//            Hessian, MSE scales in the format's own grid, static act-order
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "mrgptq/formats.hpp"
#include "mrgptq/hadamard.hpp"
#include "mrgptq/matrix.hpp"

namespace mrgptq {

enum class Method : uint8_t { Rtn, RtnHad, Gptq, MrGptq };
Method parse_method(std::string_view name);  // throws Error
const char* to_string(Method m);
inline bool method_rotates(Method m) { return m == Method::RtnHad || m == Method::MrGptq; }
inline bool method_needs_hessian(Method m) { return m == Method::Gptq || m == Method::MrGptq; }

struct LayerConfig {
  Format format = Format::MXFP4;
  Method method = Method::MrGptq;
  std::optional<ScaleRule> scale;          // default: mse for mr-gptq, else the format's
  int rotation_block = 0;                  // 0: the format's group (rotating methods)
  std::optional<uint64_t> rotation_seed;   // random +-1 signs when set
  double damp = 0.01;
  int gptq_block = 128;
  std::optional<bool> act_order;           // default: on for gptq and mr-gptq
  float global_scale = 0.f;                // NVFP4: 0 = from the (rotated) weight's amax
  std::string name = "weight";             // named in errors
  std::function<void(std::string_view)> warn;
};

struct LayerResult {
  QuantizedTensor q;   // codes and scales in the rotated, padded basis
  Rotation rotation;   // identity for rtn / gptq
  MatrixF dequant;     // [rows, cols] in the original basis
  double damp_used = 0;
  int damp_increases = 0;
};

// W: [rows, cols]; H: [cols, cols] or nullptr (required by gptq / mr-gptq).
LayerResult quantize_layer(const MatrixF& W, const MatrixD* H, const LayerConfig& cfg);

// Inverse: codes + rotation -> the [rows, cols] weight in the original basis.
MatrixF dequantize_layer(const QuantizedTensor& q, const Rotation& rot);

// ||A - B||_F / ||A||_F and tr(D H D^T) / tr(A H A^T) with D = A - B.
double relative_error(const MatrixF& A, const MatrixF& B);
double hessian_relative_error(const MatrixF& A, const MatrixF& B, const MatrixD& H);

}  // namespace mrgptq
