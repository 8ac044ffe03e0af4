// Device-side copies of the CPU rounding rules (src/formats/): the kernels must
// produce the same bytes as the CPU reference, so every operation here mirrors
// one there, in the same order and with IEEE-rounded division.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "kernels/fp4_rules.hpp"
#include "mrgptq/error.hpp"

#define MRGPTQ_CUDA_CHECK(expr)                                                               \
  do {                                                                                        \
    cudaError_t err_ = (expr);                                                                \
    if (err_ != cudaSuccess)                                                                  \
      throw ::mrgptq::Error(std::string("CUDA: ") + #expr + ": " + cudaGetErrorString(err_) + \
                            " (" + __FILE__ + ":" + std::to_string(__LINE__) + ")");          \
  } while (0)
#define MRGPTQ_CUDA_LAUNCH_CHECK() MRGPTQ_CUDA_CHECK(cudaGetLastError())

namespace mrgptq::gpu {
// The W4A16 kernels read the activations with 16-byte loads (rows start
// aligned too, as K is a multiple of 32): an unaligned X must fail here, not
// as a misaligned-address fault inside a kernel.
inline void require_aligned_x(const void* X, const char* who) {
  if (reinterpret_cast<uintptr_t>(X) % 16)
    throw Error(std::string(who) + ": X must be 16-byte aligned");
}
}  // namespace mrgptq::gpu

namespace mrgptq::gpu::dev {

// E2M1: count of midpoints passed, ties to the even grid point (codecs.cpp).
__device__ __forceinline__ uint32_t e2m1_encode(float x) {
  const float a = fabsf(x);
  const uint32_t idx = (a > 0.25f) + (a >= 0.75f) + (a > 1.25f) + (a >= 1.75f) + (a > 2.5f) +
                       (a >= 3.5f) + (a > 5.f);
  return (signbit(x) ? 8u : 0u) | idx;
}

// The code's value from its bits (rules::e2m1_tiny: value x 2^-126, exact) and one multiply by
// 2^126: no integer-to-float conversions, which made the BF16 expansions ~2.4x as many
// instructions (docs/kernels/h200/dequant-sass-probe.cu).
__device__ __forceinline__ float e2m1_decode(uint32_t c) {
  return __fmul_rn(rules::e2m1_tiny(c), 0x1p126f);
}

__device__ __forceinline__ float e8m0_decode(uint32_t b) {
  return ldexpf(1.f, int(b) - 127);
}

// E4M3 fn, round to nearest even, saturating to +-448: the hardware conversion.
__device__ __forceinline__ uint32_t e4m3_encode(float x) {
  return uint32_t(__nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3));
}

__device__ __forceinline__ float e4m3_decode(uint32_t b) {
  const int e = (b >> 3) & 15, m = b & 7;
  const float v = e == 0 ? ldexpf(float(m), -9) : ldexpf(1.f + float(m) / 8.f, e - 7);
  return (b & 0x80) ? -v : v;
}

// MXFP4 "round" rule (group_quant.cpp): floor(log2 amax) - 2, +1 when the
// significand is >= 1.75; byte 127 for an all-zero group.
__device__ __forceinline__ uint32_t mx_round_scale(float amax) {
  if (amax == 0.f) return 127;
  int e;
  const float f = frexpf(amax, &e);
  int s = e - 1 - 2 + (2.f * f >= 1.75f ? 1 : 0);
  s = s < -127 ? -127 : (s > 127 ? 127 : s);
  return uint32_t(s + 127);
}

// NVFP4 absmax: s = E4M3(amax / 6 * G), in that float order.
__device__ __forceinline__ uint32_t nv_absmax_scale(float amax, float g) {
  return e4m3_encode(__fmul_rn(__fdiv_rn(amax, 6.f), g));
}

// Two floats rounded to a BF16 pair in one word, lo in the low half (the element at the lower
// address once stored).
__device__ __forceinline__ uint32_t bf16x2_rn(float lo, float hi) {
  const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}

// One byte of two E2M1 codes (low nibble first) times m, as a BF16 pair, one rounding in float:
// kernel 1's BF16 output of the quantized activations (the weight expansions decode a piece's
// pairs at once instead, w4a16_common.cuh's expand_piece_mx / _nv).
__device__ __forceinline__ uint32_t dequant_bf16x2(uint32_t byte, float m) {
  return bf16x2_rn(__fmul_rn(e2m1_decode(byte & 15), m), __fmul_rn(e2m1_decode(byte >> 4), m));
}

// The weight expansions (dequantize_to_bf16 of both layouts, gemm.cu and w4a16_tc.cu): a
// thread expands kExpandPieces pieces of 8 values (4 code bytes -> 16 output bytes) a
// block-width apart, all loads issued before any arithmetic, so that loads (4 bytes a thread)
// and stores (16 bytes) stay contiguous across the warp in every instruction and a thread keeps
// 4 loads in flight. On the H200 one piece per thread ran at about half the copy bandwidth,
// and 64 contiguous values per thread (every store instruction touching 32 lines) ~4x slower.
constexpr int kExpandPieces = 4, kExpandThreads = 256;

// A word of 8 codes (element i in nibble i) times m: 8 BF16 values, 16 bytes.
__device__ __forceinline__ uint4 dequant8_bf16(uint32_t word, float m) {
  return make_uint4(dequant_bf16x2(word & 0xFF, m), dequant_bf16x2((word >> 8) & 0xFF, m),
                    dequant_bf16x2((word >> 16) & 0xFF, m), dequant_bf16x2(word >> 24, m));
}

}  // namespace mrgptq::gpu::dev
