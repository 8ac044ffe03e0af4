// FP4 microscaling formats: the scalar codecs (E2M1, E8M0, E4M3), the table of
// block formats (MXFP4, NVFP4), the scale rules, round-to-nearest group
// quantization and the packed layout shared with compressed-tensors.
//
// Conventions every implementation (CPU reference, CUDA kernels) follows bit-exactly:
//   * a group is `group` consecutive elements of one row (the input dimension);
//   * the scale byte s of a group stands for a float32 multiplier m
//       MXFP4: m = 2^(s - 127)            (E8M0)
//       NVFP4: m = e4m3_decode(s) / G     (E4M3 over the FP32 tensor scale G)
//   * an element x is stored as code = e2m1_encode(x / m) (float32 division);
//     when m == 0 (an NVFP4 group whose scale underflowed) every code is 0;
//   * it dequantizes to e2m1_decode(code) * m.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mrgptq/matrix.hpp"

namespace mrgptq {

// ----------------------------------------------------------- scalar codecs --

// E2M1: code = sign << 3 | index into kE2M1Grid.
inline constexpr float kE2M1Grid[8] = {0.f, 0.5f, 1.f, 1.5f, 2.f, 3.f, 4.f, 6.f};
inline constexpr float kE2M1Max = 6.f;

// Nearest grid point of |x|, ties to the even index, saturating at 6; inline
// because GPTQ calls it once per weight. The grid is not uniform, so the index
// is the number of midpoint thresholds |x| has passed. At an exact midpoint the
// tie goes to the even index (mantissa bit 0), hence the alternation of > and >=:
//   0.25 -> 0, 0.75 -> 1, 1.25 -> 1, 1.75 -> 2, 2.5 -> 2, 3.5 -> 4, 5 -> 4.
// The sign bit of x is kept even when |x| rounds to 0 (-0.1 -> code 8, i.e. -0;
// it decodes to -0.f == 0.f). NaN passes no threshold and encodes as +-0:
// callers reject non-finite input before quantizing (check_finite).
inline uint8_t e2m1_encode(float x) {
  const float a = std::fabs(x);
  const int idx = int(a > 0.25f) + int(a >= 0.75f) + int(a > 1.25f) + int(a >= 1.75f) +
                  int(a > 2.5f) + int(a >= 3.5f) + int(a > 5.f);
  return uint8_t((std::signbit(x) ? 8 : 0) | idx);
}

// Uses the low 4 bits of code.
inline float e2m1_decode(uint8_t code) {
  const float v = kE2M1Grid[code & 7];
  return (code & 8) ? -v : v;
}
inline float e2m1_round(float x) {
  return e2m1_decode(e2m1_encode(x));
}

// E8M0: value 2^(byte - 127); 0xFF is NaN.
inline constexpr uint8_t kE8M0NaN = 0xFF;
float e8m0_decode(uint8_t byte);    // NaN for 0xFF
uint8_t e8m0_from_exponent(int e);  // clamps e to [-127, 127]
inline int e8m0_exponent(uint8_t byte) {
  return int(byte) - 127;
}

// E4M3 "fn": bias 7, max 448, no infinities, S.1111.111 is NaN;
// round to nearest even, saturating to +-448.
inline constexpr float kE4M3Max = 448.f;
uint8_t e4m3_encode(float x);
float e4m3_decode(uint8_t byte);

// -------------------------------------------------------- the format table --

enum class Format : uint8_t { MXFP4, NVFP4 };
enum class ScaleType : uint8_t { E8M0, E4M3 };
enum class ScaleRule : uint8_t { Floor, Round, Ceil, Absmax, Mse };

struct FormatInfo {
  Format format;
  const char* name;       // "mxfp4" / "nvfp4"
  const char* ct_format;  // compressed-tensors format name
  int group;              // elements per scale
  ScaleType scale_type;
  bool has_global_scale;   // NVFP4's FP32 per-tensor scale
  ScaleRule default_rule;  // used by rtn / rtn-had / gptq unless overridden
};

const FormatInfo& format_info(Format f);
Format parse_format(std::string_view name);  // throws Error on unknown names
ScaleRule parse_scale_rule(std::string_view name);
const char* to_string(Format f);
const char* to_string(ScaleRule r);
bool rule_valid_for(Format f, ScaleRule r);  // MXFP4: floor|round|ceil|mse, NVFP4: absmax|mse

// ------------------------------------------------------- group quantization --

struct QuantizedTensor {
  Format format = Format::MXFP4;
  int64_t rows = 0;
  int64_t cols = 0;             // logical input dimension
  int64_t padded_cols = 0;      // cols rounded up (to the group, or the rotation block if larger)
  std::vector<uint8_t> packed;  // [rows, padded_cols / 2]: element 2j low nibble, 2j+1 high
  std::vector<uint8_t> scales;  // [rows, padded_cols / group], raw E8M0 / E4M3 bytes
  float global_scale = 1.f;     // NVFP4: G; MXFP4: 1

  int group() const { return format_info(format).group; }
  int64_t groups_per_row() const { return padded_cols / group(); }
};

// The float32 multiplier m a scale byte stands for (see the header comment).
float scale_multiplier(Format f, uint8_t scale_byte, float global_scale);

// NVFP4 tensor scale G = 448 * 6 / amax (compressed-tensors convention); 1 when amax == 0.
float nvfp4_global_scale(float amax);

// Chooses the scale byte of one group of n <= group values by `rule`.
// `importance` (optional, n values, e.g. the Hessian diagonal) weights the squared
// error minimised by ScaleRule::Mse. An all-zero group gets a fixed, valid scale.
uint8_t choose_group_scale(Format f, ScaleRule rule, const float* x, int n, float global_scale,
                           const float* importance = nullptr);

struct QuantOptions {
  ScaleRule rule = ScaleRule::Floor;
  float global_scale = 0.f;           // NVFP4: 0 = computed from the tensor's amax
  const float* importance = nullptr;  // per input column (length cols), for ScaleRule::Mse
  int64_t pad_to = 0;                 // pad cols to a multiple of this too (rotation block)
  std::string name = "tensor";        // named in error messages
};

// Round-to-nearest quantization of a row-major [rows, cols] tensor.
// Throws Error naming the tensor, row and column on NaN/Inf, and on empty input.
QuantizedTensor quantize_rtn(const float* x, int64_t rows, int64_t cols, Format f,
                             const QuantOptions& opt);

// Back to float32 [rows, cols] (padding dropped).
void dequantize(const QuantizedTensor& q, float* out);
MatrixF dequantize(const QuantizedTensor& q);

// Code of element (r, c) and the multiplier of its group.
uint8_t code_at(const QuantizedTensor& q, int64_t r, int64_t c);

// Nibble packing (n even): element 2j -> low nibble of byte j, 2j+1 -> high nibble.
void pack_nibbles(const uint8_t* codes, int64_t n, uint8_t* packed);
void unpack_nibbles(const uint8_t* packed, int64_t n, uint8_t* codes);

// Throws Error("<name>: non-finite value at row r, column c") on NaN/Inf.
void check_finite(const float* x, int64_t rows, int64_t cols, std::string_view name);

inline int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

}  // namespace mrgptq
