// The bit layout of the re-laid-out FP4 weight (TcWeight), callable from host
// code (relayout checks in tests/unit/test_w4_layout.cpp) and device code.
//
// The W4A16 kernels turn codes into BF16 pairs for the tensor cores' A
// operand: a register holds the weights of two k (k, k + 1) of one row, each as
// code x 2^-126 (sign to bit 15, the code's two exponent bits and mantissa
// bit to bits 8, 7, 6: the low BF16 exponent bits and the top mantissa bit,
// so e = 0 lands on 0 and the subnormal 2^-127 = 0.5 x 2^-126), the second
// element 16 bits higher; one multiply by the group scale (with 2^126 folded
// in) makes the exact weight. With the codes stored as plain nibbles that
// took two shifts and two masks per pair. Here each 32-bit word holds its
// 8 codes already spread so that its 4 pairs come out with 11 instructions
// in all, 2.75 a pair (a search over the layouts whose pairs take one or two
// shifted copies of the word found none cheaper; none gives every pair a
// single shift):
//   pair 0: w & M
//   pair 1: (w << 3) & M
//   pair 2: ((w >> 5) & m, e1 bits) | ((w << 5) & e0, s bits)
//   pair 3: ((w << 6) & m, e0, s bits) | ((w >> 6) & e1 bits)
// with M = 0x81C081C0 the pair's code bits. pack_word's table says where each
// code bit lives; the 16 positions of the low codes are a permutation of
// 0..15, the high codes' are the same + 16.
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#define MRGPTQ_LAYOUT_HD __host__ __device__ __forceinline__
#else
#define MRGPTQ_LAYOUT_HD inline
#endif

namespace mrgptq::layout {

constexpr uint32_t kPairMask = 0x81C081C0u;

// The word of 8 codes (4-bit E2M1: sign << 3 | e1 << 2 | e0 << 1 | m), pair p
// made of codes lo[p] (bits 0-15 of the decoded register) and hi[p].
MRGPTQ_LAYOUT_HD uint32_t pack_word(const uint8_t (&lo)[4], const uint8_t (&hi)[4]) {
  // Bit position of code bit b (0: mantissa m, 1: exponent e0, 2: e1, 3: sign) of the low code
  // of pair p; the high code's is 16 more. Pair 0 in place, pair 1 << 3, pair 2 m and e1 >> 5
  // and e0, s << 5, pair 3 m, e0 and s << 6 and e1 >> 6.
  constexpr int pos[4][4] = {{6, 7, 8, 15}, {3, 4, 5, 12}, {11, 2, 13, 10}, {0, 1, 14, 9}};
  uint32_t w = 0;
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
  for (int p = 0; p < 4; ++p)
    for (int b = 0; b < 4; ++b) {
      w |= uint32_t((lo[p] >> b) & 1u) << pos[p][b];
      w |= uint32_t((hi[p] >> b) & 1u) << (pos[p][b] + 16);
    }
  return w;
}

// How pair p comes out of its word: ((w x mul) & m1) | ((w >> shr) & m2), i.e. the bits that a
// left shift puts in place and those that a right shift does (m2 = 0: none).
struct PairShift {
  uint32_t mul, shr, m1, m2;
};
MRGPTQ_LAYOUT_HD constexpr PairShift pair_shift(int p) {
  return p == 0   ? PairShift{1u, 0u, kPairMask, 0u}
         : p == 1 ? PairShift{8u, 0u, kPairMask, 0u}
         : p == 2 ? PairShift{32u, 5u, 0x80808080u, 0x01400140u}
                  : PairShift{64u, 6u, 0x80C080C0u, 0x01000100u};
}
// The re-laid-out weight's bytes (relayout_kernel in w4a16_tc.cu): a row block of `tiles` 8-row
// tiles keeps each 128-k chunk as one run -- tiles x 32 units of 16 code bytes (one lane's 32 k
// of one row), then the units' scale bytes in the same order (1 a unit for MXFP4, 2 for NVFP4) --
// so that any run of chunks of a block is one bulk copy (the W4A16 kernels copy whole runs).
MRGPTQ_LAYOUT_HD constexpr uint32_t unit_scale_bytes(bool nv) {
  return nv ? 2u : 1u;
}
// Where a run's scale bytes start, and its size.
MRGPTQ_LAYOUT_HD constexpr uint32_t run_scales(int tiles) {
  return uint32_t(tiles) * 32u * 16u;
}
MRGPTQ_LAYOUT_HD constexpr uint32_t run_bytes(int tiles, bool nv) {
  return run_scales(tiles) + uint32_t(tiles) * 32u * unit_scale_bytes(nv);
}

// A pair by its shift: the form a kernel uses when p is a per-lane register.
MRGPTQ_LAYOUT_HD uint32_t pair_raw(uint32_t w, PairShift s) {
  return ((w * s.mul) & s.m1) | ((w >> s.shr) & s.m2);
}
// Pair P of a word: the BF16 pair (code lo, code hi) x 2^-126, exactly.
template <int P>
MRGPTQ_LAYOUT_HD uint32_t pair_raw(uint32_t w) {
  constexpr PairShift s = pair_shift(P);
  return pair_raw(w, s);
}

// The codes of a word back as plain nibbles (pair p = byte p, low code first): for the paths
// that expand the weight in float (dequantize_to_bf16).
MRGPTQ_LAYOUT_HD uint32_t unpack_word(uint32_t w) {
  const uint32_t r[4] = {pair_raw<0>(w), pair_raw<1>(w), pair_raw<2>(w), pair_raw<3>(w)};
  uint32_t out = 0;
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
  for (int p = 0; p < 4; ++p) {
    const uint32_t lo = ((r[p] >> 12) & 8u) | ((r[p] >> 6) & 7u);
    const uint32_t hi = ((r[p] >> 28) & 8u) | ((r[p] >> 22) & 7u);
    out |= (lo | (hi << 4)) << (8 * p);
  }
  return out;
}

}  // namespace mrgptq::layout
