// SASS size of the FP4 -> BF16 expansion step (8 codes of a word times a multiplier, as the
// weight expansions and the quantizer's BF16 output do it): the decode as it was before 0f92a47
// (e2m1_decode with integer-to-float conversions, copied here) against the library's
// dev::dequant8_bf16 (the code's bits, rules::e2m1_tiny). Not part of the build; from the
// repository root:
//   nvcc -std=c++20 -O3 -cubin -gencode=arch=compute_90a,code=sm_90a -Iinclude -Isrc \
//     docs/kernels/h200/dequant-sass-probe.cu -o /tmp/probe.cubin
//   cuobjdump -sass /tmp/probe.cubin > /tmp/probe.sass
//   awk '/Function :/{f=$3} /^ +\/\*[0-9a-f]+\*\//{n[f]++} END{for(k in n) print n[k],k}' \
//     /tmp/probe.sass
// Measured 2026-11-30 with nvcc 13.0 (cuobjdump from the nvidia-cuda-cuobjdump wheel): 192
// instructions for k_before, 80 for k_library, each including ~20 of index, loads, store and
// exit: ~21 against ~8 a value.
#include "kernels/fp4_device.cuh"

namespace {
using namespace mrgptq::gpu;

__device__ __forceinline__ float e2m1_decode_before(uint32_t c) {
  const uint32_t i = c & 7;
  const float v = i < 2 ? 0.5f * float(i)
                        : __int_as_float(int((126 + (i >> 1)) << 23)) * (1.f + 0.5f * float(i & 1));
  return (c & 8) ? -v : v;
}
__device__ __forceinline__ uint32_t pair_before(uint32_t byte, float m) {
  const uint32_t lo =
      __bfloat16_as_ushort(__float2bfloat16_rn(__fmul_rn(e2m1_decode_before(byte & 15), m)));
  const uint32_t hi =
      __bfloat16_as_ushort(__float2bfloat16_rn(__fmul_rn(e2m1_decode_before(byte >> 4), m)));
  return lo | (hi << 16);
}

}  // namespace

__global__ void k_before(const uint32_t* w, const float* m, uint4* o, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    o[i] = make_uint4(pair_before(w[i] & 0xFF, m[i]), pair_before((w[i] >> 8) & 0xFF, m[i]),
                      pair_before((w[i] >> 16) & 0xFF, m[i]), pair_before(w[i] >> 24, m[i]));
}

__global__ void k_library(const uint32_t* w, const float* m, uint4* o, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) o[i] = dev::dequant8_bf16(w[i], m[i]);
}
