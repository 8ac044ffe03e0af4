// W4A16 for small and medium M on the tensor cores: a stream over the FP4
// weight, dequantized in registers. Three kernels share one inner step:
//  - w4a16_tc:        the row-major weight, M <= 16, loads through registers;
//  - w4a16_stream:    the weight re-laid out once at load time (TcWeight), any M,
//                     loaded by the TMA engine into a shared-memory ring;
//  - w4a16_stream_xs: the same with the activation rows in the ring too, filled by
//                     a producer warp of its own (M = 1-32; CTAs of 1-7 row blocks
//                     sized so that the grid is one wave).
// See the comments on each for the tricks; the host entries check arguments.
// Both streamed kernels run as programmatic dependents of the kernel before them (the default;
// set_programmatic_launch, launch_dependent): a CTA may start before the previous kernel ends,
// issues its first weight copies (the weight is never written by a kernel), lets the next kernel's
// CTAs start, and waits for the previous kernel before its first read of X or write of Y. In a
// decode chain a layer's start overlaps the previous layer's end: 0.2-2.1 us a layer on the H200
// (docs/PERFORMANCE.md, twentieth and twenty-fourth sessions).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/fp4_device.cuh"
#include "kernels/mma.cuh"
#include "kernels/w4a16_common.cuh"
#include "kernels/wg_trace.cuh"
#include "mrgptq/kernels.hpp"

namespace mrgptq::gpu {
namespace {
using namespace w4;

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

using dev::mma_bf16;

// Raw bytes of one lane's 32 weights per tile: codes and scale byte(s).
template <int TILES>
struct RawW {
  uint4 q[TILES];
  uint32_t s[TILES];
};

// The row-major formats.hpp layout: a lane reads 16 bytes of its row (one
// MXFP4 group, two NVFP4 groups); a warp touches 8 rows x 64 bytes per tile.
template <int TILES, bool NV>
__device__ __forceinline__ void load_raw(RawW<TILES>& r, const uint8_t* __restrict__ packed,
                                         const uint8_t* __restrict__ scales,
                                         const int64_t (&wrow)[TILES], int64_t K, int64_t k0) {
  constexpr int GROUP = NV ? 16 : 32;
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

// One thread per 16-byte unit of the re-laid-out weight (see load_raw):
// unit ((b * chunks + c) * TILES + i) * 32 + g * 4 + t holds row
// b * 8 * TILES + i * 8 + g of 128-k chunk c; rows past N and k past K are zero
// codes (their scales are then irrelevant). Its scale byte(s) are those of k =
// 128 c + 32 t .. + 31 (one MXFP4 group, two NVFP4 groups) in both layouts.
// Block b's chunk c is one run (layout::run_bytes): the TILES x 32 units'
// codes, then their scale bytes in the same order, so that any run of chunks
// of a row block is one contiguous copy (see the TMA driver; merging the scale
// copy into the code copy made the streamed kernel 3-5% faster at M = 1-16,
// docs/kernels/h200/bench-w4a16-one-copy-a-stage.txt).
// Layout 1: the codes of k = 128 c + 32 t .. + 31 as plain nibbles. Layout 2
// (w4_layout.hpp): the same codes, word w's bits spread so that its pair p is
// k = 128 c + 32 t + 8 w + 2 p, + 1 and comes out with a cheap decode.
template <int TILES, bool NV, int LAYOUT>
__global__ void relayout_kernel(const uint8_t* __restrict__ packed,
                                const uint8_t* __restrict__ scales, int64_t N, int64_t K,
                                int64_t chunks, int64_t units, uint8_t* __restrict__ out) {
  const int64_t u = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (u >= units) return;
  constexpr int GROUP = NV ? 16 : 32;
  const int lane = int(u % 32), t = lane & 3, g = lane >> 2;
  const int64_t rest = u / 32, i = rest % TILES, bc = rest / TILES, c = bc % chunks,
                b = bc / chunks;
  const int64_t n = b * 8 * TILES + i * 8 + g, k0 = c * 128 + 32 * t;
  const bool in = n < N && k0 < K;
  // This unit's codes and scale byte(s) inside its chunk's run.
  constexpr uint32_t U = layout::run_bytes(TILES, NV);
  const int64_t j = i * 32 + lane;  // the unit within the chunk
  uint8_t* codes_out = out + bc * U + j * 16;
  uint8_t* scales_out = out + bc * U + layout::run_scales(TILES) + j * layout::unit_scale_bytes(NV);
  const uint4 v =
      in ? *reinterpret_cast<const uint4*>(packed + n * (K / 2) + k0 / 2) : make_uint4(0, 0, 0, 0);
  if constexpr (LAYOUT == 1) {
    *reinterpret_cast<uint4*>(codes_out) = v;
  } else {  // pair p of word w: byte p of the row-major word (low nibble first)
    uint32_t word[4];
#pragma unroll
    for (int w = 0; w < 4; ++w) {
      const uint32_t src = (&v.x)[w];
      uint8_t lo[4], hi[4];
#pragma unroll
      for (int p = 0; p < 4; ++p) lo[p] = (src >> (8 * p)) & 15, hi[p] = (src >> (8 * p + 4)) & 15;
      word[w] = layout::pack_word(lo, hi);
    }
    *reinterpret_cast<uint4*>(codes_out) = make_uint4(word[0], word[1], word[2], word[3]);
  }
  if constexpr (NV)
    *reinterpret_cast<uint16_t*>(scales_out) =
        in ? *reinterpret_cast<const uint16_t*>(scales + n * (K / GROUP) + k0 / GROUP)
           : uint16_t(0);
  else
    *scales_out = in ? scales[n * (K / GROUP) + k0 / GROUP] : uint8_t(127);
}

// Byte -> BF16 pair table, one copy per bank (entry e of lane l at e * 32 + l):
// the lookups are random bytes, and a single copy would serialise ~3.5-way on
// bank conflicts (measured: the kernel ran at ~1 TB/s). 32 KB. Thread e
// computes entry e and writes its 32 copies (128 contiguous bytes) with 16-byte
// stores: filling word by word from a constant table took ~1300 instructions
// a thread, a visible share of a 25 us kernel.
__device__ __forceinline__ uint32_t e2m1_bf16_bits(uint32_t c) {
  const uint32_t i = c & 7;  // 0, .5, then 2^(i/2-1) * (1 + (i&1)/2)
  const uint32_t mag = i == 0 ? 0u : i == 1 ? 0x3F00u : ((126u + (i >> 1)) << 7) | ((i & 1) << 6);
  return mag | ((c & 8) << 12);
}
__device__ __forceinline__ void fill_lut(uint32_t* table) {
  for (uint32_t e = threadIdx.x; e < 256; e += blockDim.x) {
    const uint32_t v = e2m1_bf16_bits(e & 15) | (e2m1_bf16_bits(e >> 4) << 16);
    uint4* row = reinterpret_cast<uint4*>(table + e * 32);
#pragma unroll
    for (int c = 0; c < 8; ++c) row[c] = make_uint4(v, v, v, v);
  }
}

// Two codes (one byte of `word`) -> BF16 pair through the table, times the
// group scale. `lut` is the shared-window address of this lane's copy (table +
// 4 * lane): PRMT pulls the byte out, one IMAD scales it to the 128-byte entry
// stride and adds the base -- 2 instructions and the LDS, where the plain
// index expression on a generic pointer compiled to 4.
__device__ __forceinline__ uint32_t decode2(uint32_t lut, uint32_t word, int byte, uint32_t sc) {
  const uint32_t idx = __byte_perm(word, 0, 0x4440 | byte);
  uint32_t v;
  asm("ld.shared.u32 %0, [%1];" : "=r"(v) : "r"(lut + (idx << 7)));
  return bf16x2_mul(v, sc);
}

// Activation rows as the mma's B operand: n-tile `nt` holds rows
// m_base + 8 nt + grp, the lane's 32 k (rows >= M and k >= K read as zeros).
// Step j's B pair is (x, y) or (z, w) of v[nt][j/2]: registers that are
// already adjacent, so no moves before the mma.
template <int NT>
struct XFrag {
  uint4 v[NT][4];
};

// A lane's XFrag over its chunks (both drivers): the row pointers and k0 advance by a constant
// each step instead of X + m K + k0 being rebuilt in 64-bit arithmetic per load (in the streamed
// kernel that rebuild was about 40 of the ~400 instructions of an M = 1 chunk).
template <int NT>
struct XCursor {
  const uint16_t* row[NT];
  bool ok[NT];
  int64_t k0;
  __device__ __forceinline__ XCursor(const uint16_t* __restrict__ X, int M, int64_t K, int m_base,
                                     int grp, int64_t k_first) {
    k0 = k_first;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
      const int m = m_base + nt * 8 + grp;
      ok[nt] = m < M;
      row[nt] = X + int64_t(ok[nt] ? m : 0) * K + k_first;
    }
  }
  __device__ __forceinline__ void load(XFrag<NT>& x, int64_t K) const {
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
      const bool in = ok[nt] && k0 < K;
      const uint4* p = reinterpret_cast<const uint4*>(row[nt]);
#pragma unroll
      for (int c = 0; c < 4; ++c) x.v[nt][c] = in ? __ldg(p + c) : make_uint4(0, 0, 0, 0);
    }
  }
  __device__ __forceinline__ void advance(int64_t dk) {
    k0 += dk;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) row[nt] += dk;
  }
};

// The 8 mma steps of a 128-k chunk for one pair of 8-row weight tiles (the 16
// rows of the A operand: tile q0 in rows 0-7, q1 in rows 8-15; HAS1 = false
// when there is no second tile) against NT activation n-tiles. Weights are A
// because the decoded pairs can be written straight into the A registers;
// as B (the previous design) every mma needed 4 register moves of activations.
// Step j takes the lane's physical k = 4j .. 4j+3 (logical slots 2t, 2t+1 and
// 2t+8, 2t+9 of the mma): bytes 2(j%2) and 2(j%2)+1 of word j/2.
template <int NT, bool NV, bool HAS1>
__device__ __forceinline__ void mma_pair(float (&acc)[NT][4], const uint4& q0, uint32_t s0,
                                         const uint4& q1, uint32_t s1, const XFrag<NT>& x,
                                         uint32_t lut) {
  uint32_t sc0[2], sc1[2] = {0, 0};
  scale_pairs<NV>(s0, sc0);
  if constexpr (HAS1) scale_pairs<NV>(s1, sc1);
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    const uint32_t w0 = (&q0.x)[j / 2], w1 = (&q1.x)[j / 2];
    const int lo = 2 * (j % 2), hi = lo + 1;
    const uint32_t a0 = decode2(lut, w0, lo, sc0[j / 4]), a2 = decode2(lut, w0, hi, sc0[j / 4]);
    const uint32_t a1 = HAS1 ? decode2(lut, w1, lo, sc1[j / 4]) : 0u;
    const uint32_t a3 = HAS1 ? decode2(lut, w1, hi, sc1[j / 4]) : 0u;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
      const uint4& v = x.v[nt][j / 2];
      mma_bf16(acc[nt], a0, a1, a2, a3, j % 2 ? v.z : v.x, j % 2 ? v.w : v.y);
    }
  }
}

