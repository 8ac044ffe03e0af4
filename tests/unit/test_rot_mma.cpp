// The tensor-core layout of the activation quantizer's rotation
// (src/kernels/rot_mma.hpp), simulated on the CPU: a quad's four lanes supply
// their loads as A fragments, the B fragments come from the kernel's table
// with the kernel's signs and skipped k-steps, the m16n8k16 products are
// summed as the PTX fragment layouts say, the two rows are joined by the
// kernel's butterfly, and every lane's 32 outputs must equal the
// Sylvester-order Hadamard transform of their blocks as the CPU quantizers'
// fwht_blocks computes it (integer inputs: the kernel's sums are exact).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <random>

#include "../../src/kernels/rot_mma.hpp"
#include "mrgptq/hadamard.hpp"

using namespace mrgptq;

namespace {

constexpr rot::Frags kFrags = rot::make_frags();

// The library's CPU transform (the one the quantizers use, normalised by 1/sqrt(b)), scaled back
// to the kernel's unnormalised integers. Its error in double is far below 0.5 for sums under 2^17,
// so rounding recovers them exactly.
std::array<int64_t, 128> fwht(const std::array<int64_t, 128>& x, int b) {
  std::array<double, 128> d{};
  for (size_t i = 0; i < 128; ++i) d[i] = double(x[i]);
  fwht_blocks(d.data(), 128, b);
  std::array<int64_t, 128> out{};
  for (size_t i = 0; i < 128; ++i) out[i] = std::llround(d[i] * std::sqrt(double(b)));
  return out;
}

// A B element: +-1, or +-0 (a negated fragment negates its zeros too); 99 for anything else.
int bf16_value(uint32_t half) {
  return half == 0x3F80u ? 1 : half == 0xBF80u ? -1 : (half & 0x7FFFu) == 0 ? 0 : 99;
}

// The B element (k, n) of k-step s, n-tile j as the kernel forms it: the lane that holds it
// (4 n + (k / 2) % 4), its base fragment register, negated by sign(s, j).
int kernel_b(int b, int s, int j, int k, int n) {
  const uint32_t w = kFrags.w[rot::form_of(b)][4 * n + ((k >> 1) & 3)][2 * (j & 1) + (k >> 3)];
  const uint32_t ws = rot::b_negated(b, s, j) ? w ^ 0x80008000u : w;
  return bf16_value((k & 1) ? ws >> 16 : ws & 0xFFFFu);
}

}  // namespace

// The factoring that lets a lane keep 8 B registers and skip k-steps: every (s, j) fragment is
// the signed base fragment of j's bit 0, or zero where the kernel skips it.
TEST(RotMma, EveryFragmentIsASignedBaseFragmentOrSkipped) {
  for (int b : {16, 32, 64, 128})
    for (int s = 0; s < 4; ++s)
      for (int j = 0; j < 8; ++j)
        for (int k = 0; k < 16; ++k)
          for (int n = 0; n < 8; ++n) {
            const int want = rot::b_entry(b, s, j, k, n);
            if (rot::b_zero(b, s, j)) {
              ASSERT_EQ(want, 0) << "b " << b << " s " << s << " j " << j;
            } else {
              ASSERT_EQ(kernel_b(b, s, j, k, n), want)
                  << "b " << b << " s " << s << " j " << j << " k " << k << " n " << n;
            }
          }
}

// Every input value reaches exactly one (lane, word, half, k-step) slot and every output one
// (lane, n-tile, accumulator) slot, and each lane's are its own 32 values.
TEST(RotMma, LoadsAndOutputsAreTheLanesOwnValues) {
  std::array<int, 128> in{}, out{};
  for (int t = 0; t < 4; ++t)
    for (int row = 0; row < 2; ++row) {
      for (int c = 0; c < 2; ++c)
        for (int s = 0; s < 4; ++s)
          for (int e = 0; e < 2; ++e) {
            const int i = rot::in_index(t, row, c, s, e);
            ++in[size_t(i)];
            EXPECT_EQ(i / 32, t);
            // Word 2c + row of load s: the kernel passes load s's words x, y, z, w to the mma
            // as (row, c) = (0, 0), (1, 0), (0, 1), (1, 1) without consulting in_index, so this
            // pins in_index to that order.
            EXPECT_EQ(i % 32, 8 * s + 2 * (2 * c + row) + e);
          }
      for (int j = 0; j < 8; ++j)
        for (int e = 0; e < 2; ++e) {
          const int o = rot::out_index(t, row, j, e);
          ++out[size_t(o)];
          EXPECT_EQ(o / 32, t);
        }
    }
  for (int i = 0; i < 128; ++i) {
    EXPECT_EQ(in[size_t(i)], 1) << "input " << i;
    EXPECT_EQ(out[size_t(i)], 1) << "output " << i;
  }
}

TEST(RotMma, SimulatedQuadEqualsTheHadamardOfEachBlock) {
  std::mt19937 rng(20261201);
  std::uniform_int_distribution<int> val(-1000, 1000);
  for (int b : {16, 32, 64, 128})
    for (int trial = 0; trial < 20; ++trial) {
      std::array<int64_t, 128> x{};
      for (auto& v : x) v = val(rng);
      const auto want = fwht(x, b);
      // A[row][16 s + k] as the lanes supply it: lane t, register pair c, half e of word s.
      int64_t A[2][64] = {}, D[2][64] = {};
      for (int t = 0; t < 4; ++t)
        for (int row = 0; row < 2; ++row)
          for (int c = 0; c < 2; ++c)
            for (int s = 0; s < 4; ++s)
              for (int e = 0; e < 2; ++e)
                A[row][16 * s + 2 * t + e + 8 * c] = x[size_t(rot::in_index(t, row, c, s, e))];
      // D[row][8 j + n] = sum over the k-steps the kernel runs of A[row][16 s + k] B(s, j)[k][n].
      for (int row = 0; row < 2; ++row)
        for (int j = 0; j < 8; ++j)
          for (int s = 0; s < 4; ++s) {
            if (rot::b_zero(b, s, j)) continue;
            for (int n = 0; n < 8; ++n)
              for (int k = 0; k < 16; ++k)
                D[row][8 * j + n] += A[row][16 * s + k] * kernel_b(b, s, j, k, n);
          }
      // Lane t's accumulators: columns 2t + e of each n-tile, the rows joined by a butterfly.
      for (int t = 0; t < 4; ++t)
        for (int j = 0; j < 8; ++j)
          for (int e = 0; e < 2; ++e) {
            const int64_t d0 = D[0][8 * j + 2 * t + e], d1 = D[1][8 * j + 2 * t + e];
            ASSERT_EQ(d0 + d1, want[size_t(rot::out_index(t, 0, j, e))])
                << "b " << b << " lane " << t << " j " << j;
            ASSERT_EQ(d0 - d1, want[size_t(rot::out_index(t, 1, j, e))])
                << "b " << b << " lane " << t << " j " << j;
          }
    }
}
