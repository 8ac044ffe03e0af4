// The block Hadamard rotation of the fused activation quantizer (act_quant.cu)
// on the tensor cores. h_entry is the one rule for the transform's entries,
// which both of the kernel's tensor-core forms build their B operands from;
// the rest is the layout of NVFP4's dense form (MXFP4 keeps a 16-point form,
// act_quant.cu says why): which mma fragment each loaded value becomes, which
// rotated value each accumulator holds, and the B operand. Host and device
// code; tests/unit/test_rot_mma.cpp simulates the mma on the CPU with these
// tables and checks every block size against the Sylvester-order Hadamard.
//
// Why this shape. FP32 butterflies cost 32 adds a lane per index bit (b = 32:
// 160 adds, and 32 more to unpack the BF16 inputs); the tensor cores take the
// BF16 inputs as loaded (products by +-1 are exact, sums FP32) and cover six
// of the seven bits of a 128-value chunk at once. (Fewer instructions did not
// buy proportionally less time: NVFP4 b = 32 lost ~20% of them and 3% of its
// time; docs/PERFORMANCE.md, seventeenth session.)
// - Lane t of a quad owns values 32t..32t+31 of the quad's 128, exactly as
//   without rotation: four 16-byte loads, and it ends with the same 32 values
//   rotated, so the quantizer and the stores need no lane exchange.
// - Load s (index bits 3-4 = s) *is* the A fragment of k-step s: its words
//   are rows g / g + 8 (index bit 1, the *row bit*) and column pairs 2t / 2t +
//   8 (bit 2); bit 0 is the BF16 half. So the mma's k covers bits 0, 2, 3-4
//   (k-steps) and 5-6 (the lane), and no register moves build A.
// - n-tile j (8 of them) holds the outputs of bits 2-4 = j, its columns 2t' +
//   e the lane t' and bit 0: lane t ends with its own 32 values, bit 1 = the
//   two accumulator rows, which one FP32 butterfly joins (out_index).
// - B of k-step s and n-tile j is sign(s, j) times one of two base fragments
//   (j's bit 0 pairs with the column pair, in the fragment; s's bits pair with
//   j's bits 1-2), so a lane keeps 8 registers of B, not 64, and ptxas shares
//   the k-step prefixes that several n-tiles have in common (22 mma a lane,
//   not 32). Blocks of 16 put index bit 4 outside the block: the k-steps of
//   the other half are zero and skipped (12 mma).
// Blocks smaller than 128 are zeros of the same dense transform (identity on
// the bits outside the block). The entries are unscaled: the kernel applies
// 1/sqrt(b) in the quantizer (b = 16, 64) or in the row butterfly (32, 128).
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#define MRGPTQ_ROT_HD __host__ __device__
#else
#define MRGPTQ_ROT_HD
#endif

namespace mrgptq::rot {

// The row bit: mma rows g and g + 8 hold the values with index bit 1 = 0, 1.
inline constexpr int kRowBit = 2;

// The chunk index of the value in half e of word (2c + row) of lane t's load s.
MRGPTQ_ROT_HD constexpr int in_index(int t, int row, int c, int s, int e) {
  return 32 * t + 8 * s + 4 * c + 2 * row + e;
}
// The chunk index of the output that lane t holds in accumulator e (+ 2 for row g + 8) of
// n-tile j: v[4j + 2 row + e] of its own 32 values.
MRGPTQ_ROT_HD constexpr int out_index(int t, int row, int j, int e) {
  return 32 * t + 4 * j + 2 * row + e;
}

MRGPTQ_ROT_HD constexpr int parity(int x) {
  int p = 0;
  for (; x; x &= x - 1) p ^= 1;
  return p;
}
// Entry (p, q) of the transform within a row (p, q chunk indices of the same
// row): the Sylvester-order Hadamard of block b, (-1)^popcount(p & q) on the
// bits inside the block but the row bit, 0 where p and q lie in different
// blocks. Unscaled.
MRGPTQ_ROT_HD constexpr int h_entry(int b, int p, int q) {
  if ((p ^ q) & ~(b - 1) & ~kRowBit) return 0;
  return parity(p & q & (b - 1) & ~kRowBit) ? -1 : 1;
}

// B of k-step s and n-tile j, element (k, n) of the 16 x 8 operand: row k =
// 2t + e + 8c of the input lane t, column n = 2t' + e' of the output lane t'.
MRGPTQ_ROT_HD constexpr int b_entry(int b, int s, int j, int k, int n) {
  return h_entry(b, in_index((k >> 1) & 3, 0, k >> 3, s, k & 1), out_index(n >> 1, 0, j, n & 1));
}
// The factoring the kernel relies on (checked by the tests): B(s, j) is
// zero where index bit 4 lies outside the block and s, j differ in it, else
// -1^parity(s & j >> 1) (bit 4 only inside the block) times the base fragment of j's bit 0 (B(0, j
// & 1)).
MRGPTQ_ROT_HD constexpr bool b_zero(int b, int s, int j) {
  return b <= 16 && (s >> 1) != (j >> 2);
}
MRGPTQ_ROT_HD constexpr bool b_negated(int b, int s, int j) {
  return parity(s & (j >> 1) & (b <= 16 ? 1 : 3));  // bit 4 is in the sign only inside the block
}

MRGPTQ_ROT_HD constexpr int form_of(int b) {
  return b == 16 ? 0 : b == 32 ? 1 : b == 64 ? 2 : 3;
}

// Lane l's base fragments for block b: [2 h + r] is register r (0: rows 2t,
// 2t + 1; 1: rows + 8) of B(0, h), two BF16 values of 0 or +-1 (the lower row
// in the low half).
struct Frags {
  uint32_t w[4][32][4];  // [form: b = 16, 32, 64, 128][lane][2 h + r]
};
MRGPTQ_ROT_HD constexpr uint32_t bf16_unit(int v) {
  return v > 0 ? 0x3F80u : v < 0 ? 0xBF80u : 0u;
}
MRGPTQ_ROT_HD constexpr Frags make_frags() {
  Frags f{};
  for (int form = 0; form < 4; ++form)
    for (int lane = 0; lane < 32; ++lane)
      for (int h = 0; h < 2; ++h)
        for (int r = 0; r < 2; ++r) {
          const int k = 2 * (lane & 3) + 8 * r, n = lane >> 2, b = 16 << form;
          f.w[form][lane][2 * h + r] =
              bf16_unit(b_entry(b, 0, h, k, n)) | bf16_unit(b_entry(b, 0, h, k + 1, n)) << 16;
        }
  return f;
}

}  // namespace mrgptq::rot