// The tiles of a chunk in pairs (rows 0-7 and 8-15 of the mma's A operand), for every decode:
// pair(acc, q0, s0, q1, s1, has1) with has1 a std::bool_constant, false for a last odd tile.
template <int TILES, class Acc, class Pair>
__device__ __forceinline__ void for_tile_pairs(Acc& acc, const uint4 (&q)[TILES],
                                               const uint32_t (&s)[TILES], Pair pair) {
#pragma unroll
  for (int p = 0; p < TILES / 2; ++p)
    pair(acc[p], q[2 * p], s[2 * p], q[2 * p + 1], s[2 * p + 1], std::true_type{});
  if constexpr (TILES % 2)
    pair(acc[TILES / 2], q[TILES - 1], s[TILES - 1], q[TILES - 1], 0u, std::false_type{});
}

// MXFP4, table-free decodes: whether every scale byte of the warp's chunk is at most 128, so that
// 2^126 folds into the scale (folded_scale_pairs); warp-uniform.
template <int TILES>
__device__ __forceinline__ bool mx_fold_ok(const uint32_t (&s)[TILES]) {
  uint32_t top = 0;
#pragma unroll
  for (int i = 0; i < TILES; ++i) top = max(top, s[i]);
  return !__any_sync(0xFFFFFFFFu, top > 128u);
}

template <int NT, int TILES, bool NV>
__device__ __forceinline__ void mma_tiles(float (&acc)[(TILES + 1) / 2][NT][4],
                                          const uint4 (&q)[TILES], const uint32_t (&s)[TILES],
                                          const XFrag<NT>& x, uint32_t lut) {
  for_tile_pairs<TILES>(
      acc, q, s,
      [&](auto& a, const uint4& q0, uint32_t s0, const uint4& q1, uint32_t s1, auto has1) {
        mma_pair<NT, NV, decltype(has1)::value>(a, q0, s0, q1, s1, x, lut);
      });
}

// ------------------------------------------------------ table-free decode --
// The streamed kernel's decode above M = 8 (launch_m, StreamDecode): the
// weight is decoded by shifts and masks instead of the shared table: nibbles I and I + 4 of a
// 32-bit code word (k = 8w + I and 8w + I + 4 of the lane's word w) become the BF16 pair code x
// 2^-126, exactly (fp4x2_raw, w4a16_common.cuh). One multiply by the group scale with 2^126 folded
// in gives the table path's value bit for bit (both are one rounding of the same exact product).
// The mma pairs k and k + 1 in a register, so the activation registers are re-paired once per chunk
// by byte permutes (shared by every tile of the warp) instead of the weights.

// The activation registers in fp4x2_raw order: p[nt][w][I] = the BF16 pair
// (x[8w + I], x[8w + I + 4]) of the lane's 32 k.
template <int NT>
struct XPair {
  uint32_t p[NT][4][4];
};
template <int NT>
__device__ __forceinline__ void pair_x(XPair<NT>& o, const XFrag<NT>& x) {
#pragma unroll
  for (int nt = 0; nt < NT; ++nt)
#pragma unroll
    for (int w = 0; w < 4; ++w) {
      const uint4& v = x.v[nt][w];  // (k0, k1), (k2, k3), (k4, k5), (k6, k7)
      o.p[nt][w][0] = __byte_perm(v.x, v.z, 0x5410);
      o.p[nt][w][1] = __byte_perm(v.x, v.z, 0x7632);
      o.p[nt][w][2] = __byte_perm(v.y, v.w, 0x5410);
      o.p[nt][w][3] = __byte_perm(v.y, v.w, 0x7632);
    }
}

// mma_pair on the table-free decode. FOLD: one multiply by folded_scale_pairs;
// else (an MXFP4 scale byte > 128 somewhere in the warp's chunk) the exact
// two-step raw x 2^126 x scale_pairs.
template <int NT, bool NV, bool HAS1, bool FOLD>
__device__ __forceinline__ void mma_pair_raw(float (&acc)[NT][4], const uint4& q0, uint32_t s0,
                                             const uint4& q1, uint32_t s1, const XPair<NT>& x,
                                             uint32_t mx_bias) {
  uint32_t sc0[2], sc1[2] = {0, 0};
  raw_scale_pairs<NV, FOLD>(s0, sc0, mx_bias);
  if constexpr (HAS1) raw_scale_pairs<NV, FOLD>(s1, sc1, mx_bias);
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    const uint32_t w0 = (&q0.x)[j / 2], w1 = (&q1.x)[j / 2];
    const uint32_t c0 = sc0[j / 4], c1 = sc1[j / 4];
    uint32_t a0, a1 = 0, a2, a3 = 0;
    if (j % 2 == 0) {
      a0 = decode_pair<0, FOLD>(w0, c0), a2 = decode_pair<1, FOLD>(w0, c0);
      if constexpr (HAS1) a1 = decode_pair<0, FOLD>(w1, c1), a3 = decode_pair<1, FOLD>(w1, c1);
    } else {
      a0 = decode_pair<2, FOLD>(w0, c0), a2 = decode_pair<3, FOLD>(w0, c0);
      if constexpr (HAS1) a1 = decode_pair<2, FOLD>(w1, c1), a3 = decode_pair<3, FOLD>(w1, c1);
    }
    const int i0 = 2 * (j % 2);
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
      mma_bf16(acc[nt], a0, a1, a2, a3, x.p[nt][j / 2][i0], x.p[nt][j / 2][i0 + 1]);
  }
}

// A chunk's tile pairs on a table-free decode: pair(acc, q0, s0, q1, s1, has1, fold) with folded
// scales. MXCHECK (MXFP4 weights with mx_fold_shift -1 only): unless a scale byte of the warp's
// chunk exceeds 128 (a warp-uniform choice), else the two multiplies. Every other weight folds
// every chunk by the weight's shift, in code with one copy of the loop body: against the check in
// every chunk, 1.5% faster over M = 1-32 on the four layer shapes (geometric mean, two rounds) and
// 6.5% at M = 24-32 on the two wide ones, as fast as no check at all
// (docs/kernels/h200/s28-run6-bench.txt). The check alone skipped by a run-time flag, with both
// copies still compiled, gave only 0.7% (s28-run5-bench.txt).
template <int TILES, bool NV, bool MXCHECK, class Acc, class Pair>
__device__ __forceinline__ void for_tile_pairs_folded(Acc& acc, const uint4 (&q)[TILES],
                                                      const uint32_t (&s)[TILES], Pair pair) {
  auto tiles = [&](auto fold) {
    for_tile_pairs<TILES>(acc, q, s,
                          [&](auto& a, const uint4& q0, uint32_t s0, const uint4& q1, uint32_t s1,
                              auto has1) { pair(a, q0, s0, q1, s1, has1, fold); });
  };
  if constexpr (!NV && MXCHECK)
    if (!mx_fold_ok<TILES>(s)) return tiles(std::false_type{});
  tiles(std::true_type{});
}

// The chunk's mma steps on layout 1's table-free decode.
template <int NT, int TILES, bool NV, bool MXCHECK>
__device__ __forceinline__ void mma_chunk_raw(float (&acc)[(TILES + 1) / 2][NT][4],
                                              const uint4 (&q)[TILES], const uint32_t (&s)[TILES],
                                              const XFrag<NT>& xf, uint32_t mx_bias) {
  XPair<NT> x;
  pair_x<NT>(x, xf);
  for_tile_pairs_folded<TILES, NV, MXCHECK>(
      acc, q, s,
      [&](auto& a, const uint4& q0, uint32_t s0, const uint4& q1, uint32_t s1, auto has1,
          auto fold) {
        mma_pair_raw<NT, NV, decltype(has1)::value, decltype(fold)::value>(a, q0, s0, q1, s1, x,
                                                                           mx_bias);
      });
}

// ------------------------------------------------------------ layout 2 --
// The codes with their bits spread (w4_layout.hpp): word w of a lane's unit
// gives the A registers of mma steps 2w (pairs 0, 1: k 8w .. 8w + 3 of the
// lane's 32) and 2w + 1 (pairs 2, 3), 2.75 instructions a pair plus the scale
// multiply, no table. The pairs are (k, k + 1), so the activation registers
// of the table path (XFrag, already in pairs) feed the mma as they are.

template <int NT, bool NV, bool HAS1, bool FOLD>
__device__ __forceinline__ void mma_pair_l2(float (&acc)[NT][4], const uint4& q0, uint32_t s0,
                                            const uint4& q1, uint32_t s1, const XFrag<NT>& x,
                                            uint32_t mx_bias) {
  uint32_t c0[2], c1[2] = {0, 0};  // [0]: k 0..15 of the lane's 32 (words 0, 1), [1]: 16..31
  raw_scale_pairs<NV, FOLD>(s0, c0, mx_bias);
  if constexpr (HAS1) raw_scale_pairs<NV, FOLD>(s1, c1, mx_bias);
#pragma unroll
  for (int w = 0; w < 4; ++w) {
    const uint32_t w0 = (&q0.x)[w], w1 = (&q1.x)[w], sc0 = c0[w / 2], sc1 = c1[w / 2];
    uint32_t a0 = scale_raw<FOLD>(layout::pair_raw<0>(w0), sc0),
             a2 = scale_raw<FOLD>(layout::pair_raw<1>(w0), sc0), a1 = 0, a3 = 0;
    if constexpr (HAS1)
      a1 = scale_raw<FOLD>(layout::pair_raw<0>(w1), sc1),
      a3 = scale_raw<FOLD>(layout::pair_raw<1>(w1), sc1);
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) mma_bf16(acc[nt], a0, a1, a2, a3, x.v[nt][w].x, x.v[nt][w].y);
    a0 = scale_raw<FOLD>(layout::pair_raw<2>(w0), sc0);
    a2 = scale_raw<FOLD>(layout::pair_raw<3>(w0), sc0);
    if constexpr (HAS1)
      a1 = scale_raw<FOLD>(layout::pair_raw<2>(w1), sc1),
      a3 = scale_raw<FOLD>(layout::pair_raw<3>(w1), sc1);
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) mma_bf16(acc[nt], a0, a1, a2, a3, x.v[nt][w].z, x.v[nt][w].w);
  }
}

// The chunk's mma steps on layout 2.
template <int NT, int TILES, bool NV, bool MXCHECK>
__device__ __forceinline__ void mma_chunk_l2(float (&acc)[(TILES + 1) / 2][NT][4],
                                             const uint4 (&q)[TILES], const uint32_t (&s)[TILES],
                                             const XFrag<NT>& x, uint32_t mx_bias) {
  for_tile_pairs_folded<TILES, NV, MXCHECK>(
      acc, q, s,
      [&](auto& a, const uint4& q0, uint32_t s0, const uint4& q1, uint32_t s1, auto has1,
          auto fold) {
        mma_pair_l2<NT, NV, decltype(has1)::value, decltype(fold)::value>(a, q0, s0, q1, s1, x,
                                                                          mx_bias);
      });
}

