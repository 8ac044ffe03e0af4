// W4A16 for small M (1..16) on the tensor cores. See the comment on the
// kernel for the fragment layout trick; the host entry checks its arguments.
#include "kernels/fp4_device.cuh"
#include "mrgptq/kernels.hpp"

namespace mrgptq::gpu {
namespace {

// ------------------------------------------------ W4A16 tensor-core GEMV --
// M <= 16 on mma.sync m16n8k16 (BF16 in, FP32 accumulate). The activation rows
// fill the 16-row A operand (rows >= M are zeros), 8 weight rows form B. The
// dot product does not care about the order of k, so each lane takes 32
// consecutive k of its weight row (one 16-byte load = one MXFP4 group, two
// NVFP4 groups) and the A fragment is loaded with the same k permutation:
// mma step j uses, for lane group t = lane % 4, the physical k = 32 t + 4 j + 0..3
// in the logical slots {2t, 2t+1, 2t+8, 2t+9}. Codes become BF16 pairs through a
// 256-entry table (one byte = two codes) and one exact BF16 multiply by the
// group scale (E2M1 x E8M0 and E2M1 x E4M3 are exact in BF16); the NVFP4 1/G is
// applied to the FP32 result. Each warp owns TILES x 8 weight rows and a
// strided share of the 128-wide K chunks; the warps of a block reduce in
// shared memory.
constexpr int kTcWarps = 8;

__device__ __forceinline__ void mma_bf16(float (&c)[4], uint32_t a0, uint32_t a1, uint32_t a2,
                                         uint32_t a3, uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t bf16x2_mul(uint32_t a, uint32_t b) {
  __nv_bfloat162 r =
      __hmul2(*reinterpret_cast<__nv_bfloat162*>(&a), *reinterpret_cast<__nv_bfloat162*>(&b));
  return *reinterpret_cast<uint32_t*>(&r);
}

// Raw bytes of one lane's 32 weights per tile: codes and scale byte(s).
template <int TILES>
struct RawW {
  uint4 q[TILES];
  uint32_t s[TILES];
};

// RELAID = false: the row-major formats.hpp layout (a lane reads 16 bytes of
// its row; a warp touches 8 rows x 64 bytes per tile). RELAID = true: the
// layout of relayout_kernel below, in which the lanes of a warp read one
// contiguous 512-byte block per tile and a block of warps streams one
// contiguous region of memory.
template <int TILES, bool NV, bool RELAID>
__device__ __forceinline__ void load_raw(RawW<TILES>& r, const uint8_t* __restrict__ packed,
                                         const uint8_t* __restrict__ scales,
                                         const int64_t (&wrow)[TILES], int64_t K, int64_t k0,
                                         int64_t ch, int64_t chunks) {
  constexpr int GROUP = NV ? 16 : 32;
  if constexpr (RELAID) {
    if (ch >= chunks) {  // a warp with no chunk (K < 128 * warps): zeros, no load
#pragma unroll
      for (int i = 0; i < TILES; ++i) r.q[i] = make_uint4(0, 0, 0, 0), r.s[i] = 0;
      return;
    }
#pragma unroll
    for (int i = 0; i < TILES; ++i) {
      const int64_t unit =
          ((int64_t(blockIdx.x) * chunks + ch) * TILES + i) * 32 + (threadIdx.x & 31);
      r.q[i] = __ldg(reinterpret_cast<const uint4*>(packed) + unit);
      r.s[i] = NV ? __ldg(reinterpret_cast<const uint16_t*>(scales) + unit) : __ldg(scales + unit);
    }
    return;
  }
  const bool kin = k0 < K;  // K is a multiple of 32: a lane's 32 k are all in or all out
#pragma unroll
  for (int i = 0; i < TILES; ++i) {
    r.q[i] = kin ? __ldg(reinterpret_cast<const uint4*>(packed + wrow[i] * (K / 2) + k0 / 2))
                 : make_uint4(0, 0, 0, 0);
    if constexpr (NV)
      r.s[i] = kin ? __ldg(reinterpret_cast<const uint16_t*>(scales + wrow[i] * (K / GROUP) +
                                                             k0 / GROUP))
                   : 0u;
    else
      r.s[i] = kin ? __ldg(scales + wrow[i] * (K / GROUP) + k0 / GROUP) : 127u;
  }
}

// Byte -> BF16 pair of its two E2M1 codes (low nibble in the low half).
__constant__ uint16_t kE2m1Bf16[16] = {0x0000, 0x3F00, 0x3F80, 0x3FC0, 0x4000, 0x4040,
                                       0x4080, 0x40C0, 0x8000, 0xBF00, 0xBF80, 0xBFC0,
                                       0xC000, 0xC040, 0xC080, 0xC0C0};

// One thread per 16-byte unit of the re-laid-out weight (see load_raw):
// unit ((b * chunks + c) * TILES + i) * 32 + g * 4 + t holds row
// b * 8 * TILES + i * 8 + g, k = 128 c + 32 t .. + 31; rows past N and k past
// K are zero codes (their scales are then irrelevant).
template <int TILES, bool NV>
__global__ void relayout_kernel(const uint8_t* __restrict__ packed,
                                const uint8_t* __restrict__ scales, int64_t N, int64_t K,
                                int64_t chunks, int64_t units, uint8_t* __restrict__ packed_out,
                                uint8_t* __restrict__ scales_out) {
  const int64_t u = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (u >= units) return;
  constexpr int GROUP = NV ? 16 : 32;
  const int lane = int(u % 32), t = lane & 3, g = lane >> 2;
  const int64_t rest = u / 32, i = rest % TILES, bc = rest / TILES, c = bc % chunks,
                b = bc / chunks;
  const int64_t n = b * 8 * TILES + i * 8 + g, k0 = c * 128 + 32 * t;
  const bool in = n < N && k0 < K;
  reinterpret_cast<uint4*>(packed_out)[u] =
      in ? *reinterpret_cast<const uint4*>(packed + n * (K / 2) + k0 / 2) : make_uint4(0, 0, 0, 0);
  if constexpr (NV)
    reinterpret_cast<uint16_t*>(scales_out)[u] =
        in ? *reinterpret_cast<const uint16_t*>(scales + n * (K / GROUP) + k0 / GROUP)
           : uint16_t(0);
  else
    scales_out[u] = in ? scales[n * (K / GROUP) + k0 / GROUP] : uint8_t(127);
}

__device__ __forceinline__ uint32_t bf16x2_splat(float v) {
  const uint32_t b = __bfloat16_as_ushort(__float2bfloat16_rn(v));
  return b | (b << 16);
}

template <int TILES, bool NV, bool RELAID>
__global__ void __launch_bounds__(kTcWarps * 32, 2)
    w4a16_tc(const uint16_t* __restrict__ X, int M, const uint8_t* __restrict__ packed,
             const uint8_t* __restrict__ scales, int64_t N, int64_t K, float inv_g,
             uint16_t* __restrict__ Y) {
  // Byte -> BF16 pair table, one copy per bank (entry e of lane l at e * 32 + l):
  // the lookups are random bytes, and a single copy would serialise ~3.5-way
  // on bank conflicts (measured: the kernel ran at ~1 TB/s). 32 KB; the
  // cross-warp reduction reuses it at the end.
  __shared__ uint32_t smem[256 * 32];
  uint32_t* lut = smem + (threadIdx.x & 31);
  for (int i = threadIdx.x; i < 256 * 32; i += blockDim.x)
    smem[i] = kE2m1Bf16[(i >> 5) & 15] | (uint32_t(kE2m1Bf16[i >> 9]) << 16);
  __syncthreads();
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, grp = lane >> 2, t = lane & 3;
  const int64_t nbase = int64_t(blockIdx.x) * TILES * 8;
  int64_t wrow[TILES];
#pragma unroll
  for (int i = 0; i < TILES; ++i) {
    const int64_t n = nbase + i * 8 + grp;
    wrow[i] = n < N ? n : N - 1;  // rows past N recompute the last row; never stored
  }
  const bool row0 = grp < M, row1 = grp + 8 < M;
  const uint16_t* x0 = X + int64_t(row0 ? grp : 0) * K;
  const uint16_t* x1 = X + int64_t(row1 ? grp + 8 : 0) * K;
  float acc[TILES][4];
#pragma unroll
  for (int i = 0; i < TILES; ++i) acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0.f;
  const int64_t chunks = (K + 127) / 128;
  // Software pipeline: the next chunk's weight bytes are in flight while this
  // chunk is decoded and multiplied (the kernel is a stream over the weight).
  RawW<TILES> cur, nxt;
  load_raw<TILES, NV, RELAID>(cur, packed, scales, wrow, K, int64_t(warp) * 128 + 32 * t, warp,
                              chunks);
  for (int64_t ch = warp; ch < chunks; ch += kTcWarps) {
    const int64_t k0 = ch * 128 + 32 * t;
    // Lanes past K feed zeros: mma.sync needs the whole warp, so nobody skips.
    const bool kin = k0 < K;
    if (ch + kTcWarps < chunks)
      load_raw<TILES, NV, RELAID>(nxt, packed, scales, wrow, K, k0 + kTcWarps * 128, ch + kTcWarps,
                                  chunks);
    uint4 xa[4], xb[4];
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      xa[c] =
          row0 && kin ? __ldg(reinterpret_cast<const uint4*>(x0 + k0) + c) : make_uint4(0, 0, 0, 0);
      xb[c] =
          row1 && kin ? __ldg(reinterpret_cast<const uint4*>(x1 + k0) + c) : make_uint4(0, 0, 0, 0);
    }
    uint32_t sc[TILES][2];
#pragma unroll
    for (int i = 0; i < TILES; ++i) {
      if constexpr (NV) {
        sc[i][0] = bf16x2_splat(dev::e4m3_decode(cur.s[i] & 0xFF));
        sc[i][1] = bf16x2_splat(dev::e4m3_decode(cur.s[i] >> 8));
      } else {
        sc[i][0] = sc[i][1] = bf16x2_splat(dev::e8m0_decode(cur.s[i]));
      }
    }
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      // physical k = k0 + 4j .. 4j+3: the low / high 8 bytes of xa[j/2]
      const uint32_t a0 = j % 2 ? xa[j / 2].z : xa[j / 2].x, a2 = j % 2 ? xa[j / 2].w : xa[j / 2].y;
      const uint32_t a1 = j % 2 ? xb[j / 2].z : xb[j / 2].x, a3 = j % 2 ? xb[j / 2].w : xb[j / 2].y;
#pragma unroll
      for (int i = 0; i < TILES; ++i) {
        const uint32_t word = (&cur.q[i].x)[j / 2];
        const uint32_t s = sc[i][j / 4];
        const uint32_t b0 = bf16x2_mul(lut[((word >> (16 * (j % 2))) & 0xFF) * 32], s);
        const uint32_t b1 = bf16x2_mul(lut[((word >> (16 * (j % 2) + 8)) & 0xFF) * 32], s);
        mma_bf16(acc[i], a0, a1, a2, a3, b0, b1);
      }
    }
    cur = nxt;
  }
  static_assert(kTcWarps * TILES * 4 * 32 <= 256 * 32, "reduction buffer fits in the table");
  auto red = reinterpret_cast<float(*)[TILES * 4][32]>(smem);
  __syncthreads();  // every warp is done with the table
#pragma unroll
  for (int i = 0; i < TILES; ++i)
#pragma unroll
    for (int r = 0; r < 4; ++r) red[warp][i * 4 + r][lane] = acc[i][r];
  __syncthreads();
  // TILES * 4 * 32 partial values per warp: thread e of the block sums entry e over the warps.
  for (int e = threadIdx.x; e < TILES * 4 * 32; e += blockDim.x) {
    const int i = e / 128, r = (e / 32) % 4, l = e % 32;
    float v = 0.f;
#pragma unroll
    for (int w = 0; w < kTcWarps; ++w) v += red[w][i * 4 + r][l];
    const int m = (l >> 2) + (r >= 2 ? 8 : 0);
    const int64_t n = nbase + i * 8 + (l & 3) * 2 + (r & 1);
    if (m < M && n < N)
      Y[int64_t(m) * N + n] = __bfloat16_as_ushort(__float2bfloat16_rn(v * inv_g));
  }
}

template <int TILES, bool RELAID>
void launch_tc(const uint16_t* X, int M, Format f, int64_t N, int64_t K, const uint8_t* packed,
               const uint8_t* scales, float g, uint16_t* Y, cudaStream_t st) {
  const unsigned blocks = unsigned((N + TILES * 8 - 1) / (TILES * 8));
  if (f == Format::NVFP4)
    w4a16_tc<TILES, true, RELAID>
        <<<blocks, kTcWarps * 32, 0, st>>>(X, M, packed, scales, N, K, 1.f / g, Y);
  else
    w4a16_tc<TILES, false, RELAID>
        <<<blocks, kTcWarps * 32, 0, st>>>(X, M, packed, scales, N, K, 1.f, Y);
  MRGPTQ_CUDA_LAUNCH_CHECK();
}

// Fewer rows per block when the weight has few rows, so that the grid still
// fills the GPU (132 SMs on an H100) at about two blocks per SM.
int tiles_for(int64_t N) {
  int sms = 132;
  MRGPTQ_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  // One tile per block (measured) loses at M = 16: the activation loads are
  // then shared by only 8 weight rows.
  return N >= int64_t(sms) * 2 * 32 ? 4 : N >= int64_t(sms) * 8 ? 2 : 1;
}

void check_args(int64_t M, int64_t N, int64_t K) {
  if (N <= 0 || K <= 0 || K % 32)
    throw Error("W4A16 tensor-core GEMV: K = " + std::to_string(K) +
                " must be a positive multiple of 32");
  if (M < 1 || M > 16)
    throw Error("W4A16 tensor-core GEMV: M = " + std::to_string(M) + " must be in 1..16");
}

}  // namespace

