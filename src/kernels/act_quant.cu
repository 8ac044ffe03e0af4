// Kernel 1: fused block-Hadamard + FP4 quantization of BF16 activations.
//
// One thread owns one chunk of C = max(rotation block, group) consecutive
// elements of a row: it loads them with 16-byte loads, runs the fast
// Walsh-Hadamard butterflies in registers in the CPU's order (h = 1, 2, 4 ...,
// then one multiply by 1/sqrt(b)), chooses each group's scale, encodes with an
// IEEE division x / m exactly as the CPU does, and stores packed codes (and,
// on request, the exactly dequantized BF16 values for the BF16 tensor-core
// product). Everything stays in registers: one read of x, one write of codes.
#include "kernels/fp4_device.cuh"
#include "mrgptq/kernels.hpp"

namespace mrgptq::gpu {
namespace {

template <int C, int B, int GROUP, bool NV>
__global__ void __launch_bounds__(128) act_quant_kernel(const uint16_t* __restrict__ x, int64_t chunks,
                                                         int64_t chunks_per_row, int64_t K, float g,
                                                         uint8_t* __restrict__ packed, uint8_t* __restrict__ scales,
                                                         uint16_t* __restrict__ deq) {
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= chunks) return;
  const int64_t row = t / chunks_per_row, col0 = (t % chunks_per_row) * C;
  const int64_t base = row * K + col0;
  float v[C];
#pragma unroll
  for (int i = 0; i < C; i += 8) {
    const uint4 u = *reinterpret_cast<const uint4*>(x + base + i);
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      v[i + 2 * j] = __uint_as_float(w[j] << 16);
      v[i + 2 * j + 1] = __uint_as_float(w[j] & 0xFFFF0000u);
    }
  }
  if constexpr (B > 1) {
#pragma unroll
    for (int b0 = 0; b0 < C; b0 += B) {
#pragma unroll
      for (int step = 0; (1 << step) < B; ++step) {  // h = 1, 2, 4, ... as on the CPU
        constexpr int kB = B;
#pragma unroll
        for (int p = 0; p < kB / 2; ++p) {  // the B/2 butterflies of this step, in index order
          const int h = 1 << step;
          const int j = (p / h) * 2 * h + (p % h);
          const float a = v[b0 + j], c = v[b0 + j + h];
          v[b0 + j] = __fadd_rn(a, c);
          v[b0 + j + h] = __fsub_rn(a, c);
        }
      }
      const float scale = 1.f / sqrtf(float(B));
#pragma unroll
      for (int i = 0; i < B; ++i) v[b0 + i] = __fmul_rn(v[b0 + i], scale);
    }
  }
#pragma unroll
  for (int g0 = 0; g0 < C; g0 += GROUP) {
    float amax = 0.f;
#pragma unroll
    for (int i = 0; i < GROUP; ++i) amax = fmaxf(amax, fabsf(v[g0 + i]));
    const uint32_t s = NV ? dev::nv_absmax_scale(amax, g) : dev::mx_round_scale(amax);
    const float m = NV ? __fdiv_rn(dev::e4m3_decode(s), g) : dev::e8m0_decode(s);
    uint32_t words[GROUP / 8];
#pragma unroll
    for (int w = 0; w < GROUP / 8; ++w) {
      uint32_t word = 0;
#pragma unroll
      for (int k = 0; k < 8; ++k) {
        const float xv = v[g0 + 8 * w + k];
        const uint32_t code = m == 0.f ? 0u : dev::e2m1_encode(__fdiv_rn(xv, m));
        word |= code << (4 * k);
        if (deq) v[g0 + 8 * w + k] = __fmul_rn(dev::e2m1_decode(code), m);
      }
      words[w] = word;
    }
    uint8_t* dst = packed + (base + g0) / 2;
    if constexpr (GROUP == 32) {
      *reinterpret_cast<uint4*>(dst) = make_uint4(words[0], words[1], words[2], words[3]);
    } else {
      *reinterpret_cast<uint2*>(dst) = make_uint2(words[0], words[1]);
    }
    scales[(base + g0) / GROUP] = uint8_t(s);
  }
  if (deq) {
#pragma unroll
    for (int i = 0; i < C; i += 8) {
      uint32_t w[4];
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const uint32_t lo = __bfloat16_as_ushort(__float2bfloat16_rn(v[i + 2 * j]));
        const uint32_t hi = __bfloat16_as_ushort(__float2bfloat16_rn(v[i + 2 * j + 1]));
        w[j] = lo | (hi << 16);
      }
      *reinterpret_cast<uint4*>(deq + base + i) = make_uint4(w[0], w[1], w[2], w[3]);
    }
  }
}

template <int C, int B, int GROUP, bool NV>
void launch(const uint16_t* x, int64_t M, int64_t K, float g, uint8_t* p, uint8_t* s, uint16_t* d,
            cudaStream_t st) {
  const int64_t chunks = M * K / C;
  const int threads = 128;
  act_quant_kernel<C, B, GROUP, NV><<<unsigned((chunks + threads - 1) / threads), threads, 0, st>>>(
      x, chunks, K / C, K, g, p, s, d);
  MRGPTQ_CUDA_LAUNCH_CHECK();
}

template <int GROUP, bool NV>
void dispatch(int rot, const uint16_t* x, int64_t M, int64_t K, float g, uint8_t* p, uint8_t* s, uint16_t* d,
              cudaStream_t st) {
  switch (rot) {
    case 0: return launch<GROUP, 1, GROUP, NV>(x, M, K, g, p, s, d, st);
    case 16: return launch<(GROUP > 16 ? GROUP : 16), 16, GROUP, NV>(x, M, K, g, p, s, d, st);
    case 32: return launch<32, 32, GROUP, NV>(x, M, K, g, p, s, d, st);
    case 64: return launch<64, 64, GROUP, NV>(x, M, K, g, p, s, d, st);
    case 128: return launch<128, 128, GROUP, NV>(x, M, K, g, p, s, d, st);
  }
  throw Error("quantize_activations: rotation block must be 0, 16, 32, 64 or 128");
}

}  // namespace

bool device_available() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

void quantize_activations(const uint16_t* x, int64_t M, int64_t K, Format f, int rot_block, float global_scale,
                          uint8_t* packed, uint8_t* scales, uint16_t* dequant_out, cudaStream_t stream) {
  const int group = format_info(f).group;
  const int64_t chunk = rot_block > group ? rot_block : group;
  if (M <= 0 || K <= 0 || K % chunk)
    throw Error("quantize_activations: K = " + std::to_string(K) + " must be a positive multiple of " +
                std::to_string(chunk) + " (pad the input dimension)");
  if (f == Format::NVFP4) {
    if (!(global_scale > 0.f)) throw Error("quantize_activations: NVFP4 needs a positive global scale");
    dispatch<16, true>(rot_block, x, M, K, global_scale, packed, scales, dequant_out, stream);
  } else {
    dispatch<32, false>(rot_block, x, M, K, 1.f, packed, scales, dequant_out, stream);
  }
}

}  // namespace mrgptq::gpu