// Sum the warps' partial tiles (each warp saw a strided share of K) through
// shared memory and store BF16. `red` holds WARPS x NT x PAIRS x 4 x 32
// floats; `tid` counts the participating threads from 0. Accumulator r of
// lane l in (n-tile nt, pair p): weight row 16p + 8(r >= 2) + l/4, activation
// row 8 nt + 2(l%4) + r%2.
template <int WARPS, int NT, int TILES>
__device__ __forceinline__ void reduce_store(float* red, const float (&acc)[(TILES + 1) / 2][NT][4],
                                             int tid, int warp, int lane, int m_base, int M,
                                             int64_t nbase, int64_t N, float inv_g,
                                             uint16_t* __restrict__ Y, void (*sync)()) {
  constexpr int PAIRS = (TILES + 1) / 2, E = NT * PAIRS * 4 * 32;
#pragma unroll
  for (int nt = 0; nt < NT; ++nt)
#pragma unroll
    for (int p = 0; p < PAIRS; ++p)
#pragma unroll
      for (int r = 0; r < 4; ++r)
        red[warp * E + ((nt * PAIRS + p) * 4 + r) * 32 + lane] = acc[p][nt][r];
  sync();
  for (int e = tid; e < E; e += WARPS * 32) {
    const int nt = e / (PAIRS * 128), p = (e / 128) % PAIRS, r = (e / 32) % 4, l = e % 32;
    const int tile = 2 * p + (r >= 2 ? 1 : 0);
    float v = 0.f;
#pragma unroll
    for (int w = 0; w < WARPS; ++w) v += red[w * E + e];
    const int m = m_base + nt * 8 + (l & 3) * 2 + (r & 1);
    const int64_t n = nbase + tile * 8 + (l >> 2);
    if (tile < TILES && m < M && n < N)
      Y[int64_t(m) * N + n] = __bfloat16_as_ushort(__float2bfloat16_rn(v * inv_g));
  }
}

__device__ void sync_block() {
  __syncthreads();
}

// ------------------------------------------------------- row-major driver --
// M <= 16 (NT = 1 or 2 activation n-tiles). Each warp owns TILES x 8 weight rows and a strided
// share of the 128-wide K chunks; the next chunk's bytes are loaded into registers while this one
// is decoded (one chunk in flight per warp).
template <int TILES, bool NV, int NT>
__global__ void __launch_bounds__(kTcWarps * 32, 2)
    w4a16_tc(const uint16_t* __restrict__ X, int M, const uint8_t* __restrict__ packed,
             const uint8_t* __restrict__ scales, int64_t N, int64_t K, float inv_g,
             uint16_t* __restrict__ Y) {
  __shared__ uint32_t smem[256 * 32];  // the table; the reduction reuses it at the end
  fill_lut(smem);
  __syncthreads();
  const uint32_t lut = uint32_t(__cvta_generic_to_shared(smem)) + 4 * (threadIdx.x & 31);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, grp = lane >> 2, t = lane & 3;
  const int64_t nbase = int64_t(blockIdx.x) * TILES * 8;
  int64_t wrow[TILES];
#pragma unroll
  for (int i = 0; i < TILES; ++i) {
    const int64_t n = nbase + i * 8 + grp;
    wrow[i] = n < N ? n : N - 1;  // rows past N recompute the last row; never stored
  }
  float acc[(TILES + 1) / 2][NT][4] = {};
  const int64_t chunks = (K + 127) / 128;
  RawW<TILES> cur, nxt;
  load_raw<TILES, NV>(cur, packed, scales, wrow, K, int64_t(warp) * 128 + 32 * t);
  XCursor<NT> xc(X, M, K, 0, grp, int64_t(warp) * 128 + 32 * t);
  for (int64_t ch = warp; ch < chunks; ch += kTcWarps, xc.advance(kTcWarps * 128)) {
    const int64_t k0 = ch * 128 + 32 * t;
    if (ch + kTcWarps < chunks)
      load_raw<TILES, NV>(nxt, packed, scales, wrow, K, k0 + kTcWarps * 128);
    XFrag<NT> x;
    xc.load(x, K);
    mma_tiles<NT, TILES, NV>(acc, cur.q, cur.s, x, lut);
    cur = nxt;
  }
  static_assert(kTcWarps * NT * ((TILES + 1) / 2) * 4 * 32 <= 256 * 32,
                "reduction buffer fits in the table");
  __syncthreads();  // every warp is done with the table
  reduce_store<kTcWarps, NT, TILES>(reinterpret_cast<float*>(smem), acc, threadIdx.x, warp, lane, 0,
                                    M, nbase, N, inv_g, Y, sync_block);
}

// One chunk's run (codes, then scales; WT tiles) at `cs` into a lane's registers: 16 code bytes
// and the scale byte(s) a lane and tile.
template <int WT, bool NV>
__device__ __forceinline__ void run_to_regs(const uint8_t* cs, int lane, uint4* q, uint32_t* sc) {
  const uint8_t* ss = cs + layout::run_scales(WT);
#pragma unroll
  for (int i = 0; i < WT; ++i) {
    q[i] = reinterpret_cast<const uint4*>(cs)[i * 32 + lane];
    sc[i] = NV ? reinterpret_cast<const uint16_t*>(ss)[i * 32 + lane] : ss[i * 32 + lane];
  }
}
// A warp's 128-k chunk of a ring stage (layout L) into registers. A stage holds L::SUB parts,
// one per row block of the weight that the CTA covers, each the WARPS chunks of that block as the
// weight keeps them.
template <class L, int TILES, bool NV>
__device__ __forceinline__ void copy_chunk(const uint8_t* smem, int slot, int warp, int lane,
                                           uint4 (&q)[TILES], uint32_t (&sc)[TILES]) {
  constexpr int WT = TILES / L::SUB;  // tiles of a weight row block
#pragma unroll
  for (int h = 0; h < L::SUB; ++h)
    run_to_regs<WT, NV>(smem + L::ring + slot * L::stage + h * L::part + warp * L::wchunk, lane,
                        q + h * WT, sc + h * WT);
}

// 64-row CTAs for the streamed kernel (two 32-row blocks of the weight each, see tma::Layout)
// where they still give about 0.9 of a CTA per SM (tma::launch_m says at which M). A first form
// re-laid the weight out in 64-row blocks (one copy a stage instead of two; bench-w4a16-tiles8.txt,
// us, 32 -> 64 rows): faster still at M = 8-16 (8192x28672 M = 16 58.1 -> 53.7, M = 8 43.4 ->
// 39.6) and for the warpgroup kernel at M = 48-256 (28672x8192 M = 128 123.7 -> 111.5), but a
// weight has one layout, and M = 1-4 then ran 64-row CTAs at two per SM instead of three: M = 1
// 39.5 -> 41.4 on 28672x8192, 16.0 -> 16.7 on 8192x8192. 4096x14336 (64 CTAs for 132 SMs)
// lost at every M (M = 1 15.7 -> 20.2).
bool stream_wide(int64_t N) {
  return N * 10 >= int64_t(sm_count()) * 64 * 9;
}

// Chunks c0 .. c0 + n - 1 of the weight's row blocks rb * SUB .. + SUB - 1 (`chunks` runs of
// `wchunk` bytes a block: relayout_kernel) to dst + b * part, one bulk copy a block. The last CTA
// may lack its last blocks: those copy the weight's last block `wlast` again (in bounds; the rows
// they give lie past N, and the reductions store nothing of them).
template <int SUB>
__device__ __forceinline__ void copy_weight_runs(uint8_t* dst, uint32_t part,
                                                 const uint8_t* __restrict__ packed, int64_t rb,
                                                 int64_t wlast, int64_t chunks, int64_t c0,
                                                 uint32_t n, uint32_t wchunk, uint64_t* bar,
                                                 uint64_t policy) {
#pragma unroll
  for (int b = 0; b < SUB; ++b) {
    const int64_t first = (rb * SUB + b < wlast ? rb * SUB + b : wlast) * chunks + c0;
    bulk_load(dst + b * part, packed + first * wchunk, n * wchunk, bar, policy);
  }
}

// ---------------------------------------------------------- TMA driver -----
// The re-laid-out weight puts all bytes of one block of 8*TILES rows in one
// contiguous region, chunk after chunk (see relayout_kernel). So one thread
// (lane 0 of warp 0) can stream it with 1-D bulk copies (cp.async.bulk, the
// TMA engine) into a ring of kStages shared-memory stages, each stage holding
// one 128-k chunk per warp. The ring keeps kStages x 17 KB in flight per block
// without spending registers, which the register-prefetch design could not
// (it peaked at ~1.5 TB/s: one chunk in flight per warp). Full and
// empty mbarriers hand stages between producer and consumer warps; warps copy
// their chunk to registers and release the stage before decoding it. A block
// covers NT x 8 activation rows; larger M runs several blocks per row block
// (blockIdx.x = row block * mblocks + m block: neighbours share the weight in L2).
namespace tma {

// RAW: the table-free decode (no table in shared memory). WARPS: warps of a block, one chunk each
// per stage. SUB: row blocks of the weight (of TILES / SUB tiles each) that one CTA covers; a
// stage holds SUB parts, part h the WARPS chunks of row block h as the weight keeps them (each
// chunk its codes, then its scale bytes: relayout_kernel), so that each part is one bulk copy.
template <int TILES, bool NV, int kStages, bool RAW, int WARPS, int SUB_ = 1>
struct Layout {
  static constexpr int SUB = SUB_;
  static constexpr uint32_t wchunk = layout::run_bytes(TILES / SUB, NV);  // a block's chunk
  static constexpr uint32_t part = WARPS * wchunk, stage = SUB * part;
  static constexpr uint32_t lut = RAW ? 0 : 256 * 32 * 4, ring = lut, bars = ring + kStages * stage,
                            bytes = bars + 2 * kStages * 8;
};

// Blocks per SM: three for the 2-stage M <= 8 kernel (85 registers, 67 KB of
// shared memory each), two for M <= 16 (128 registers: the register file of
// each of the 4 schedulers holds 4 warps), one for the 32-row kernel.
#define MRGPTQ_STREAM_MINB(NT, STAGES) ((NT) == 1 && (STAGES) == 2 ? 3 : (NT) <= 2 ? 2 : 1)
// RAW: table-free decode (mma_chunk_raw; NVFP4 then expects inv_g = kNvFold / G).
// The producer refills the stage of step s as soon as every warp has copied it, inside step s
// ("early refill"), not at the top of step s + 1 after its own warp's decode of step s: about
// one decode more of lead time for each stage's bytes, while warp 0 waits for the slowest
// warp's copy. Measured against the late refill on the H200 (bench_w4a16_tc at 2ea760c,
// docs/kernels/h200/bench-w4a16-2ea760c.txt, MXFP4, late -> early): M = 1 (table) 18.3 -> 17.6
// us on 8192x8192, 50.4 -> 48.0 on 28672x8192, 47.7 -> 44.8 on 8192x28672, 18.5 -> 17.9 on
// 4096x14336; M = 16 (table-free) 26.9 -> 26.5, 73.5 -> 71.3, 71.9 -> 65.0, 25.9 -> 24.3; M = 32
// ties or wins (117.5 -> 101.0 on 8192x28672); the late refill is gone.
// MXCHECK, mx_bias: for_tile_pairs_folded and folded_scale_pairs (the launch picks them from
// TcWeight::mx_fold_shift).
template <int TILES, bool NV, int NT, int kStages, bool RAW, int LAYOUT, int WARPS, int MINB,
          int SUB, bool MXCHECK>
__global__ void __launch_bounds__(WARPS * 32, MINB)
    w4a16_stream(const uint16_t* __restrict__ X, int M, const uint8_t* __restrict__ packed,
                 int64_t N, int64_t K, int mblocks, float inv_g, uint32_t mx_bias, bool evict_first,
                 uint16_t* __restrict__ Y, bool pdl) {
  using L = Layout<TILES, NV, kStages, RAW, WARPS, SUB>;
  extern __shared__ __align__(128) uint8_t smem[];
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + L::bars);
  uint64_t* empty = full + kStages;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t rb = blockIdx.x / mblocks, chunks = (K + 127) / 128;
  const int mb = int(blockIdx.x % mblocks);
  const int64_t stages = (chunks + WARPS - 1) / WARPS;