void w4a16_tensor_core(const uint16_t* X, int64_t M, const Fp4Weight& w, uint16_t* Y,
                       cudaStream_t st) {
  check_args(M, w.N, w.K);
  switch (tiles_for(w.N)) {
    case 4:
      return launch_tc<4, false>(X, int(M), w.format, w.N, w.K, w.packed, w.scales, w.global_scale,
                                 Y, st);
    case 2:
      return launch_tc<2, false>(X, int(M), w.format, w.N, w.K, w.packed, w.scales, w.global_scale,
                                 Y, st);
    default:
      return launch_tc<1, false>(X, int(M), w.format, w.N, w.K, w.packed, w.scales, w.global_scale,
                                 Y, st);
  }
}

TcWeight make_tensor_core_weight(const Fp4Weight& w, cudaStream_t st) {
  check_args(1, w.N, w.K);
  TcWeight r;
  r.format = w.format, r.N = w.N, r.K = w.K, r.global_scale = w.global_scale,
  r.tiles = tiles_for(w.N);
  const int64_t rows = 8 * r.tiles, chunks = (w.K + 127) / 128, blocks = (w.N + rows - 1) / rows;
  const int64_t units = blocks * chunks * r.tiles * 32;
  const bool nv = w.format == Format::NVFP4;
  MRGPTQ_CUDA_CHECK(cudaMalloc(&r.packed, size_t(units) * 16));
  MRGPTQ_CUDA_CHECK(cudaMalloc(&r.scales, size_t(units) * (nv ? 2 : 1)));
  const unsigned grid = unsigned((units + 255) / 256);
#define MRGPTQ_RELAYOUT(T)                                                                     \
  (nv ? relayout_kernel<T, true>                                                               \
       <<<grid, 256, 0, st>>>(w.packed, w.scales, w.N, w.K, chunks, units, r.packed, r.scales) \
      : relayout_kernel<T, false>                                                              \
       <<<grid, 256, 0, st>>>(w.packed, w.scales, w.N, w.K, chunks, units, r.packed, r.scales))
  if (r.tiles == 4)
    MRGPTQ_RELAYOUT(4);
  else if (r.tiles == 2)
    MRGPTQ_RELAYOUT(2);
  else
    MRGPTQ_RELAYOUT(1);
#undef MRGPTQ_RELAYOUT
  MRGPTQ_CUDA_LAUNCH_CHECK();
  return r;
}

void free_tensor_core_weight(TcWeight& w) {
  MRGPTQ_CUDA_CHECK(cudaFree(w.packed));
  MRGPTQ_CUDA_CHECK(cudaFree(w.scales));
  w.packed = w.scales = nullptr;
}

void w4a16_tensor_core(const uint16_t* X, int64_t M, const TcWeight& w, uint16_t* Y,
                       cudaStream_t st) {
  check_args(M, w.N, w.K);
  switch (w.tiles) {
    case 4:
      return launch_tc<4, true>(X, int(M), w.format, w.N, w.K, w.packed, w.scales, w.global_scale,
                                Y, st);
    case 2:
      return launch_tc<2, true>(X, int(M), w.format, w.N, w.K, w.packed, w.scales, w.global_scale,
                                Y, st);
    case 1:
      return launch_tc<1, true>(X, int(M), w.format, w.N, w.K, w.packed, w.scales, w.global_scale,
                                Y, st);
  }
  throw Error("W4A16 tensor-core GEMV: weight was not made by make_tensor_core_weight");
}

}  // namespace mrgptq::gpu
