// The bit layout of the re-laid-out FP4 weight (src/kernels/w4_layout.hpp):
// every code of every pair comes back from its word, whatever its neighbours.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>

#include "../../src/kernels/w4_layout.hpp"

using namespace mrgptq::layout;

namespace {
// The BF16 bits of code x 2^-126, what pair_raw yields per element (checked against the E2M1
// values below).
uint32_t raw_bits(uint32_t code) {
  return ((code & 8u) << 12) | ((code & 7u) << 6);
}
uint32_t pair_of(uint32_t w, int p) {
  switch (p) {
    case 0:
      return pair_raw<0>(w);
    case 1:
      return pair_raw<1>(w);
    case 2:
      return pair_raw<2>(w);
    default:
      return pair_raw<3>(w);
  }
}
}  // namespace

// Every code bit of every pair has a bit of the word to itself: the 32 single-bit codes land on
// 32 different bits.
TEST(W4Layout, PositionsAreAPermutation) {
  uint32_t seen = 0;
  for (int p = 0; p < 4; ++p)
    for (int b = 0; b < 4; ++b)
      for (int half = 0; half < 2; ++half) {
        uint8_t lo[4] = {0, 0, 0, 0}, hi[4] = {0, 0, 0, 0};
        (half ? hi : lo)[p] = uint8_t(1u << b);
        const uint32_t w = pack_word(lo, hi);
        ASSERT_EQ(__builtin_popcount(w), 1) << "pair " << p << " bit " << b;
        EXPECT_EQ(seen & w, 0u) << "pair " << p << " bit " << b << " collides";
        seen |= w;
      }
  EXPECT_EQ(seen, 0xFFFFFFFFu);
}

// Each pair alone, all 256 (lo, hi) code combinations, with the other three pairs holding every
// code in turn (random): the decoded register is raw_bits(lo) | raw_bits(hi) << 16.
TEST(W4Layout, EveryPairDecodesExactlyWhateverItsNeighbours) {
  std::mt19937 rng(1234);
  for (int p = 0; p < 4; ++p)
    for (uint32_t lo = 0; lo < 16; ++lo)
      for (uint32_t hi = 0; hi < 16; ++hi)
        for (int rep = 0; rep < 16; ++rep) {
          uint8_t l[4], h[4];
          for (int q = 0; q < 4; ++q) l[q] = uint8_t(rng() & 15), h[q] = uint8_t(rng() & 15);
          l[p] = uint8_t(lo), h[p] = uint8_t(hi);
          if (rep == 0)  // neighbours all ones, then all zeros: no bit may leak in
            for (int q = 0; q < 4; ++q)
              if (q != p) l[q] = h[q] = 15;
          if (rep == 1)
            for (int q = 0; q < 4; ++q)
              if (q != p) l[q] = h[q] = 0;
          const uint32_t w = pack_word(l, h);
          for (int q = 0; q < 4; ++q) {
            const uint32_t want = raw_bits(l[q]) | (raw_bits(h[q]) << 16);
            ASSERT_EQ(pair_of(w, q), want) << "pair " << q << " word " << std::hex << w;
            // The warpgroup kernel's form: the pair's shift from a run-time index.
            ASSERT_EQ(pair_raw(w, pair_shift(q)), want) << "pair " << q << " (run-time shift)";
          }
        }
}

// The decoded element is code x 2^-126 as a BF16 number (so one multiply by scale x 2^126 is the
// exact weight): checked against the E2M1 values.
TEST(W4Layout, RawBitsAreCodeTimesTwoToMinus126) {
  const double grid[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (uint32_t c = 0; c < 16; ++c) {
    const uint32_t b = raw_bits(c) << 16;  // as the top half of an FP32
    float f;
    std::memcpy(&f, &b, 4);
    const double want = (c & 8 ? -1.0 : 1.0) * grid[c & 7] * std::ldexp(1.0, -126);
    EXPECT_EQ(double(f), want) << "code " << c;
  }
}

// unpack_word inverts pack_word (pair p = byte p, low code in the low nibble) for random words.
TEST(W4Layout, UnpackInvertsPack) {
  std::mt19937 rng(99);
  for (int rep = 0; rep < 100000; ++rep) {
    const uint32_t nib = uint32_t(rng());
    uint8_t lo[4], hi[4];
    for (int p = 0; p < 4; ++p) lo[p] = (nib >> (8 * p)) & 15, hi[p] = (nib >> (8 * p + 4)) & 15;
    ASSERT_EQ(unpack_word(pack_word(lo, hi)), nib) << std::hex << nib;
  }
}