  // Thread 0 is the producer: it fills the ring, then refills the stage of
  // step s inside step s, once every warp has copied it to registers (a warp
  // releases its stage before decoding it). No dedicated producer warp: 8
  // warps x 2 blocks x 128 registers is exactly one SM's register file, a
  // ninth warp would cost the second block.
  const bool producer = threadIdx.x == 0;
  if (producer) {  // the per-CTA phases of a -DMRGPTQ_WG_TRACE build (wg_trace.cuh)
    WG_TRACE(0, wg_trace::global_ns());
    WG_TRACE(1, clock64());
  }
  uint64_t policy = 0;           // the weight's L2 policy (l2_policy), the producer's
  auto issue = [&](int64_t s) {  // the weight's row blocks of this CTA: copy_weight_runs
    const int slot = int(s % kStages);
    const int64_t c0 = s * WARPS;
    const uint32_t n = uint32_t(chunks - c0 < WARPS ? chunks - c0 : WARPS);
    mbar_expect_tx(&full[slot], SUB * n * L::wchunk);
    copy_weight_runs<SUB>(smem + L::ring + slot * L::stage, L::part, packed, rb,
                          (N - 1) / ((TILES / SUB) * 8), chunks, c0, n, L::wchunk, &full[slot],
                          policy);
  };
  // A programmatic launch (pdl; plain launches skip both griddepcontrol instructions) issues
  // its first weight copies, lets the next kernel start, and waits for the kernel before it only
  // after the block barrier, before its first read of X. In chains of 8 layers (MXFP4, two
  // rounds) against the wait before any copy and the trigger after the main loop: 8192x8192
  // M = 1 13.3-13.4 -> 12.2-12.3 us a layer, 28672x8192 M = 1 36.8-36.9 -> 35.2, 8192x28672
  // M = 16 43.6-43.9 -> 42.5-42.6; 4096x14336 M = 1 12.3 -> 12.5-12.6, the one loss
  // (docs/kernels/h200/s24-run1.txt). This placement once made the kernel wrong in 1105 of 2000
  // runs: the cause was the ring's unfenced slot release (release_slot_after_reads), and since
  // the fence it passes 2000 of 2000, plain and programmatic (s23-run8.txt, s24-run1.txt). An L2
  // prefetch of the weight before the wait was slower (s21-run3.txt).
  if (producer) {  // the first stages fly while the block builds its table
    ring_init(full, empty, kStages, WARPS);
    policy = l2_policy(evict_first);
    for (int64_t s = 0; s < kStages && s < stages; ++s) issue(s);
  }
  if (pdl) grid_dependents_launch();
  const int grp = lane >> 2, t = lane & 3, m_base = mb * NT * 8;
  if constexpr (!RAW) fill_lut(reinterpret_cast<uint32_t*>(smem));
  __syncthreads();
  if (pdl) grid_dependency_wait();

  const uint32_t lut = su32(smem) + 4 * lane;
  float acc[(TILES + 1) / 2][NT][4] = {};
  // The activation cursor (XCursor) steps over the warp's chunks. Measured on the H200 against
  // the per-load address rebuild (docs/kernels/h200/bench-w4a16-xcursor.txt, two rounds, MXFP4):
  // M = 1 16.7 -> 16.2 us on 8192x8192, 41.4 -> 39.6 on 28672x8192, 41.3 -> 38.5 on 8192x28672,
  // 16.5 -> 16.1 on 4096x14336; M = 8 2-4% faster on every shape. (Two chunks a warp and step,
  // to share the step's waits and refill, lost: 17.4 -> 20.2-22.8 us at M = 8 on 8192x8192.)
  XCursor<NT> xc(X, M, K, m_base, grp, int64_t(warp) * 128 + 32 * t);
  for (int64_t s = 0; s < stages; ++s, xc.advance(WARPS * 128)) {
    const int slot = int(s % kStages);
    const bool active = s * WARPS + warp < chunks;  // warp-uniform
    // The activation loads go out before the wait for the weight bytes, so
    // that their L2 latency overlaps the TMA's instead of following it.
    XFrag<NT> x;
    if (active) xc.load(x, K);
    mbar_wait(&full[slot], uint32_t((s / kStages) & 1));
    if (producer && s == 0) WG_TRACE(2, clock64());
    uint4 q[TILES];
    uint32_t sc[TILES];
    if (active) copy_chunk<L, TILES, NV>(smem, slot, warp, lane, q, sc);
    release_slot_after_reads(&empty[slot], lane);  // the bytes are in registers: refill it
    if (producer && s + kStages < stages) {        // the early refill (above)
      mbar_wait(&empty[slot], uint32_t((s / kStages) & 1));
      issue(s + kStages);
    }
    __syncwarp();
    if (active) {
      if constexpr (LAYOUT == 2)
        mma_chunk_l2<NT, TILES, NV, MXCHECK>(acc, q, sc, x, mx_bias);
      else if constexpr (RAW)
        mma_chunk_raw<NT, TILES, NV, MXCHECK>(acc, q, sc, x, mx_bias);
      else
        mma_tiles<NT, TILES, NV>(acc, q, sc, x, lut);
    }
  }
  static_assert(WARPS * NT * ((TILES + 1) / 2) * 4 * 32 * 4 <= kStages * L::stage,
                "the reduction fits in the ring");
  if (producer) WG_TRACE(3, clock64());
  __syncthreads();  // every stage has landed and been read: reuse the ring
  reduce_store<WARPS, NT, TILES>(reinterpret_cast<float*>(smem + L::ring), acc, threadIdx.x, warp,
                                 lane, m_base, M, rb * TILES * 8, N, inv_g, Y, sync_block);
  if (producer) {
    WG_TRACE(5, clock64());
    WG_TRACE(6, wg_trace::global_ns());
  }
}

// Calls go(kernel) with K_CHECK where the weight's chunks check their scales, else K_FOLD (both
// as std::integral_constant, so that go can set the kernel's attributes).
template <auto K_FOLD, auto K_CHECK, class Go>
void with_fold_kernel(const Fold& f, Go go) {
  if (f.check) return go(std::integral_constant<decltype(K_CHECK), K_CHECK>{});
  go(std::integral_constant<decltype(K_FOLD), K_FOLD>{});
}

// Dynamic shared memory of which an SM holds exactly two CTAs (228 KB a SM, 1 KB each reserved).
constexpr int kHalfSmem = 227 * 1024 / 2 - 1024;

// TILES: 8-row tiles a CTA covers, SUB row blocks of the weight (w.tiles = TILES / SUB).
template <int TILES, bool NV, int NT, int STG, bool RAW, int LAYOUT = 1, int WARPS = 8,
          int MINB = MRGPTQ_STREAM_MINB(NT, STG), int SUB = 1>
void launch(const uint16_t* X, int M, const TcWeight& w, uint16_t* Y, cudaStream_t st) {
  static_assert(LAYOUT == 1 || RAW, "layout 2 has no table decode");
  using L = Layout<TILES, NV, STG, RAW, WARPS, SUB>;
  static_assert(L::bytes * MINB <= 227 * 1024, "MINB blocks fit in one SM's shared memory");
  if (w.tiles * SUB != TILES) throw Error("W4A16 streamed kernel: weight row blocks do not match");
  const int mblocks = (M + NT * 8 - 1) / (NT * 8);
  const int64_t rows = (w.N + TILES * 8 - 1) / (TILES * 8), blocks = rows * mblocks;
  if (blocks > int64_t(0x7FFFFFFF)) throw Error("W4A16: M x N too large for one launch");
  // The table decode (not RAW) does not fold: 1 / G for NVFP4, 1 for MXFP4. NVFP4's 1 / G is
  // rounded once, then (RAW) times 2^9 exactly: see folded_scale_pairs.
  const Fold fold = RAW ? fold_of(w) : Fold{false, kMxFoldBias, NV ? 1.f / w.global_scale : 1.f};
  // In a programmatic launch, a grid of at most two CTAs an SM on the 3-slot kernel asks for half
  // the shared memory, so that the SM holds two: a dependent launched early would otherwise take
  // the third slots and pile three CTAs onto the SMs that free first. Measured on the H200 in
  // chains of 8 layers with the trigger right after the first copies (an earlier form, see
  // w4a16_stream; docs/kernels/h200/s20-pdl-knobs.txt, two rounds, MXFP4): 8192x8192 M = 1 15.7 ->
  // 12.0 us a layer, no change on the other shapes nor with plain launches (14.5-14.7).
  const bool pdl = programmatic_launch();
  const bool two =
      pdl && MINB == 3 && blocks <= 2 * int64_t(sm_count()) && int(L::bytes) <= kHalfSmem;
  const int smem = two ? kHalfSmem : int(L::bytes);
  // The checking form exists for table-free MXFP4 decodes only.
  with_fold_kernel<w4a16_stream<TILES, NV, NT, STG, RAW, LAYOUT, WARPS, MINB, SUB, false>,
                   w4a16_stream<TILES, NV, NT, STG, RAW, LAYOUT, WARPS, MINB, SUB, RAW && !NV>>(
      fold, [&](auto k) {
        constexpr auto kernel = decltype(k)::value;
        use_dynamic_smem<kernel>(smem);
        launch_dependent(pdl, kernel, unsigned(blocks), WARPS * 32, size_t(smem), st, X, M,
                         w.packed, w.N, w.K, mblocks, fold.inv_g, fold.mx_bias, mblocks == 1, Y);
      });
#ifdef MRGPTQ_WG_TRACE
  wg_trace::dump(blocks, st, NT * 8, 1, false, "stream");
#endif
}

// ------------------------------------------- activations staged by TMA --
// M = 1-32 on weights in 32-row blocks, layout 2 (try_launch_xs says where; NT = 1 for M <= 8, 2
// to 16, 4 above): the same warp work as w4a16_stream
// (one 32-row block x one 128-k chunk a warp and stage), but the activation rows of each chunk come
// with the weight in the stage, as a box of the TMA engine, instead of each warp loading its 16 x
// 128 k (M = 16) from L2 itself. Those loads were the kernel's leading stall: with the activations
// taken from registers instead (an upper bound, not a result:
// docs/kernels/h200/nox-experiment.patch, bench-w4a16-nox-experiment.txt), M = 16 ran 56.4 -> 46.7
// us on 28672x8192, 56.5 -> 43.8 on 8192x28672, 22.3 -> 17.2 on 8192x8192. Staged, the loads leave
// the critical path, but the kernel then needs one CTA an SM (~200 KB of ring) and gains only where
// its grid is one wave (try_launch_xs). A CTA covers SUB row blocks: warp w takes chunk w % CH of
// block w / CH, so the SUB warps of a chunk share its activation box (the 64-row CTA's point,
// without a warp holding 64 rows of registers).
//
// One more warp only issues the copies. With thread 0 of consumer warp 0 refilling inside its
// loop (as w4a16_stream does), the SASS showed that warp running a divergent block of ~130-230
// instructions a stage (two bulk and up to eight tensor copies, each tensor copy a uniform-datapath
// loop) on top of its ~345: the warp every refill waits on did ~1.5x the others' work, and with 16
// warps on a ring of 2-3 stages the whole CTA waited with it. The producer warp took M = 16 from
// 20.0 to 18.2 us on 8192x8192, 19.5 -> 16.6 on 4096x14336, 30.9 -> 26.4 on 8192x14336, 42.0 ->
// 34.5 on 8192x20480 (docs/kernels/h200/bench-w4a16-xs-producer-warp.txt); issuing the copies from
// ten lanes of it instead of one (bench_tma_copies: one thread issues small copies ~1.5-1.9x slower
// than 4-32 lanes) changed nothing measurable, so one thread issues them.
//
// The box is [rows][2][64 k] of a 3-D view of X ({64 k, K / 64 halves, M rows}), 128-byte
// swizzled: a lane reads its 32 k of row r (k = 32 t .. + 31 of the chunk) as four 16-byte
// pieces j = 4 (t & 1) + c of line 2 r + t / 2, stored at piece j ^ (line & 7). The 8 lanes of a
// quarter-warp (rows g, g + 1, t = 0..3) then hit 8 distinct bank groups for every c -- a plain
// [rows][128 k] box would put t = 0 and 2 (and rows g, g + 1) in the same banks. k past K (the
// half chunk when K % 128 == 64) arrives as zeros. One box holds all M rows (M <= NT x 8, M x 256
// bytes a chunk): the rest of the slot keeps stale bytes, which reach only the outputs of rows
// past M -- the activation rows are the mma's B columns, each output column its own -- and those
// are never stored. A box of NT x 8 rows, the rows past M zero-filled by the TMA unit, cost time
// below each box height (the twelfth session, docs/kernels/h200/bench-w4a16-xs-boxm.txt, us, full
// box -> M rows): 4096x14336 (32-row CTAs) M = 2 15.9 -> 15.0, M = 9 17.5 -> 16.6, M = 20 25.2 ->
// 20.5; 8192x8192 (64-row CTAs) M = 9 18.8 -> 18.4; ties where the box is full.
template <bool NV, int NT, int STAGES, int CH, int SUB>
struct XsLayout {
  static constexpr uint32_t wchunk = layout::run_bytes(4, NV);  // a 32-row block's chunk
  static constexpr uint32_t xchunk = NT * 8 * 256;              // NT x 8 rows x 128 k BF16
  static constexpr uint32_t xpart = CH * xchunk, wpart = CH * wchunk;
  static constexpr uint32_t stage = (xpart + SUB * wpart + 1023) / 1024 * 1024;
  static constexpr uint32_t bars = STAGES * stage, bytes = bars + 2 * STAGES * 8 + 1024;
  static_assert(xchunk % 1024 == 0, "the swizzle atoms of a box are 1024-aligned");
};

// One CTA an SM (its ring takes most of the shared memory; xs_form sizes grids of one wave).
template <bool NV, int NT, int STAGES, int CH, int SUB, bool MXCHECK>
__global__ void __launch_bounds__(32 * (CH * SUB + 1), 1)
    w4a16_stream_xs(const __grid_constant__ CUtensorMap xmap, int M,
                    const uint8_t* __restrict__ packed, int64_t N, int64_t K, float inv_g,
                    uint32_t mx_bias, uint16_t* __restrict__ Y, bool pdl) {
  using L = XsLayout<NV, NT, STAGES, CH, SUB>;
  constexpr int WARPS = CH * SUB;
  extern __shared__ __align__(1024) uint8_t smem_raw[];
  uint8_t* smem = align_1024(smem_raw);
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + L::bars);
  uint64_t* empty = full + STAGES;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, h = warp / CH, cw = warp % CH;
  const int64_t rb = blockIdx.x, chunks = (K + 127) / 128;
  const uint32_t xbytes = uint32_t(M) * 256;  // a chunk's activation box: M rows x 128 k
  const int64_t stages = (chunks + CH - 1) / CH;
  const bool producer = threadIdx.x == WARPS * 32;  // lane 0 of the last warp
  if (threadIdx.x == 0) {  // the per-CTA phases of a -DMRGPTQ_WG_TRACE build (wg_trace.cuh)
    WG_TRACE(0, wg_trace::global_ns());
    WG_TRACE(1, clock64());
  }
  uint64_t policy = 0;
  auto issue_w = [&](int64_t s) {  // the weight's runs (copy_weight_runs)
    const int slot = int(s % STAGES);
    const int64_t c0 = s * CH;
    const int n = int(chunks - c0 < CH ? chunks - c0 : CH);
    uint8_t* st = smem + slot * L::stage;
    mbar_expect_tx(&full[slot], uint32_t(n) * (SUB * L::wchunk + xbytes));
    copy_weight_runs<SUB>(st + L::xpart, L::wpart, packed, rb, (N - 1) / 32, chunks, c0,
                          uint32_t(n), L::wchunk, &full[slot], policy);
  };
  auto issue_x = [&](int64_t s) {  // the activation boxes
    const int slot = int(s % STAGES);
    const int64_t c0 = s * CH;
    const int n = int(chunks - c0 < CH ? chunks - c0 : CH);
    uint8_t* st = smem + slot * L::stage;
    for (int c = 0; c < n; ++c)
      tma_3d(st + c * L::xchunk, &xmap, 0, int(2 * (c0 + c)), 0, &full[slot]);
  };
  auto issue = [&](int64_t s) { issue_w(s), issue_x(s); };
  // A programmatic launch waits for the kernel before it after stage 0's weight copies and
  // before the first activation box; every thread lets the next kernel start after the block
  // barrier (see w4a16_stream). Issuing every first stage's weight before the wait cost 1.6-2.4
  // us at M = 16 (docs/kernels/h200/s20-pdl.txt).
  if (producer) {
    ring_init(full, empty, STAGES, WARPS);
    asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&xmap)) : "memory");
    policy = l2_policy(true);  // the weight is read once: evict first
    issue_w(0);
    if (pdl) grid_dependency_wait();  // consumers read X, write Y only after the boxes land
    issue_x(0);
    for (int64_t s = 1; s < STAGES && s < stages; ++s) issue(s);
  }
  __syncthreads();
  if (pdl) grid_dependents_launch();
  if (warp == WARPS) {  // the producer warp: refill each stage once every consumer has read it
    if (producer)
      for (int64_t s = STAGES; s < stages; ++s) {
        mbar_wait(&empty[s % STAGES], uint32_t((s / STAGES - 1) & 1));
        issue(s);
      }
    return;
  }
  const int grp = lane >> 2, t = lane & 3;
  float acc[2][NT][4] = {};
  for (int64_t s = 0; s < stages; ++s) {
    const int slot = int(s % STAGES);
    const bool active = s * CH + cw < chunks;  // warp-uniform
    mbar_wait(&full[slot], uint32_t((s / STAGES) & 1));
    if (threadIdx.x == 0 && s == 0) WG_TRACE(2, clock64());
    const uint8_t* st = smem + slot * L::stage;
    uint4 q[4];
    uint32_t sc[4];
    XFrag<NT> x;
    if (active) {
      run_to_regs<4, NV>(st + L::xpart + h * L::wpart + cw * L::wchunk, lane, q, sc);
      const uint32_t xb = su32(st + cw * L::xchunk);
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        const uint32_t line = 2 * (nt * 8 + grp) + (t >> 1);
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const uint32_t a = xb + line * 128 + (((4 * (t & 1) + c) ^ (line & 7)) << 4);
          asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];"
                       : "=r"(x.v[nt][c].x), "=r"(x.v[nt][c].y), "=r"(x.v[nt][c].z),
                         "=r"(x.v[nt][c].w)
                       : "r"(a));
        }
      }
    }
    // With three stages or more a slot is released after the step's mma, not as soon as its
    // loads are issued: the same order for the slot (see release_slot_after_reads), and faster
    // on three of the four layer shapes (MXFP4 us, fence right after the loads -> after the mma:
    // 8192x28672 M = 16 47.4-47.6 -> 45.0-45.5, 28672x8192 M = 16 48.5-48.7 -> 47.8-48.3,
    // 8192x8192 M = 16 18.4-18.6 -> 17.8-18.0); a 2-stage ring (32-row CTAs at NT = 2 and 4)
    // cannot hold a slot through the multiply: 4096x14336 M = 16 16.7-16.9 -> 18.5-18.6
    // (docs/kernels/h200/s23-run7.txt, s23-run8.txt).
    constexpr bool kLate = STAGES > 2;
    if constexpr (!kLate) release_slot_after_reads(&empty[slot], lane);
    if (active) mma_chunk_l2<NT, 4, NV, MXCHECK>(acc, q, sc, x, mx_bias);
    if constexpr (kLate) release_slot_after_use(&empty[slot], lane);
  }
  // Each row block's CH warps reduce their partial sums in their own part of the ring.
  constexpr int E = NT * 2 * 4 * 32;
  static_assert(WARPS * E * 4 <= STAGES * L::stage, "the reduction fits in the ring");
  if (threadIdx.x == 0) WG_TRACE(3, clock64());
  named_sync<WARPS * 32>();  // every stage has landed and been read: reuse the ring
  reduce_store<CH, NT, 4>(reinterpret_cast<float*>(smem) + h * CH * E, acc, threadIdx.x % (CH * 32),
                          cw, lane, 0, M, (rb * SUB + h) * 32, N, inv_g, Y, named_sync<WARPS * 32>);
  if (threadIdx.x == 0) {
    WG_TRACE(5, clock64());
    WG_TRACE(6, wg_trace::global_ns());
  }
}

// The X-staged kernel (try_launch_xs says where): K a multiple of 64 (the box's halves), 32-row
// blocks in layout 2, M <= NT x 8 (one activation box; xs_form picks NT so).
template <bool NV, int NT, int STAGES, int CH, int SUB>
void launch_xs(const uint16_t* X, int M, const TcWeight& w, uint16_t* Y, cudaStream_t st) {
  using L = XsLayout<NV, NT, STAGES, CH, SUB>;
  static_assert(L::bytes <= 227 * 1024, "the ring fits in one SM's shared memory");
  if (M < 1 || M > NT * 8) throw Error("W4A16 X-staged kernel: M past its activation box");
  const int64_t blocks = (w.N + SUB * 32 - 1) / (SUB * 32);  // at most the SMs (xs_form)
  const cuuint64_t dim[3] = {64, cuuint64_t(w.K / 64), cuuint64_t(M)};
  const cuuint64_t stride[2] = {128, cuuint64_t(w.K) * 2};
  const cuuint32_t box[3] = {64, 2, cuuint32_t(M)};  // the M rows only (see XsLayout)
  const CUtensorMap map = bf16_tensor_map(X, 3, dim, stride, box, "W4A16 streamed kernel");
  const Fold fold = fold_of(w);
  with_fold_kernel<w4a16_stream_xs<NV, NT, STAGES, CH, SUB, false>,
                   w4a16_stream_xs<NV, NT, STAGES, CH, SUB, !NV>>(fold, [&](auto k) {
    constexpr auto kernel = decltype(k)::value;
    use_dynamic_smem<kernel>(int(L::bytes));
    launch_dependent(programmatic_launch(), kernel, unsigned(blocks), (CH * SUB + 1) * 32, L::bytes,
                     st, map, M, w.packed, w.N, w.K, fold.inv_g, fold.mx_bias, Y);
  });
#ifdef MRGPTQ_WG_TRACE
  wg_trace::dump(blocks, st, NT * 8, 1, false, "stream_xs");
#endif
}

// Where the X-staged kernel runs: where its grid is one wave (at most one CTA per SM), at any K,
// at M = 1-32 in 32-row CTAs, and on wide weights (stream_wide) in CTAs of 2 to 7 row blocks
// (the fewest that make one wave) at M = 5-32; else w4a16_stream. With its
// producer warp and boxes of the M rows its time is nearly flat in M within each box height
// (NT = 1 / 2 / 4: up to 8 / 16 / 32 activation rows). Measured on the H200, us, two rounds each:
//  * M = 9-16, NT = 2 (the tenth session, docs/kernels/h200/bench-w4a16-xs-producer-warp.txt;
//    old kernel -> X-staged, M = 9 / 12 / 16): 8192x8192 20.4 -> 18.7 / 18.3 / 18.3; 8192x14336
//    28.7 / 29.8 -> 26.9 / 26.5, M = 16 26.4; 8192x28672 (28 stages) 48.5 / 50.4 / 57.4 -> 45.5 /
//    45.5 / 45.5; 4096x14336 (32-row CTAs) M = 9 19.6 -> 18.0, M = 12 / 16 16.8 / 16.7.
//  * M <= 8, NT = 1 in deeper rings (the eleventh session, bench-w4a16-xs-nt1.txt): in 32-row CTAs
//    from M = 2 (4096x14336 M = 2 / 4 / 8: 15.9 / 16.2 / 16.9 -> 15.6 / 15.1 / 15.0; M = 1 a
//    tie), in 64-row CTAs from M = 5 (8192x28672 M = 4 / 5 / 8: 38.2 / 38.7 / 41.3 -> 38.7 / 38.4
//    / 38.6; 8192x8192 M = 1 / 5 / 8: 15.7 / 16.3 / 16.9 -> 16.6 / 16.3 / 16.0), then with the
//    full 8-row box. With boxes of the M rows (the twelfth session, bench-w4a16-xs-boxm.txt, the
//    committed route -> X-staged, M = 1 / 2 / 4): 4096x14336 (old kernel at M = 1, the full box
//    at 2 / 4) 16.0 / 15.9 / 15.3 -> 14.9 / 14.8 / 14.9, 8192x8192 15.8 / 15.8 / 16.2 -> 15.9
//    / 15.7 / 15.8, 8192x28672 37.5 / 37.5 / 38.3 -> 38.1 / 38.2 / 38.4; in CTAs of 4
//    (bench-w4a16-xs-sub.txt) 14336x4096 M = 1 / 2 17.2 / 16.8 -> 15.9 / 15.8, in CTAs of 7
//    28672x8192 38.9 / 39.7 -> 41.5 / 41.6; on K = 4096 (bench-w4a16-xs-small.txt, M = 1 / 2 / 4)
//    11008x4096 (86 CTAs of 4 on 132 SMs) 13.6 / 13.8 / 14.0 -> 15.5 / 15.5 / 15.5, 8192x4096
//    11.2 / 11.2 / 11.5 -> 11.7 / 11.3 / 11.3, 4096x4096 (32-row CTAs, 2 stages a CTA) 8.6 / 8.6 /
//    8.9 -> 8.9 / 8.9 / 8.9, 4096x11008 13.8 / 13.8 / 14.2 -> 13.3 / 13.3 / 13.3. So 32-row CTAs
//    take M = 1-4 (a loss of 0.3 us on 4096x4096 against 1.1 on 4096x14336 and 0.5 on 4096x11008
//    won), the other forms keep the old kernel there.
//  * M = 17-32, NT = 4 in CTAs of 8 consumer warps (145 registers; 16 would spill), the eleventh
//    session (bench-w4a16-xs-nt4.txt, M = 17 / 24 / 32): 8192x8192 24.5 / 25.1 / 26.9 -> 23.0 /
//    23.0 / 23.0; 8192x28672 62.5 / 64.4 / 68.5 -> 61.8 / 60.5 / 61.0; 4096x14336 (32-row CTAs)
//    24.7 / 27.1 / 30.4 -> 25.4 / 21.2 / 20.7; there M = 17 / 18 / 19 / 20 / 22 24.6 / 24.8 /
//    25.6 / 25.6 / 26.0 -> 26.8 / 29.1 / 25.7 / 23.7 / 23.0 (bench-w4a16-xs-nt4-narrow.txt), the
//    rows past M of the full box being zero-filled: with boxes of the M rows M = 17 / 18 / 20
//    (the old kernel at 17 / 18) 24.6 / 24.6 / 25.2 -> 20.3 / 20.2 / 20.3
//    (bench-w4a16-xs-boxm.txt).
// Where 64-row CTAs would take several waves (28672x8192: 448 CTAs, 3.4 waves), they lost: M = 9
// / 12 / 16 54.2 / 55.0 / 56.6 -> 58.4 / 58.2 / 58.1, in 32-row CTAs 64.6 / 62.7 / 62.2, and
// persistent (a CTA an SM walking the tiles, the ring running on across them) 56.7 / 56.6 at M =
// 16 (docs/kernels/h200/xs-persistent-experiment.patch). What wins there is a grid of one wave
// again: CTAs of 3 to 7 row blocks (96-224 rows; 28672 rows = 896 blocks = 128 CTAs of 7 on
// 132 SMs), the warps' work a stage unchanged (a chunk of one row block; CH = 16 / SUB chunks a
// stage where that divides, 8 consumer warps at NT = 4), all SUB row blocks sharing each activation
// box. The twelfth session (docs/kernels/h200/bench-w4a16-xs-sub.txt, two rounds, old kernel ->
// X-staged, M = 5 / 8 / 9 / 16 / 17 / 24 / 32): 28672x8192 (CTAs of 7) 42.7 / 44.0 / 54.7 / 56.5
// / 79.9 / 81.9 / 87.7 -> 41.7 / 41.5 / 48.6 / 48.4 / 60.6 / 60.7 / 60.7; 14336x4096 (CTAs of
// 4) 16.0 / 16.6 / 19.3 / 20.3 / 27.9 / 29.0 / 30.1 -> 15.8 / 15.8 / 18.2 / 18.1 / 24.1 / 24.1
// / 24.4. 32-row CTAs also lost on the wide weights that fit one wave (8192x28672 M = 9 / 12 /
// 16 52.4 / 47.8 / 47.9), and 32-row weights past one wave keep the old kernel.
struct XsForm {
  int sub = 0;  // 32-row blocks of the weight a CTA; 0: not here (w4a16_stream)
  int nt = 0;   // a ring slot's activation rows, in 8s: 1 / 2 / 4 (the box holds the M rows)
};
XsForm xs_form(int64_t M, const TcWeight& w) {
  if (M > 32 || w.K % 64 || w.tiles != 4 || w.layout != 2) return {};
  const int nt = M <= 8 ? 1 : M <= 16 ? 2 : 4;
  const int64_t blocks = (w.N + 31) / 32, sms = sm_count();
  if (!stream_wide(w.N)) return blocks <= sms ? XsForm{1, nt} : XsForm{};
  const int64_t per = (blocks + sms - 1) / sms;  // row blocks a CTA for a grid of one wave
  // The fewest blocks that make one wave (the thirteenth session's docs/kernels/h200/
  // bench-w4a16-xs-exact.txt, two rounds, CTAs of 4 / 7 -> exactly `per`, M = 5 / 8 / 16 / 32):
  // 11008x4096 (115 CTAs of 3, not 86 of 4) 15.4 / 15.4 / 17.6 / 23.8 -> 13.7 / 13.8 / 15.3 /
  // 21.0; 20480x8192 (128 of 5, not 92 of 7) 40.8 / 40.6 / 47.4 / 60.0 -> 29.6 / 29.6 / 33.7 /
  // 47.5; 24576x4096 (128 of 6, not 110 of 7) 24.2 / 24.2 / 28.1 / 34.6 -> 21.9 / 21.9 / 24.6 /
  // 34.8; 14336x4096 (CTAs of 4 either way) unchanged.
  const int sub = per <= 2 ? 2 : per <= 7 ? int(per) : 0;
  if (sub == 0 || M < 5) return {};  // M = 1-4: 32-row CTAs only
  return XsForm{sub, nt};
}
// The forms as launch_xs<NV, NT, STAGES, CH, SUB>: CTAs of CH x SUB consumer warps
// (16, or 8 at NT = 4, where 145 registers would not fit 16; 14 at SUB = 7) and a ring of the
// stages that fit ~200 KB.
template <bool NV>
bool try_launch_xs(const uint16_t* X, int64_t M, const TcWeight& w, uint16_t* Y, cudaStream_t st) {
  const XsForm f = xs_form(M, w);
  switch (f.sub * 10 + f.nt) {
    case 11:  // 32-row CTAs, 8-row boxes, 3 stages of 68 KB
      return launch_xs<NV, 1, 3, 16, 1>(X, int(M), w, Y, st), true;
    case 12:  // 32-row CTAs, 16-row boxes, 2 stages
      return launch_xs<NV, 2, 2, 16, 1>(X, int(M), w, Y, st), true;
    case 14:  // 32-row CTAs, 32-row boxes, 8 warps, 2 stages of 81 KB
      return launch_xs<NV, 4, 2, 8, 1>(X, int(M), w, Y, st), true;
    case 21:  // 64-row CTAs, 8-row boxes, 4 stages of 52 KB
      return launch_xs<NV, 1, 4, 8, 2>(X, int(M), w, Y, st), true;
    case 22:  // 64-row CTAs, 16-row boxes, 3 stages
      return launch_xs<NV, 2, 3, 8, 2>(X, int(M), w, Y, st), true;
    case 24:  // 64-row CTAs, 32-row boxes, 8 warps, 4 stages of 49 KB
      return launch_xs<NV, 4, 4, 4, 2>(X, int(M), w, Y, st), true;
    case 41:  // 128-row CTAs, 8-row boxes, 4 stages of 44 KB
      return launch_xs<NV, 1, 4, 4, 4>(X, int(M), w, Y, st), true;
    case 42:  // 128-row CTAs, 16-row boxes, 4 stages of 52 KB
      return launch_xs<NV, 2, 4, 4, 4>(X, int(M), w, Y, st), true;
    case 44:  // 128-row CTAs, 32-row boxes, 8 warps, 5 stages of 34 KB
      return launch_xs<NV, 4, 5, 2, 4>(X, int(M), w, Y, st), true;
    case 71:  // 224-row CTAs, 8-row boxes, 14 warps, 5 stages of 36 KB
      return launch_xs<NV, 1, 5, 2, 7>(X, int(M), w, Y, st), true;
    case 72:  // 224-row CTAs, 16-row boxes, 14 warps, 5 stages of 40 KB
      return launch_xs<NV, 2, 5, 2, 7>(X, int(M), w, Y, st), true;
    case 74:  // 224-row CTAs, 32-row boxes, 7 warps, 8 stages of 24 KB
      return launch_xs<NV, 4, 8, 1, 7>(X, int(M), w, Y, st), true;
    // CTAs of 3, 5 and 6 row blocks: CH x SUB = 15, 15, 12 consumer warps at NT = 1-2 (9, 10, 6 at
    // NT = 4), rings of ~160-220 KB.
    case 31:  // 96-row CTAs, 8-row boxes, 15 warps, 4 stages of 44 KB
      return launch_xs<NV, 1, 4, 5, 3>(X, int(M), w, Y, st), true;
    case 32:  // 96-row CTAs, 16-row boxes, 15 warps, 4 stages of 54 KB
      return launch_xs<NV, 2, 4, 5, 3>(X, int(M), w, Y, st), true;
    case 34:  // 96-row CTAs, 32-row boxes, 9 warps, 4 stages of 45 KB
      return launch_xs<NV, 4, 4, 3, 3>(X, int(M), w, Y, st), true;
    case 51:  // 160-row CTAs, 8-row boxes, 15 warps, 4 stages of 40 KB
      return launch_xs<NV, 1, 4, 3, 5>(X, int(M), w, Y, st), true;
    case 52:  // 160-row CTAs, 16-row boxes, 15 warps, 4 stages of 46 KB
      return launch_xs<NV, 2, 4, 3, 5>(X, int(M), w, Y, st), true;
    case 54:  // 160-row CTAs, 32-row boxes, 10 warps, 4 stages of 39 KB
      return launch_xs<NV, 4, 4, 2, 5>(X, int(M), w, Y, st), true;
    case 61:  // 192-row CTAs, 8-row boxes, 12 warps, 6 stages of 31 KB
      return launch_xs<NV, 1, 6, 2, 6>(X, int(M), w, Y, st), true;
    case 62:  // 192-row CTAs, 16-row boxes, 12 warps, 5 stages of 35 KB
      return launch_xs<NV, 2, 5, 2, 6>(X, int(M), w, Y, st), true;
    case 64:  // 192-row CTAs, 32-row boxes, 6 warps, 8 stages of 22 KB
      return launch_xs<NV, 4, 8, 1, 6>(X, int(M), w, Y, st), true;
  }
  return false;
}

// 8, 16 or 32 activation rows per block; beyond, more blocks over the same
// weight. M <= 8 runs a 2-stage ring at three blocks per SM: measured on the
// H100, 24 warps hide the table lookups' latency better than 4 stages at two
// blocks (M = 1: 2.65x vs 2.47x over BF16 on 8192x8192, 3.16x vs 3.01x on
// 28672x8192); wider tiles need the registers of two blocks. Decode
// (stream_decode_for): layout 2's (LAYOUT = 2) on a layout-2 weight; on a
// layout-1 weight the shared table to M = kStreamTableMaxM (kernels.hpp),
// table-free above (RAW).
// Measured on the H200 with the early refill (bench_w4a16_tc at 0b20264,
// docs/kernels/h200/bench-w4a16-0b20264.txt), table vs table-free: M = 1
// 17.6 vs 18.9 us on 8192x8192, 44.7 vs 49.7 on 8192x28672, 17.8 vs 19.3 on
// 4096x14336 (47.7 vs 47.4 on 28672x8192); M = 4 the same way; M = 8 19.8 vs
// 20.6 (table-free first), 51.7 vs 57.9, 51.5 vs 53.4 (20.3 vs 19.7 on
// 4096x14336); M = 16 and 32 table-free by 2-20%. The table's lookups cost
// PRMT + IMAD + LDS per BF16 pair; the table-free decode more ALU work and the
// byte permutes that re-pair the activations. (Two more table-free variants --
// rings twice as deep in the freed 32 KB, activations staged a step ahead by
// cp.async -- were slower everywhere and were removed.)
template <int TILES, bool NV, bool RAW, int LAYOUT = 1>
void launch_m(const uint16_t* X, int64_t M, const TcWeight& w, uint16_t* Y, cudaStream_t st) {
  const int m = int(M);
  // Layout 2 with at most one or two row blocks per SM: more warps per block instead of idle block
  // slots -- 16 warps and four stages at one block per SM, 12 at two -- where the K chunks fill
  // the wider stages (at most 1/32 of a block's chunk slots idle). Measured on the H200
  // (docs/kernels/h200/bench-w4a16-wide-blocks.txt, us, 8 warps -> more): 8192x28672 (12 warps)
  // M = 1 42.9 -> 41.4, M = 8 46.5 -> 45.1; 4096x14336 (16 warps) M = 1 17.2 -> 16.6, M = 16
  // 23.2 -> 22.7; 8192x8192 with 12 warps lost (M = 1 16.8 -> 17.3: 64 chunks in stages of 12).
  const int64_t rows = (w.N + TILES * 8 - 1) / (TILES * 8), sms = sm_count();
  const int64_t chunks = (w.K + 127) / 128;
  auto fills = [&](int64_t warps) {
    return 32 * ((chunks + warps - 1) / warps * warps - chunks) <= chunks;
  };
  const bool w16 = LAYOUT == 2 && rows <= sms && fills(16);
  const bool w12 = LAYOUT == 2 && !w16 && rows <= 2 * sms && fills(12);
  // 64-row CTAs (two row blocks of the weight each, SUB = 2; two stages, twice as large) where
  // they still give about 0.9 of a CTA per SM (stream_wide): the activation loads and the
  // per-chunk work are shared by twice the rows. From M = 17 always; at M = 5-16 only where
  // they outnumber the SMs (8 warps, two CTAs per SM), not as one 16-warp CTA per SM. M <= 4
  // keeps 32 rows at three CTAs per SM (the 64-row kernel takes ~120 registers and fits two).
  // Measured on the H200 against 32-row CTAs (docs/kernels/h200/bench-w4a16-wide-ctas.txt, two
  // rounds, us): M = 24 / 32 33.1 / 37.2 -> 25.1 / 26.7 on 8192x8192, 97.4 / 110.7 -> 83.0 /
  // 86.3 on 28672x8192, 82.0 / 94.2 -> 64.1 / 67.6 on 8192x28672; M = 8 / 16 on 28672x8192
  // 47.0 / 67.0 -> 45.1 / 59.1; as one 16-warp CTA per SM at M = 8 / 16 slower on 8192x8192
  // (17.3 / 23.1 -> 19.2 / 24.3) and no faster on 8192x28672 (43.6 / 58.2 -> 42.0 / 58.2).
  if constexpr (TILES == 4 && LAYOUT == 2) {
    if (try_launch_xs<NV>(X, M, w, Y, st)) return;
    if (M > 4 && stream_wide(w.N)) {
      if (M > 16) return launch<8, NV, 4, 2, RAW, LAYOUT, 8, 1, 2>(X, m, w, Y, st);
      if ((w.N + 63) / 64 > sms) {
        if (M <= 8) return launch<8, NV, 1, 2, RAW, LAYOUT, 8, 2, 2>(X, m, w, Y, st);
        return launch<8, NV, 2, 2, RAW, LAYOUT, 8, 2, 2>(X, m, w, Y, st);
      }
    }
  }
  if (M <= 8) {
    if constexpr (LAYOUT == 2) {
      if (w16) return launch<TILES, NV, 1, 4, RAW, LAYOUT, 16, 1>(X, m, w, Y, st);
      if (w12) return launch<TILES, NV, 1, 2, RAW, LAYOUT, 12, 2>(X, m, w, Y, st);
    }
    return launch<TILES, NV, 1, 2, RAW, LAYOUT>(X, m, w, Y, st);
  }
  if (M <= 16) {
    if constexpr (LAYOUT == 2)
      if (w16) return launch<TILES, NV, 2, 4, RAW, LAYOUT, 16, 1>(X, m, w, Y, st);
    return launch<TILES, NV, 2, 4, RAW, LAYOUT>(X, m, w, Y, st);
  }
  launch<TILES, NV, 4, 4, RAW, LAYOUT>(X, m, w, Y, st);
}

}  // namespace tma

template <int TILES, int NT>
void launch_tc_nt(const uint16_t* X, int M, Format f, int64_t N, int64_t K, const uint8_t* packed,
                  const uint8_t* scales, float g, uint16_t* Y, cudaStream_t st) {
  const unsigned blocks = unsigned((N + TILES * 8 - 1) / (TILES * 8));
  if (f == Format::NVFP4)
    w4a16_tc<TILES, true, NT>
        <<<blocks, kTcWarps * 32, 0, st>>>(X, M, packed, scales, N, K, 1.f / g, Y);
  else
    w4a16_tc<TILES, false, NT>
        <<<blocks, kTcWarps * 32, 0, st>>>(X, M, packed, scales, N, K, 1.f, Y);
  MRGPTQ_CUDA_LAUNCH_CHECK();
}

template <int TILES>
void launch_tc(const uint16_t* X, int M, Format f, int64_t N, int64_t K, const uint8_t* packed,
               const uint8_t* scales, float g, uint16_t* Y, cudaStream_t st) {
  if (M <= 8) return launch_tc_nt<TILES, 1>(X, M, f, N, K, packed, scales, g, Y, st);
  launch_tc_nt<TILES, 2>(X, M, f, N, K, packed, scales, g, Y, st);
}

// Row-major driver: fewer rows per block when the weight has few rows, so that
// the grid still fills the GPU at about two blocks per SM. One tile per block
// (measured) loses at M = 16: the activation loads are then shared by 8 rows.
int tiles_for(int64_t N) {
  const int64_t sms = sm_count();
  return N >= sms * 2 * 32 ? 4 : N >= sms * 8 ? 2 : 1;
}

// TMA driver: 32-row blocks (activation loads shared by 32 rows) down to
// about 3/4 of a block per SM. Measured on the H100 for N = 4096 (128 blocks
// of 32 rows vs 256 of 16): M = 1 2.49x vs 2.35x over BF16, M = 16 1.85x vs
// 1.50x, M = 64 0.77x vs 0.56x; 16- and 8-row blocks lost on every shape.
int stream_tiles_for(int64_t N) {
  const int64_t sms = sm_count();
  return N >= sms * 24 ? 4 : N >= sms * 8 ? 2 : 1;
}

void check_args(const uint16_t* X, int64_t M, int64_t N, int64_t K, int64_t max_m) {
  require_aligned_x(X, "W4A16 tensor-core kernel");
  if (N <= 0 || K <= 0 || K % 32)
    throw Error("W4A16 tensor-core kernel: K = " + std::to_string(K) +
                " must be a positive multiple of 32");
  if (M < 1 || M > max_m)
    throw Error("W4A16 tensor-core kernel: M = " + std::to_string(M) + " must be in 1.." +
                std::to_string(max_m));
}

// 16-byte lane units of the re-laid-out [N, K] weight: each block of 8 x tiles rows holds every
// 128-k chunk (the last ones partial), each 8-row tile 32 lane units per chunk.
int64_t relaid_units(int64_t N, int64_t K, int tiles) {
  const int64_t rows = 8 * tiles;
  return (N + rows - 1) / rows * ((K + 127) / 128) * tiles * 32;
}

// The re-laid-out weight's expansion (the dequantize + cuBLAS paths above M = 4096 and NVFP4
// W4A4's expanded path). A block takes one 128-k chunk of 64 rows (8 / TILES row blocks; grid
// x: row groups, y: chunks), so that every index is a shift of threadIdx and the block's
// coordinates: the first form divided each piece's run index by the chunk count and the tile
// count at run time (two 32-bit divisions a piece) and decoded each value by itself in float.
// A thread takes dev::kExpandPieces pieces (quarter units: 8 values of one row) 256 threads
// apart, so that each load (4 bytes a thread) and store (16) is contiguous across the quad and
// a warp writes two whole 256-byte row segments. The values: w4::expand_piece_mx / _nv.
template <bool NV, int LAYOUT, int TILES>
__global__ void __launch_bounds__(256)
    dequant_relaid(const uint8_t* __restrict__ packed, int64_t N, int64_t K, int chunks, float g,
                   uint16_t* __restrict__ out) {
  static_assert(dev::kExpandThreads == 256 && dev::kExpandPieces == 4, "64 rows a block");
  constexpr uint32_t run = layout::run_bytes(TILES, NV), scales = layout::run_scales(TILES);
  constexpr uint32_t RB = 8 / TILES;  // row blocks a block
  __shared__ float nv_mul[256];
  if constexpr (NV) w4::nv_multiplier_table(nv_mul, g);
  for (int c = blockIdx.y; c < chunks; c += gridDim.y) {
    uint32_t q[4], s[4];
    int64_t n[4];
    const int64_t k0 = int64_t(c) * 128 + 32 * (threadIdx.x / 4 % 4);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      // Unit u of the block (piece v = threadIdx + 256 j, h = v % 4): tile u / 32 of the block's
      // 8, lane u % 32 of it (row lane / 4, k 32 (lane % 4)).
      const uint32_t v = threadIdx.x + 256u * j, u = v / 4, ti = u / 32, lane = u % 32;
      n[j] = int64_t(blockIdx.x) * 64 + ti * 8 + lane / 4;
      const int64_t b = int64_t(blockIdx.x) * RB + ti / TILES;
      const uint8_t* at = packed + (b * chunks + c) * run;
      const uint32_t k = (ti % TILES) * 32 + lane;
      const bool in = n[j] < N && k0 < K;
      q[j] = in ? __ldg(reinterpret_cast<const uint32_t*>(at + k * 16 + (v % 4) * 4)) : 0u;
      s[j] = !in  ? 0u
             : NV ? uint32_t(__ldg(reinterpret_cast<const uint16_t*>(at + scales) + k))
                  : uint32_t(__ldg(at + scales + k));
    }
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      if (n[j] >= N || k0 >= K) continue;
      const uint32_t h = threadIdx.x % 4;  // the piece's quarter: k 8h .. 8h + 7 of the unit
      uint32_t raw[4];
      w4::piece_raw<LAYOUT>(q[j], raw);
      uint4& o = reinterpret_cast<uint4*>(out + n[j] * K + k0)[h];
      if constexpr (NV)
        o = w4::expand_piece_nv(raw, nv_mul[(s[j] >> (h < 2 ? 0 : 8)) & 0xFF]);
      else
        o = w4::expand_piece_mx(raw, s[j]);
    }
  }
}

}  // namespace

void w4a16_tensor_core(const uint16_t* X, int64_t M, const Fp4Weight& w, uint16_t* Y,
                       cudaStream_t st) {
  check_args(X, M, w.N, w.K, 16);
  switch (tiles_for(w.N)) {
    case 4:
      return launch_tc<4>(X, int(M), w.format, w.N, w.K, w.packed, w.scales, w.global_scale, Y, st);
    case 2:
      return launch_tc<2>(X, int(M), w.format, w.N, w.K, w.packed, w.scales, w.global_scale, Y, st);
    default:
      return launch_tc<1>(X, int(M), w.format, w.N, w.K, w.packed, w.scales, w.global_scale, Y, st);
  }
}

namespace {

// The smallest and largest of n scale bytes, into range[0] (as 255 - min, so that one atomicMax
// serves both) and range[1].
__global__ void scale_range_kernel(const uint8_t* __restrict__ s, int64_t n, unsigned* range) {
  unsigned lo = 0, hi = 0;  // 255 - min, max
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    lo = max(lo, 255u - s[i]), hi = max(hi, unsigned(s[i]));
  for (int o = 16; o > 0; o >>= 1) {
    lo = max(lo, __shfl_xor_sync(0xFFFFFFFFu, lo, o));
    hi = max(hi, __shfl_xor_sync(0xFFFFFFFFu, hi, o));
  }
  if ((threadIdx.x & 31) == 0) atomicMax(&range[0], lo), atomicMax(&range[1], hi);
}

// TcWeight::mx_fold_shift of an MXFP4 weight's scale bytes (see kernels.hpp).
int mx_fold_shift_of(const Fp4Weight& w, cudaStream_t st) {
  unsigned* range;
  MRGPTQ_CUDA_CHECK(cudaMallocAsync(&range, 2 * sizeof(unsigned), st));
  MRGPTQ_CUDA_CHECK(cudaMemsetAsync(range, 0, 2 * sizeof(unsigned), st));
  const int64_t n = w.N * (w.K / 32);
  scale_range_kernel<<<unsigned(std::min<int64_t>((n + 255) / 256, 1024)), 256, 0, st>>>(w.scales,
                                                                                         n, range);
  MRGPTQ_CUDA_LAUNCH_CHECK();
  unsigned h[2];
  MRGPTQ_CUDA_CHECK(cudaMemcpyAsync(h, range, sizeof h, cudaMemcpyDeviceToHost, st));
  MRGPTQ_CUDA_CHECK(cudaFreeAsync(range, st));
  MRGPTQ_CUDA_CHECK(cudaStreamSynchronize(st));
  const int lo = 255 - int(h[0]), hi = int(h[1]), c = std::max(0, hi - 128);
  // 255 is E8M0's NaN; below c - 5 the decode's product code x 2^(s-127-c) could fall under
  // BF16's smallest subnormal step, 2^-133 (w4a16_common.cuh, folded_scale_pairs).
  return hi > 254 || lo < c - 5 ? -1 : c;
}

}  // namespace

TcWeight make_tensor_core_weight(const Fp4Weight& w, cudaStream_t st, int tiles, int layout) {
  check_args(nullptr, 1, w.N, w.K, 1);  // the shape only: no activations here
  if (tiles != 0 && tiles != 1 && tiles != 2 && tiles != 4)
    throw Error("make_tensor_core_weight: tiles must be 0 (auto), 1, 2 or 4");
  if (layout != 1 && layout != 2) throw Error("make_tensor_core_weight: layout must be 1 or 2");
  TcWeight r;
  r.format = w.format, r.N = w.N, r.K = w.K, r.global_scale = w.global_scale;
  r.layout = layout;
  r.tiles = tiles ? tiles : stream_tiles_for(w.N);
  const int64_t chunks = (w.K + 127) / 128, units = relaid_units(w.N, w.K, r.tiles);
  if (units >= (int64_t(1) << 31))
    throw Error("W4A16: weight [" + std::to_string(w.N) + ", " + std::to_string(w.K) +
                "] is too large for one re-laid-out tensor (split it)");
  r.mx_fold_shift = w.format == Format::MXFP4 ? mx_fold_shift_of(w, st) : 0;
  MRGPTQ_CUDA_CHECK(cudaMalloc(&r.packed, tensor_core_weight_bytes(r)));
  const unsigned grid = unsigned((units + 255) / 256);
  with_format_layout(r, [&](auto nv, auto l) {
    constexpr bool NV = decltype(nv)::value;
    constexpr int L = decltype(l)::value;
    auto go = [&](auto kernel) {
      kernel<<<grid, 256, 0, st>>>(w.packed, w.scales, w.N, w.K, chunks, units, r.packed);
    };
    if (r.tiles == 4) return go(relayout_kernel<4, NV, L>);
    if (r.tiles == 2) return go(relayout_kernel<2, NV, L>);
    go(relayout_kernel<1, NV, L>);
  });
  MRGPTQ_CUDA_LAUNCH_CHECK();
  // The streamed kernels copy their first weight bytes before griddepcontrol.wait (the early
  // trigger), so a programmatic launch right after this one could read the weight while the
  // relayout's last stores are still on their way. Waiting here, once at load time, keeps every
  // call after it safe.
  MRGPTQ_CUDA_CHECK(cudaStreamSynchronize(st));
  return r;
}

bool w4a16_stream_wide(const TcWeight& w) {
  return w.tiles == 4 && w.layout == 2 && stream_wide(w.N);
}

bool w4a16_stream_stages_x(int64_t M, const TcWeight& w) {
  return tma::xs_form(M, w).sub != 0;
}

size_t tensor_core_weight_bytes(const TcWeight& w) {
  return size_t(relaid_units(w.N, w.K, w.tiles) / (32 * w.tiles)) *
         layout::run_bytes(w.tiles, w.format == Format::NVFP4);
}

void free_tensor_core_weight(TcWeight& w) {
  MRGPTQ_CUDA_CHECK(cudaFree(w.packed));
  w.packed = nullptr;
}

// Layout 2 (the default): its decode at every M, faster than every layout-1 path at M = 1-32 on
// the four layer shapes (docs/kernels/h200/bench-w4a16-layout2-*.txt) but 4096x14336 M = 1,
// 17.0 us against 16.7 for a persistent kernel on layout 1, since removed (docs/PERFORMANCE.md).
// Layout 1: the table to M = kStreamTableMaxM, table-free above.
StreamDecode stream_decode_for(int64_t M, const TcWeight& w) {
  return M > kStreamTableMaxM || w.layout == 2 ? StreamDecode::kTableFree : StreamDecode::kTable;
}

void w4a16_tensor_core(const uint16_t* X, int64_t M, const TcWeight& w, uint16_t* Y,
                       cudaStream_t st, StreamDecode decode) {
  check_args(X, M, w.N, w.K, int64_t(0x7FFFFFFF));
  if (decode != StreamDecode::kAuto && decode != StreamDecode::kTable &&
      decode != StreamDecode::kTableFree)
    throw Error("W4A16 streamed kernel: unknown decode " + std::to_string(int(decode)));
  if (w.layout == 2 && decode == StreamDecode::kTable)
    throw Error("W4A16 streamed kernel: the table decode needs a layout-1 weight");
  if (decode == StreamDecode::kAuto) decode = stream_decode_for(M, w);
  const bool raw = decode == StreamDecode::kTableFree;
  // The weight's row blocks (1, 2 or 4 tiles) x format x layout x decode (layout 2: its own).
  auto go = [&](auto tiles) {
    with_format_layout(w, [&](auto nv, auto l) {
      constexpr int T = decltype(tiles)::value, L = decltype(l)::value;
      constexpr bool NV = decltype(nv)::value;
      if constexpr (L == 2)
        tma::launch_m<T, NV, true, 2>(X, M, w, Y, st);
      else if (raw)
        tma::launch_m<T, NV, true>(X, M, w, Y, st);
      else
        tma::launch_m<T, NV, false>(X, M, w, Y, st);
    });
  };
  switch (w.tiles) {
    case 4:
      return go(std::integral_constant<int, 4>{});
    case 2:
      return go(std::integral_constant<int, 2>{});
    case 1:
      return go(std::integral_constant<int, 1>{});
  }
  throw Error("W4A16 tensor-core kernel: weight was not made by make_tensor_core_weight");
}

void dequantize_to_bf16(const TcWeight& w, uint16_t* out, cudaStream_t st) {
  if (w.tiles != 1 && w.tiles != 2 && w.tiles != 4)
    throw Error("dequantize_to_bf16: weight was not made by make_tensor_core_weight");
  // 64 rows a block (x), one chunk a block (y, looping beyond the grid's 65535).
  const int64_t chunks = (w.K + 127) / 128;
  const dim3 grid(unsigned((w.N + 63) / 64), unsigned(std::min<int64_t>(chunks, 65535)));
  with_format_layout(w, [&](auto nv, auto l) {
    constexpr bool NV = decltype(nv)::value;
    constexpr int L = decltype(l)::value;
    const float g = NV ? w.global_scale : 1.f;
    if (w.tiles == 4)
      dequant_relaid<NV, L, 4><<<grid, 256, 0, st>>>(w.packed, w.N, w.K, int(chunks), g, out);
    else if (w.tiles == 2)
      dequant_relaid<NV, L, 2><<<grid, 256, 0, st>>>(w.packed, w.N, w.K, int(chunks), g, out);
    else
      dequant_relaid<NV, L, 1><<<grid, 256, 0, st>>>(w.packed, w.N, w.K, int(chunks), g, out);
  });
  MRGPTQ_CUDA_LAUNCH_CHECK();
}

}  // namespace mrgptq::gpu
