// W4A16 for mid and large M on the Hopper warpgroup tensor cores (sm_90a):
// Y[M, N] = X[M, K] W^T with the FP4 weight dequantized in registers as the
// wgmma A operand (no BF16 copy of the weight anywhere), FP32 accumulation.
//
// The block computes a tile of Y^T: WN weight rows (A, 64 per wgmma, from
// registers) x BN activation rows (B, from shared memory, K-major, 128-byte
// swizzle), one 128-k chunk per pipeline stage.
//
// Weight side: the re-laid-out TcWeight (w4a16_tc.cu) already gives each lane
// of a warp the 16 code bytes (32 consecutive k of one row) and scale word it
// needs for an m16n8k16 A fragment, and a warpgroup's register A fragment is
// four such m16 fragments. One producer thread copies the block's weight bytes
// of a chunk (WN/8 tiles x 512 bytes + scales) into the stage with bulk TMA
// copies, one per weight row block (its chunk is one run: codes, then scales;
// one copy instead of two made M = 64-256 2-11% faster; WOffsets). The
// consumers decode without a table: for word q of 8 codes, nibbles i and i + 4
// become one BF16 pair by two shifts and masks (sign to bit 15/31, exponent and
// mantissa to bits 6-8/22-24: the code's value times 2^-126, the e = 0 code
// landing on the BF16 subnormal 2^-127), then one multiply by 2^126 and one by
// the group scale (both exact).
//
// Activation side: 2-D tensor-map TMA copies in natural k order (see the
// "TMA-activation" comment below for how the weight fragment is brought into
// that order in registers). Full mbarriers (the TMA transaction bytes) and
// empty mbarriers (one arrival per consumer warp) hand the stages over.
//
// Consumers: per pair of k-steps, decode both A fragments, wgmma.fence, one wgmma
// per k-step and 64-row m-tile, commit; wait until one group is pending, so that
// the decode of pair j + 1 overlaps the wgmmas of pair j (the persistent configs:
// the same a k-step). The stage of chunk c is
// released once the first group of chunk c + 1 has been waited for (then chunk
// c's last wgmma has completed). Epilogue: FP32 x (1/G for NVFP4) -> BF16 through
// shared memory in whole-row 16-byte stores (store_tile_staged), or masked
// scalar stores where the stages are busy or Y's rows are not 16-byte aligned.
//
// What limits it (per-CTA traces: src/kernels/wg_trace.cuh, docs/PERFORMANCE.md):
// a register-A wgmma costs the SM ~100-120 cycles whatever its n up to 192 (its
// arithmetic: n / 2), so 128-192-row activation tiles run the tensor pipe at
// 60-85% and 256-row ones at 91-98%. More groups in flight, two accumulator
// chains and a third consumer warpgroup did not change that; decoding the
// weight into shared memory for SS wgmmas (by the consumers, or by a warpgroup
// of its own) was slower (docs/kernels/NOTES.md w11-w17).
//
// Configs 3-6 are tile shapes (0-2, a first version whose producer warpgroup
// permuted the activations through registers, topped out at ~0.55x of cuBLAS
// and was removed). Config 7 adds K-split consumer
// warpgroups (see TCfg); it is the one of five such configs that won somewhere
// on the H200 (64 < M <= 256 where one wave of its tiles fills the GPU); the
// other four were removed (docs/PERFORMANCE.md has their figures). Configs 8 and 10
// split K over the two CTAs of a cluster (split_store) where the plain tiles leave SMs idle
// (the same over clusters of four never won: those clusters did not fit one wave); configs 9,
// 13 and 15 split K four ways through a global workspace instead (split_store_global). Configs
// 16 and 17 are persistent (PWork); 20-22 are 12, 13 and 17 with 160 activation rows; 106 and
// 108 are 6 and 8 with 8 more activation rows on the last tile by mma.sync (RemTile), for M just
// past a multiple of 256. w4a16_wgmma_config_for says which wins where.
// One kernel, w4a16_wgmma_kernel, serves them all.

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "kernels/fp4_device.cuh"
#include "kernels/mma.cuh"
#include "kernels/w4a16_common.cuh"
#include "kernels/wg_trace.cuh"
#include "mrgptq/kernels.hpp"

namespace mrgptq::gpu {
namespace {
using namespace w4;

// D[64 x N] += A[64 x 16] (registers) * B[16 x N] (shared memory descriptor), for N = 64, 128,
// 160, 192 and 256 (configs 6 and 8 take one m64n256 a k-step: 1-3% faster than two m64n128 at
// M >= 512, docs/PERFORMANCE.md). The accumulator operands "+f"(d[0]) .. "+f"(d[N/2 - 1]):
#define MRGPTQ_WGMMA_ACC4(i) "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3])
#define MRGPTQ_WGMMA_ACC16(i)                                               \
  MRGPTQ_WGMMA_ACC4(i), MRGPTQ_WGMMA_ACC4(i + 4), MRGPTQ_WGMMA_ACC4(i + 8), \
      MRGPTQ_WGMMA_ACC4(i + 12)
#define MRGPTQ_WGMMA_ACC32 MRGPTQ_WGMMA_ACC16(0), MRGPTQ_WGMMA_ACC16(16)
#define MRGPTQ_WGMMA_ACC64 MRGPTQ_WGMMA_ACC32, MRGPTQ_WGMMA_ACC16(32), MRGPTQ_WGMMA_ACC16(48)
#define MRGPTQ_WGMMA_ACC80 MRGPTQ_WGMMA_ACC64, MRGPTQ_WGMMA_ACC16(64)
#define MRGPTQ_WGMMA_ACC96 MRGPTQ_WGMMA_ACC64, MRGPTQ_WGMMA_ACC16(64), MRGPTQ_WGMMA_ACC16(80)
#define MRGPTQ_WGMMA_ACC128                                                                   \
  MRGPTQ_WGMMA_ACC64, MRGPTQ_WGMMA_ACC16(64), MRGPTQ_WGMMA_ACC16(80), MRGPTQ_WGMMA_ACC16(96), \
      MRGPTQ_WGMMA_ACC16(112)
// ... and their placeholders %0 .. %N/2 - 1, in blocks of 32:
#define MRGPTQ_WGMMA_D0                                                    \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
#define MRGPTQ_WGMMA_D32                                                             \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
#define MRGPTQ_WGMMA_D64                                                             \
  "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, " \
  "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95"
#define MRGPTQ_WGMMA_D64H \
  "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79"
#define MRGPTQ_WGMMA_D96                                                                         \
  "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, " \
  "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
// One overload per N: its accumulator count, its placeholders (the A registers, the descriptor
// and the scale-d flag follow the accumulators) and its accumulator operands.
#define MRGPTQ_WGMMA_RS(NACC, N, DLIST, AREGS, DESC, PRED, ...)                                 \
  __device__ __forceinline__ void wgmma_rs(float(&d)[NACC], const uint32_t(&a)[4],              \
                                           uint64_t desc) {                                     \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, " PRED                                       \
                 ", 0;\n"                                                                       \
                 "wgmma.mma_async.sync.aligned.m64n" N "k16.f32.bf16.bf16 {" DLIST "}, {" AREGS \
                 "}, " DESC ", p, 1, 1, 0;\n}\n"                                                \
                 : __VA_ARGS__                                                                  \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "n"(1));              \
  }
MRGPTQ_WGMMA_RS(32, "64", MRGPTQ_WGMMA_D0, "%32, %33, %34, %35", "%36", "%37", MRGPTQ_WGMMA_ACC32)
MRGPTQ_WGMMA_RS(64, "128", MRGPTQ_WGMMA_D0 ", " MRGPTQ_WGMMA_D32, "%64, %65, %66, %67", "%68",
                "%69", MRGPTQ_WGMMA_ACC64)
MRGPTQ_WGMMA_RS(80, "160", MRGPTQ_WGMMA_D0 ", " MRGPTQ_WGMMA_D32 ", " MRGPTQ_WGMMA_D64H,
                "%80, %81, %82, %83", "%84", "%85", MRGPTQ_WGMMA_ACC80)
MRGPTQ_WGMMA_RS(96, "192", MRGPTQ_WGMMA_D0 ", " MRGPTQ_WGMMA_D32 ", " MRGPTQ_WGMMA_D64,
                "%96, %97, %98, %99", "%100", "%101", MRGPTQ_WGMMA_ACC96)
MRGPTQ_WGMMA_RS(128, "256",
                MRGPTQ_WGMMA_D0 ", " MRGPTQ_WGMMA_D32 ", " MRGPTQ_WGMMA_D64 ", " MRGPTQ_WGMMA_D96,
                "%128, %129, %130, %131", "%132", "%133", MRGPTQ_WGMMA_ACC128)

#undef MRGPTQ_WGMMA_RS
#undef MRGPTQ_WGMMA_ACC4
#undef MRGPTQ_WGMMA_ACC16
#undef MRGPTQ_WGMMA_ACC32
#undef MRGPTQ_WGMMA_ACC64
#undef MRGPTQ_WGMMA_ACC80
#undef MRGPTQ_WGMMA_ACC96
#undef MRGPTQ_WGMMA_ACC128
#undef MRGPTQ_WGMMA_D0
#undef MRGPTQ_WGMMA_D32
#undef MRGPTQ_WGMMA_D64
#undef MRGPTQ_WGMMA_D64H
#undef MRGPTQ_WGMMA_D96

__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
template <int R>
__device__ __forceinline__ void pin(float (&d)[R]) {
#pragma unroll
  for (int i = 0; i < R; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// Shared-memory matrix descriptor: K-major, 128-byte swizzle, 8-row groups
// 1024 bytes apart (the leading byte offset is unused in this mode).
__device__ __forceinline__ uint64_t desc_sw128(uint32_t saddr) {
  return uint64_t((saddr & 0x3FFFF) >> 4) | (uint64_t(1) << 16) | (uint64_t(1024 >> 4) << 32) |
         (uint64_t(1) << 62);
}

// Blocks in groups of kGroupRows row tiles: inside a group the row tile runs
// fastest, so that neighbours share the activation tile and a group's weight
// rows stay in L2 while the m tiles sweep past.
constexpr int kGroupRows = 16;
__device__ __forceinline__ void raster(int idx, int rtiles, int mtiles, int& rb, int& mb) {
  const int g = idx / (kGroupRows * mtiles), r = idx % (kGroupRows * mtiles);
  const int gsz = min(kGroupRows, rtiles - g * kGroupRows);
  rb = g * kGroupRows + r % gsz;
  mb = r / gsz;
}

// ------------------------------------------------------- TMA activations --
// The activations reach shared memory by 2-D tensor-map TMA copies
// in their natural k order (two 64-k boxes of BN rows per chunk, 128-byte
// swizzle, rows >= M and k >= K filled with zeros by the TMA unit), so the
// producer is one thread issuing copies (the first version's 128-thread
// register path -- 16 loads, 32 permutes and 16 stores a thread and stage, one
// stage of loads in flight -- capped it at ~0.55x of cuBLAS). Instead the weight's A fragment is
// put into natural mma k order in registers: lane (g, t) needs, for k-step j of a chunk, the bytes
// 8j + t (k 16j + 2t, +1) and 8j + t + 4 (k 16j + 2t + 8, +9) of its row; both lie in the 16 bytes
// of quad-mate t' = j / 2 (positions 8(j % 2) + t and + 4), which the lane reads from the weight
// stage in shared memory (one 16-byte load per row and pair of k-steps; the quad reads the same
// address, a broadcast). One byte permute gathers the two bytes as X = [L, H, L, H]; X' = (X &
// 0xFFFF) | ((X >> 4) & 0xFFFF0000) puts the two nibbles of L 16 bits apart (nibbles 0, 4) and
// those of H too (2, 6), which is the pairing decode_pair<0>, decode_pair<2> expect. The
// group scale of step j is quad-mate j/2's (its scale word is read with the codes). Per 16 weights
// this costs a permute, a shift and a LOP3 more than the first version's decode; its producer
// warpgroup's work was ~2x that per stage. On a layout-2 weight (w4_layout.hpp, the default) the
// two pairs are pair t of the quad-mate's words 2 (j % 2) and 2 (j % 2) + 1, taken with shift
// amounts and masks that the lane keeps in registers (layout::pair_shift): 4 instructions and the
// multiply per pair instead of 6.5.
//
// Every config decodes a pair with one multiply: raw (code x 2^-126) times the group scale with
// 2^126 folded in (folded_scale_pairs, w4a16_common.cuh), made 2^-9 too small for NVFP4 and 2^-c
// for MXFP4 (c = TcWeight::mx_fold_shift, found at load time) so that the factor stays a BF16
// normal; the epilogue multiplies the FP32 sums back (by 2^9 / G, by 2^c). These are the bits of
// the exact two-multiply decode (raw x 2^126, then x the scale) unless an FP32 partial sum is
// subnormal. MXFP4 used to fold only in config 7, choosing per chunk between two copies of the
// loop body by a check of the chunk's scale bytes (all <= 128); folding in every config by the
// weight's constant made MXFP4 2.3% faster at M = 64-640 (geometric mean over the four layer
// shapes, 0.94-1.02; level at 1024-4096: docs/kernels/h200/s28-run1-bench.txt). NVFP4 has folded
// in every config since the sixth session (1-3%, docs/kernels/h200/bench-w4a16-wgmma-nv-fold.txt).
//
// Config 7 adds one option (configs 3-6 are the default, KW = 1):
//  * KW > 1: KW consumer warpgroups along K per CWG position. Chunk c is
//    decoded and multiplied by the warpgroups of K group c % KW only (the
//    producer still fills the stages in chunk order; a stage is released by the
//    warpgroup that used it once its next own chunk's first group is waited
//    for), so KW times as many warps decode the same tile, with no extra global
//    traffic and no workspace. At the end, K groups 1..KW-1 store their FP32
//    accumulators into the (now idle) stage memory, and group 0 adds them in a
//    fixed order and writes Y (FP32 accumulation throughout; the sum order per
//    output differs from configs 3-6).
template <int WM_, int BN_, int CWG_, int STAGES_, bool NV_, int KW_ = 1, int MINB_ = 0,
          int SPLIT_ = 1, int LAYOUT_ = 1, int SPLITG_ = 1, bool PERSIST_ = false, int RT_ = 0>
struct TCfg {
  static constexpr int LAYOUT = LAYOUT_;  // of the weight (TcWeight::layout, see the decode)
  static constexpr int WM = WM_, BN = BN_, CWG = CWG_;  // m-tiles per consumer WG, act rows, WGs
  static constexpr bool NV = NV_;
  static constexpr int KW = KW_;             // consumer warpgroups along K per CWG position
  static constexpr int NC = CWG * KW;        // consumer warpgroups
  static constexpr int SPLIT = SPLIT_;       // CTAs of a cluster splitting K (see split_store)
  static constexpr int SPLITG = SPLITG_;     // CTAs splitting K through global memory (config 9)
  static constexpr int S = SPLIT * SPLITG;   // K shares of a tile
  static constexpr bool PERSIST = PERSIST_;  // one CTA an SM, the last wave cut (PWork)
  static constexpr int WN = 64 * WM * CWG;   // weight rows per block
  static constexpr int THREADS = 128 * (NC + 1);
  static constexpr int SB = layout::unit_scale_bytes(NV);             // scale bytes per lane unit
  static constexpr uint32_t PANEL = BN * 128, X_BYTES = 2 * PANEL;    // two 64-k swizzle panels
  static constexpr uint32_t W_BYTES = layout::run_bytes(WN / 8, NV);  // the row tile's chunk
  // RT > 0: the last activation tile has RT more 8-row n-tiles on mma.sync (see RemTile),
  // their two 64-k panels in each stage at R_OFF.
  static constexpr int RT = RT_;
  static constexpr uint32_t R_PANEL = RT * 8 * 128,
                            R_OFF = (X_BYTES + W_BYTES + 1023) / 1024 * 1024;
  static constexpr uint32_t STAGE = R_OFF + 2 * R_PANEL;
  static constexpr int STAGES = STAGES_;
  static constexpr uint32_t BARS = STAGES * STAGE;
  static constexpr uint32_t SMEM = BARS + 2 * STAGES * 8 + 1024;  // + alignment slack
  static constexpr int MINB = MINB_ > 0 ? MINB_ : (CWG == 1 ? 2 : 1);
  // Registers: the launch gets the block's share of the register file (a multiple of 8 a
  // thread); the producer gives back all but 40, the consumers take the rest (216 for configs
  // 3/4, 232 for 5/6).
  static constexpr int LAUNCH_REGS = (65536 / (MINB * THREADS)) / 8 * 8;
  static constexpr int CREGS_ = (LAUNCH_REGS * THREADS - 40 * 128) / (128 * NC) / 8 * 8;
  static constexpr int CREGS = CREGS_ > 256 ? 256 : CREGS_;
  // Accumulators of a consumer thread and m-tile: the wgmma's BN / 2, then 4 a remainder n-tile
  // (in the same order: accumulator i is activation row 8 (i / 4) + 2t + i % 2 of the tile).
  static constexpr int AN = BN / 2 + 4 * RT;
  static constexpr int ACC = WM * AN;
  static_assert(BN == 64 || BN == 128 || BN == 160 || BN == 192 || BN == 256, "wgmma n of 64-256");
  static_assert(BN % 8 == 0 && BN <= 256, "TMA box rows");
  static_assert(SMEM <= 227 * 1024, "shared memory of one SM");
  static_assert(MINB * SMEM <= 228 * 1024 - MINB * 1024, "blocks per SM");
  static_assert(LAUNCH_REGS <= 255 || MINB * THREADS >= 256, "registers at launch");
  static_assert(CREGS >= 64, "consumer registers");
  static_assert(KW == 1 || STAGES > KW, "a K group waits for its next chunk before it releases");
  // A K group waits on the full barrier of its chunk c + KW by phase parity, and a parity wait
  // returns at once if the barrier is still in the phase before the one expected (it reads as
  // "that parity's phase is done"). The stage's previous chunk, c + KW - STAGES, must therefore
  // be one this group has itself waited for, i.e. of the same group: STAGES % KW == 0. The
  // removed 64x256 config (KW = 2, 3 stages) broke this -- its previous chunk was the other
  // group's c - 1, whose bulk copies may complete after c's -- which is the likely cause of its
  // fault on 28672x8192 in a timing loop (not reproduced under memcheck).
  static_assert(KW == 1 || STAGES % KW == 0, "a K group's stages hold only its own chunks");
  static_assert(uint64_t(KW - 1) * CWG * 128 * ACC * 4 <= BARS, "K-group partial sums");
  static_assert(SPLIT == 1 || (KW == 1 && uint64_t(CWG) * 128 * ACC * 4 <= BARS),
                "a split CTA's partial sums fit in its stages");
  static_assert(SPLITG == 1 || (SPLIT == 1 && KW == 1), "one kind of K split");
  static_assert(!PERSIST || (SPLIT == 1 && SPLITG == 1 && KW == 1),
                "the persistent form is its own split");
};

// PERSIST (configs 16, 17, 22): one CTA an SM (a grid of `grid`), each walking whole
// tiles b, b + grid, ... below dp (all waves but the last), its ring running on from one tile to
// the next (the producer loads the next tile's first chunks while the consumers store). A grid
// of one-tile CTAs also loses the idle part of its last wave (28672x8192 at M = 512: 448 tiles
// are 3.39 waves of 132). The last wave's `tail` tiles are therefore cut along K into `split` =
// grid / tail pieces (at most one a chunk), CTA b taking piece b % split of tile dp + b / split:
// every piece starts at the same time and at one of `split` K offsets, so the pieces of
// neighbouring tiles read the same activation chunks together, as whole tiles do. The pieces of
// a cut tile exchange FP32 partial sums as config 9's K shares do without a cooperative launch
// (add_pieces: the last to count itself in adds them): no CTA waits for another, so the launch
// needs no co-residency. Where nothing is cut, config 16 ran 0.4-1.7% behind config 6 and config
// 17 1-3.5% ahead of config 11, timed call for call (w4a16_wgmma_config_for says where each is
// taken). A first version that made one CTA of a cut tile wait for the others, and stream-K over
// all waves, were slower (docs/kernels/h200/persistent-wgmma-experiment.patch).
struct PWork {
  int grid, dp, chunks, tail, split;
};
// The tiles of the last wave of a grid of `grid` CTAs, one tile each: 1 .. grid.
__host__ __device__ inline int64_t last_wave(int64_t tiles, int64_t grid) {
  return tiles - (tiles - 1) / grid * grid;
}
__host__ __device__ inline PWork persistent_work(int64_t tiles, int grid, int chunks) {
  const int64_t tail = last_wave(tiles, grid);
  const int split = int(min(int64_t(chunks), max(int64_t(1), grid / tail)));
  return {grid, int(tiles - tail), chunks, int(tail), split};
}
// f(tile, c0, n, piece): CTA b's segments in order, chunks c0 .. c0 + n - 1 of tile `tile`
// (piece -1: the whole tile).
template <class F>
__device__ __forceinline__ void for_each_segment(const PWork& w, int b, F f) {
  for (int tile = b; tile < w.dp; tile += w.grid) f(tile, 0, w.chunks, -1);
  if (b < w.tail * w.split) {
    const int piece = b % w.split, c0 = piece * w.chunks / w.split;
    f(w.dp + b / w.split, c0, (piece + 1) * w.chunks / w.split - c0, w.split > 1 ? piece : -1);
  }
}

// (m & a) | (~m & b) in one LOP3 (written as two, ptxas spends an extra AND).
__device__ __forceinline__ uint32_t bitsel(uint32_t m, uint32_t a, uint32_t b) {
  uint32_t d;
  asm("lop3.b32 %0, %1, %2, %3, 0xCA;" : "=r"(d) : "r"(m), "r"(a), "r"(b));
  return d;
}

// Where a consumer thread's weight bytes lie in a stage (see produce): block b of the row tile's
// weight blocks (`tiles` 8-row tiles each) at X_BYTES + b * (its chunk run), the run its codes
// then its scale bytes, so that tile tau is tile tau % tiles of block tau / tiles. code[mi][h]:
// the 64 code bytes of the lane's row g of tile (cw WM + mi) 8 + 2 ww + h (quad-mate p at
// + 16 p); scale[mi][h]: that row's scale bytes.
template <class C>
struct WOffsets {
  uint32_t code[C::WM][2], scale[C::WM][2];
  __device__ __forceinline__ WOffsets(int tiles, int cw, int ww, int g) {
    const uint32_t run = layout::run_bytes(tiles, C::NV);
    auto block = [&](int tau) { return C::X_BYTES + uint32_t(tau / tiles) * run; };
    auto scales = [&](int tau) {
      return block(tau) + layout::run_scales(tiles) + uint32_t(tau % tiles) * 32 * C::SB;
    };
#pragma unroll
    for (int mi = 0; mi < C::WM; ++mi) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int tau = (cw * C::WM + mi) * 8 + 2 * ww + h;
        code[mi][h] = block(tau) + uint32_t(tau % tiles) * 512 + g * 64;
        scale[mi][h] = scales(tau) + g * 4 * C::SB;
      }
    }
  }
};

// The 16 code bytes of quad-mate p of the lane's rows (h = 0: row g, 1: row g + 8) for each m-tile.
template <class C>
struct WPair {
  uint4 q[C::WM][2];
};
template <class C>
__device__ __forceinline__ void w_pair(WPair<C>& r, const uint8_t* st, const WOffsets<C>& o,
                                       int p) {
#pragma unroll
  for (int mi = 0; mi < C::WM; ++mi)
#pragma unroll
    for (int h = 0; h < 2; ++h)
      r.q[mi][h] = *reinterpret_cast<const uint4*>(st + o.code[mi][h] + p * 16);
}
// The scale bytes of the four quad-mates of each row: MXFP4 one word, NVFP4 two.
template <class C>
struct WScales {
  uint32_t s[C::WM][2][C::NV ? 2 : 1];
};
template <class C>
__device__ __forceinline__ void w_scales(WScales<C>& r, const uint8_t* st, const WOffsets<C>& o) {
#pragma unroll
  for (int mi = 0; mi < C::WM; ++mi)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const uint8_t* sp = st + o.scale[mi][h];
      if constexpr (C::NV) {
        const uint2 v = *reinterpret_cast<const uint2*>(sp);
        r.s[mi][h][0] = v.x, r.s[mi][h][1] = v.y;
      } else {
        r.s[mi][h][0] = *reinterpret_cast<const uint32_t*>(sp);
      }
    }
}

// The block's shared memory, 1024-aligned (the swizzle atoms), and its full
// and empty mbarriers behind the stages, initialised by thread 0.
template <class C>
__device__ __forceinline__ uint8_t* block_setup(uint8_t* smem_raw, uint64_t*& full,
                                                uint64_t*& empty) {
  uint8_t* smem = align_1024(smem_raw);
  full = reinterpret_cast<uint64_t*>(smem + C::BARS);
  empty = full + C::STAGES;
  if (threadIdx.x == 0) ring_init(full, empty, C::STAGES, C::CWG * 4);
  __syncthreads();
  return smem;
}

// The activation box's rows: where one row tile covers M (M <= BN), only round_up(M, 8) rows, so
// that the box lies (almost) inside the tensor. Boxes with many rows past the tensor's end made
// the 64 x 64-tile configs up to a third slower at M = 33-39 than at M = 48, with the same
// instructions and more long-scoreboard waits (docs/kernels/h200/s25-run6-*.txt, s25-run7.txt).
// The tile's rows past the box keep stale shared memory; they feed only output rows >= M, which
// are never stored, and the rows of the 128-byte swizzle land where a full box puts them.
__host__ __device__ __forceinline__ int box_rows(int M, int BN) {
  return M < BN ? (M + 7) / 8 * 8 : BN;
}

// Thread 0 of warpgroup 0 fills the stages in chunk order: the two 64-k activation boxes by
// tensor-map TMA and the row tile's weight bytes by one bulk copy per weight block. Chunks
// c0 .. c0 + n - 1 of the `chunks` of a row; the block's it-th chunk (it = it0 + c: the
// persistent kernel's ring runs on across tiles) in stage it % STAGES.
// rem (RT > 0, the last activation tile): the remainder rows' two panels too (RemTile).
template <class C>
__device__ __forceinline__ void produce(const CUtensorMap& xmap, const CUtensorMap& rmap,
                                        const uint8_t* __restrict__ packed, uint8_t* smem,
                                        uint64_t* full, uint64_t* empty, int N, int tiles,
                                        int chunks, int c0, int n, int rb, int mb, int it0,
                                        int xrows, bool rem, int rrow0) {
  const int bpt = C::WN / (8 * tiles), b0 = rb * bpt;  // weight blocks of this row tile
  const int nblk = min(bpt, (N + 8 * tiles - 1) / (8 * tiles) - b0);
  const uint32_t run = layout::run_bytes(tiles, C::NV);  // a block's chunk: one copy
  const uint64_t policy = l2_policy(true);
  const int row0 = mb * C::BN;
  for (int c = 0; c < n; ++c) {
    const int it = it0 + c, slot = it % C::STAGES, gc = c0 + c;
    mbar_wait(&empty[slot], uint32_t(((it / C::STAGES) & 1) ^ 1));
    uint8_t* st = smem + slot * C::STAGE;
    // The boxes count in full (zero-filled parts included): xrows rows each (box_rows).
    mbar_expect_tx(&full[slot],
                   2 * uint32_t(xrows) * 128 + uint32_t(nblk) * run + (rem ? 2 * C::R_PANEL : 0));
    tma_2d(st, &xmap, gc * 128, row0, &full[slot]);
    tma_2d(st + C::PANEL, &xmap, gc * 128 + 64, row0, &full[slot]);
    if (C::RT > 0 && rem) {
      tma_2d(st + C::R_OFF, &rmap, gc * 128, rrow0, &full[slot]);
      tma_2d(st + C::R_OFF + C::R_PANEL, &rmap, gc * 128 + 64, rrow0, &full[slot]);
    }
    for (int b = 0; b < nblk; ++b)  // a block's chunk run, its codes then its scales (WOffsets)
      bulk_load(st + C::X_BYTES + b * run, packed + (int64_t(b0 + b) * chunks + gc) * run, run,
                &full[slot], policy);
  }
}

// Where an accumulator lands, and its masked BF16 store (FP32 x inv_g, 1/G for NVFP4):
// accumulator i of lane (g, t) of warp ww in m-tile mi of consumer position cw is weight row
// 16 ww + g + 8 ((i/2) % 2) of m-tile cw WM + mi and activation row 8 (i/4) + 2t + i % 2
// of the block's tile (rb, mb).
template <class C>
__device__ __forceinline__ void store_acc(float v, int rb, int mb, int cw, int mi, int i, int ww,
                                          int g, int t, int M, int N, float inv_g,
                                          uint16_t* __restrict__ Y) {
  const int n = rb * C::WN + (cw * C::WM + mi) * 64 + 16 * ww + g + 8 * ((i >> 1) & 1);
  const int64_t m = int64_t(mb) * C::BN + 8 * (i >> 2) + 2 * t + (i & 1);
  if (n < N && m < M) Y[m * N + n] = __bfloat16_as_ushort(__float2bfloat16_rn(v * inv_g));
}

// A consumer thread's accumulators, each at a = (mi, i) flattened: stored, stashed in
// shared memory at r[a * 128] (128 threads of a warpgroup write 128 consecutive words per
// accumulator) and added back.
template <class C, class F>
__device__ __forceinline__ void for_each_acc(F f) {
#pragma unroll
  for (int mi = 0; mi < C::WM; ++mi)
#pragma unroll
    for (int i = 0; i < C::AN; ++i) f(mi, i, mi * C::AN + i);
}
template <class C>
__device__ __forceinline__ void store_tile(const float (&acc)[C::WM][C::AN], int rb, int mb, int cw,
                                           int ww, int g, int t, int M, int N, float inv_g,
                                           uint16_t* __restrict__ Y) {
  for_each_acc<C>([&](int mi, int i, int) {
    store_acc<C>(acc[mi][i], rb, mb, cw, mi, i, ww, g, t, M, N, inv_g, Y);
  });
}

// The remainder n-tiles' accumulators (RT > 0; only the last tile's are ever nonzero, and mlim
// keeps the others' rows out), by masked scalar stores.
template <class C>
__device__ __forceinline__ void store_rem(const float (&acc)[C::WM][C::AN], int rb, int mb, int cw,
                                          int ww, int g, int t, int mlim, int N, float inv_g,
                                          uint16_t* __restrict__ Y) {
#pragma unroll
  for (int mi = 0; mi < C::WM; ++mi)
#pragma unroll
    for (int i = C::BN / 2; i < C::AN; ++i)
      store_acc<C>(acc[mi][i], rb, mb, cw, mi, i, ww, g, t, mlim, N, inv_g, Y);
}

template <class C>
__device__ __forceinline__ void stash_acc(float* r, const float (&acc)[C::WM][C::AN]) {
  for_each_acc<C>([&](int mi, int i, int a) { r[a * 128] = acc[mi][i]; });
}
template <class C>
__device__ __forceinline__ void add_stashed_acc(float (&acc)[C::WM][C::AN], const float* r) {
  for_each_acc<C>([&](int mi, int i, int a) { acc[mi][i] += r[a * 128]; });
}
// A consumer thread's accumulators 4j .. 4j + 3 (in for_each_acc's order): the float4 group j
// that the K-share exchanges move at once.
// (Acc: the accumulator array, const or not.)
template <class C, class Acc>
__device__ __forceinline__ auto* acc_group(Acc& acc, int j) {
  return &acc[(4 * j) / C::AN][(4 * j) % C::AN];
}

// Every thread of every CTA of the cluster (not .aligned: the producer warp's
// threads arrive from different places).
__device__ __forceinline__ void cluster_sync() {
  asm volatile("barrier.cluster.arrive.release;\nbarrier.cluster.wait.acquire;\n" ::: "memory");
}

// SPLIT > 1 (configs 8, 10): the SPLIT CTAs of a cluster computed the same tile over
// different K ranges. Each writes its FP32 partial sums into its own (now idle) stage
// memory, [warpgroup][accumulator][thread] so that consecutive threads are consecutive
// words; after a cluster barrier, CTA `rank` finishes the rank-th SPLIT-th of the tile:
// it reads that share from every CTA's shared memory (its own and, through distributed
// shared memory, the others'), adds them in rank order (the same sum whichever CTA adds),
// and stores BF16. A second barrier keeps every CTA's shared memory alive until all reads
// are done. Called by the consumer threads; the producer warpgroup meets the barriers.
template <class C>
__device__ __forceinline__ void split_store(const float (&acc)[C::WM][C::AN], uint8_t* smem,
                                            int rank, int rb, int mb, int M, int N, float inv_g,
                                            uint16_t* __restrict__ Y) {
  constexpr int A = C::ACC, E = C::CWG * A * 128;
  const int tid = int(threadIdx.x) - 128;  // 0 .. 128 CWG - 1
  const int cw = tid >> 7, tw = tid & 127;
  float* red = reinterpret_cast<float*>(smem);
  // Both consumer warpgroups read the same activation stages: neither may overwrite them
  // before the other's last wgmma has completed. The stages were last written by the TMA
  // unit (async proxy); these are generic writes.
  named_sync<128 * C::CWG>();
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  stash_acc<C>(red + cw * A * 128 + tw, acc);
  cluster_sync();
  if (threadIdx.x == 128) WG_TRACE(4, clock64());
  // Four consecutive elements a thread (16-byte loads), U groups of them loaded before any is
  // added: one element per load, each load's result used at once, exposed the distributed
  // shared memory's latency 64 times a thread in config 8 (measured: 61.2 -> 55.9 us on
  // 8192x8192 at M = 256, docs/PERFORMANCE.md).
  constexpr int U = 4, STEP = 4 * C::CWG * 128;
  const uint32_t base = su32(red);
  const int lo = rank * E / C::SPLIT, hi = (rank + 1) * E / C::SPLIT;
  static_assert(E % (4 * C::SPLIT) == 0, "shares of whole 16-byte groups");
  for (int e0 = lo + 4 * tid; e0 < hi; e0 += U * STEP) {
    float4 x[U][C::SPLIT];
#pragma unroll
    for (int u = 0; u < U; ++u)
#pragma unroll
      for (int q = 0; q < C::SPLIT; ++q) {
        if (e0 + u * STEP >= hi) continue;
        uint32_t remote;
        asm volatile("mapa.shared::cluster.u32 %0, %1, %2;"
                     : "=r"(remote)
                     : "r"(base + 4u * uint32_t(e0 + u * STEP)), "r"(q));
        asm volatile("ld.shared::cluster.v4.f32 {%0, %1, %2, %3}, [%4];"
                     : "=f"(x[u][q].x), "=f"(x[u][q].y), "=f"(x[u][q].z), "=f"(x[u][q].w)
                     : "r"(remote));
      }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int e = e0 + u * STEP;
      if (e >= hi) continue;
      float v[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
      for (int q = 0; q < C::SPLIT; ++q)  // rank order: the same sum whichever CTA adds
        v[0] += x[u][q].x, v[1] += x[u][q].y, v[2] += x[u][q].z, v[3] += x[u][q].w;
      // Element e + i = (warpgroup ecw, accumulator a = (mi, ai), thread et + i).
      const int ecw = e / (A * 128), a = (e / 128) % A, et = e % 128;
#pragma unroll
      for (int i = 0; i < 4; ++i)
        store_acc<C>(v[i], rb, mb, ecw, a / C::AN, a % C::AN, et >> 5, ((et + i) & 31) >> 2,
                     (et + i) & 3, M, N, inv_g, Y);
    }
  }
  cluster_sync();
}

// The epilogue through shared memory (store_tile_staged, split_store_push). A consumer warp's
// accumulators, scaled and rounded to BF16, go into an [activation row][weight row] tile in the
// idle stage memory by stmatrix.trans (an accumulator fragment's 8 x 8 matrix is 8 weight rows of
// 8 activation rows; transposed, each activation row's 8 values are one 16-byte row), then every
// consumer thread copies 16-byte pieces of whole Y rows. The direct stores (store_acc) write 4
// rows x 16 bytes a warp instruction: a per-CTA trace put them at 4.5K of a config 6 CTA's 142K
// cycles and the cluster split's loads and stores at ~10K of config 8's 88K; staged, 3.0K and
// 6.9K (docs/kernels/h200/wg-pair-staged-ea4a40b.txt: 1.6-4.4% faster in every config tried).
// Rows are padded by 16 bytes so that the 8 rows of a matrix fall in different banks.
__device__ __forceinline__ void stmatrix_x4_trans(uint32_t addr, uint32_t r0, uint32_t r1,
                                                  uint32_t r2, uint32_t r3) {
  asm volatile("stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [%0], {%1, %2, %3, %4};" ::"r"(addr),
               "r"(r0), "r"(r1), "r"(r2), "r"(r3)
               : "memory");
}
// A staged tile of `wrows` weight rows: bytes per activation row.
constexpr int staged_row_bytes(int wrows) {
  return wrows * 2 + 16;
}
// The warp's accumulators (weight rows (cw WM + mi) 64 + 16 ww .. + 15, less f0) into the tile of
// WROWS weight rows at `base`.
template <class C, int WROWS>
__device__ __forceinline__ void stage_acc(const float (&acc)[C::WM][C::AN], uint32_t base, int cw,
                                          int ww, int lane, float inv_g, int f0) {
  constexpr int RS = staged_row_bytes(WROWS);
  const int j = lane >> 3, r = lane & 7;
#pragma unroll
  for (int mi = 0; mi < C::WM; ++mi) {
    const int feat = (cw * C::WM + mi) * 64 - f0 + 16 * ww + 8 * (j & 1);
#pragma unroll
    for (int q = 0; q < C::BN / 8; q += 2) {
      const float* a = &acc[mi][4 * q];
      stmatrix_x4_trans(
          base + uint32_t((8 * (q + (j >> 1)) + r) * RS + feat * 2),
          dev::bf16x2_rn(a[0] * inv_g, a[1] * inv_g), dev::bf16x2_rn(a[2] * inv_g, a[3] * inv_g),
          dev::bf16x2_rn(a[4] * inv_g, a[5] * inv_g), dev::bf16x2_rn(a[6] * inv_g, a[7] * inv_g));
    }
  }
}
// The staged tile's BN activation rows of WROWS weight rows into Y (rows m0.., columns n0..),
// 16 bytes a thread and access (N % 8 == 0 and Y 16-byte aligned: stage_ok).
template <class C, int WROWS>
__device__ __forceinline__ void copy_staged(uint32_t base, int tid, int nthreads, int64_t m0,
                                            int n0, int M, int N, uint16_t* __restrict__ Y) {
  constexpr int RS = staged_row_bytes(WROWS), P = WROWS / 8;
  for (int e = tid; e < C::BN * P; e += nthreads) {
    const int r = e / P, pc = e - r * P;
    const int64_t m = m0 + r;
    const int n = n0 + 8 * pc;
    if (m >= M || n >= N) continue;
    uint4 v;
    asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "r"(base + uint32_t(r * RS + pc * 16)));
    *reinterpret_cast<uint4*>(Y + m * N + n) = v;
  }
}
__device__ __forceinline__ bool stage_ok(int N, const uint16_t* Y) {
  return N % 8 == 0 && reinterpret_cast<uintptr_t>(Y) % 16 == 0;
}
template <class C>
__device__ __forceinline__ void store_tile_staged(const float (&acc)[C::WM][C::AN], uint8_t* smem,
                                                  int rb, int mb, int cw, int ww, int lane, int M,
                                                  int N, float inv_g, uint16_t* __restrict__ Y) {
  static_assert(C::BN * staged_row_bytes(C::WN) <= int(C::BARS), "the staged tile fits the stages");
  named_sync<128 * C::CWG>();
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  const uint32_t base = su32(smem);
  stage_acc<C, C::WN>(acc, base, cw, ww, lane, inv_g, 0);
  named_sync<128 * C::CWG>();
  copy_staged<C, C::WN>(base, int(threadIdx.x) - 128, 128 * C::CWG, int64_t(mb) * C::BN, rb * C::WN,
                        M, N, Y);
  store_rem<C>(acc, rb, mb, cw, ww, lane >> 2, lane & 3, M, N, inv_g, Y);
}
// SPLIT = CWG = 2: CTA `rank` finishes consumer position rank's 64 weight rows. The other
// warpgroup pushes its FP32 partial sums into the partner CTA's idle stage memory (16-byte
// remote stores, no remote loads), the owner adds them (a two-term sum: the same bits whichever
// CTA adds) and stores through the staged tile with both warpgroups copying.
template <class C>
__device__ __forceinline__ void split_store_push(float (&acc)[C::WM][C::AN], uint8_t* smem,
                                                 int rank, int rb, int mb, int M, int N,
                                                 float inv_g, uint16_t* __restrict__ Y) {
  static_assert(C::SPLIT == 2 && C::CWG == 2 && C::WM == 1, "one 64-row m-tile a position");
  constexpr uint32_t RECV = uint32_t(C::ACC) * 128 * 4;
  static_assert(RECV + C::BN * staged_row_bytes(64) <= C::BARS,
                "received partials and staged half");
  const int tid = int(threadIdx.x) - 128, cw = tid >> 7, tw = tid & 127;
  const int ww = (tid >> 5) & 3, lane = tid & 31;
  named_sync<128 * C::CWG>();
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  cluster_sync();  // both CTAs' stages idle
  if (threadIdx.x == 128) WG_TRACE(4, clock64());
  const uint32_t base = su32(smem);
  if (cw != rank) {
    uint32_t remote;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(remote) : "r"(base), "r"(cw));
#pragma unroll
    for (int j = 0; j < C::ACC / 4; ++j) {
      const float* a = acc_group<C>(acc, j);
      asm volatile("st.shared::cluster.v4.f32 [%0], {%1, %2, %3, %4};" ::"r"(
                       remote + uint32_t(j * 128 + tw) * 16),
                   "f"(a[0]), "f"(a[1]), "f"(a[2]), "f"(a[3])
                   : "memory");
    }
  }
  cluster_sync();
  const uint32_t stg = base + RECV;
  if (cw == rank) {
#pragma unroll
    for (int j = 0; j < C::ACC / 4; ++j) {
      float4 v;
      asm volatile("ld.shared.v4.f32 {%0, %1, %2, %3}, [%4];"
                   : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w)
                   : "r"(base + uint32_t(j * 128 + tw) * 16));
      float* a = acc_group<C>(acc, j);
      a[0] += v.x, a[1] += v.y, a[2] += v.z, a[3] += v.w;
    }
    stage_acc<C, 64>(acc, stg, cw, ww, lane, inv_g, rank * 64);
    store_rem<C>(acc, rb, mb, cw, ww, lane >> 2, lane & 3, M, N, inv_g, Y);
  }
  named_sync<128 * C::CWG>();
  copy_staged<C, 64>(stg, tid, 128 * C::CWG, int64_t(mb) * C::BN, rb * C::WN + rank * 64, M, N, Y);
}

// K shares of one tile exchanging FP32 partial sums through a global workspace: config 9's
// CTAs (split_store_global) and the pieces of the persistent kernel's cut tail tiles
// (add_pieces). The workspace is [share][warpgroup][accumulator / 4][thread], 16 bytes a thread
// and access (share_part: this thread's first float4 of a tile's share 0; kShareSlice: the
// float4s of one share); every output becomes the sum of the shares' partials in share order,
// whichever CTA adds them (the same bits every run).
template <class C>
__device__ __forceinline__ float4* share_part(float* ws, int64_t first_share) {
  const int tid = int(threadIdx.x) - 128;
  return reinterpret_cast<float4*>(ws) + (first_share * C::CWG + (tid >> 7)) * (C::ACC / 4) * 128 +
         (tid & 127);
}
template <class C>
constexpr int64_t kShareSlice = int64_t(C::CWG) * (C::ACC / 4) * 128;

// Share `rank` of `shares` stores its partial (with coop all but float4 groups skip_q * Q ..
// + Q - 1, which it adds itself), counts itself in on *counter (zeroed by the host before the
// launch) and, with coop (a cooperative launch: all shares resident), waits until all have.
// Returns whether this CTA adds: with coop every share, else the last to count itself in. Stage
// 0's first word carries the verdict to the other consumer threads (every wgmma has completed:
// the stages are idle).
template <class C>
__device__ __forceinline__ bool publish_share(const float (&acc)[C::WM][C::AN], float4* part,
                                              unsigned* counter, int shares, int rank,
                                              uint8_t* smem, bool coop, int Q) {
  const int tid = int(threadIdx.x) - 128;
#pragma unroll
  for (int j = 0; j < C::ACC / 4; ++j) {
    if (coop && j / Q == rank) continue;
    const float* a = acc_group<C>(acc, j);
    part[rank * kShareSlice<C> + j * 128] = make_float4(a[0], a[1], a[2], a[3]);
  }
  __threadfence();  // the partial before the count
  unsigned* last = reinterpret_cast<unsigned*>(smem);
  named_sync<128 * C::CWG>();
  if (tid == 0) {
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");  // the TMA wrote there last
    *last = atomicAdd(counter, 1u) == unsigned(shares - 1);
    if (coop) {  // all CTAs are resident (cooperative launch): the others will count in
      for (;;) {
        unsigned n;
        asm volatile("ld.acquire.gpu.global.u32 %0, [%1];\n" : "=r"(n) : "l"(counter));
        if (n >= unsigned(shares)) break;
        __nanosleep(64);
      }
    }
  }
  named_sync<128 * C::CWG>();
  if (!coop && !*last) return false;
  __threadfence();  // the other partials after their counts
  return true;
}

// SPLITG > 1 (configs 9, 13, 15, 21): K split over SPLITG CTAs that need not share a cluster
// (clusters of four did not fit in one wave: 93-96 us where their tile count predicts ~45).
//  * coop (cooperative where the grid fits on the GPU at once): CTA r finishes quarter r of the
//    tile's accumulators. It stores the other quarters of its partial, counts itself in, waits
//    until all SPLITG have, and reads the other partials of its quarter: a CTA writes and reads
//    3/4 of a partial instead of the last CTA reading all three.
//  * otherwise: every CTA stores its whole partial and the last to count itself in adds the
//    tile's partials alone.
// The sum runs share by share for each float4 group, its own share from registers (0 + p0 + p1
// + ...): SPLITG is known at compile time, so all its loads are in flight together.
template <class C>
__device__ __forceinline__ void split_store_global(float (&acc)[C::WM][C::AN],
                                                   float* __restrict__ ws,
                                                   unsigned* __restrict__ counters, uint8_t* smem,
                                                   int rank, int rb, int mb, int M, int N,
                                                   float inv_g, uint16_t* __restrict__ Y,
                                                   bool coop) {
  static_assert(C::ACC % (4 * C::SPLITG) == 0, "quarters of whole float4 groups");
  constexpr int G4 = C::ACC / 4, Q = G4 / C::SPLITG;  // float4 groups of a thread, a quarter
  const int tid = int(threadIdx.x) - 128, cw = tid >> 7, tw = tid & 127;
  const int tile = int(blockIdx.x) / C::SPLITG, ww = (tw >> 5) & 3, g = (tw & 31) >> 2, t = tw & 3;
  float4* const part = share_part<C>(ws, int64_t(tile) * C::SPLITG);
  if (!publish_share<C>(acc, part, &counters[tile], C::SPLITG, rank, smem, coop, Q)) return;
#pragma unroll
  for (int j = 0; j < G4; ++j) {
    if (coop && j / Q != rank) continue;
    float* a = acc_group<C>(acc, j);
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
    for (int q = 0; q < C::SPLITG; ++q) {
      const float4 p = q == rank ? make_float4(a[0], a[1], a[2], a[3])
                                 : __ldcg(part + q * kShareSlice<C> + j * 128);
      v.x += p.x, v.y += p.y, v.z += p.z, v.w += p.w;
    }
    a[0] = v.x, a[1] = v.y, a[2] = v.z, a[3] = v.w;
  }
  for_each_acc<C>([&](int mi, int i, int a) {
    if (!coop || (a / 4) / Q == rank)
      store_acc<C>(acc[mi][i], rb, mb, cw, mi, i, ww, g, t, M, N, inv_g, Y);
  });
}

// PERSIST: piece `piece` of a cut tail tile of `split` pieces (CTAs b - piece .. b - piece +
// split - 1, workspace shares of the same numbers, tail tile `tail_tile`'s counter): publishes
// its partial and, in the last piece to count itself in, sets acc to the pieces' sum and returns
// true (the caller stores the tile). The number of pieces is known only at run time, so the sum
// runs piece by piece over all float4 groups (all the groups' loads in flight together), its own
// partial re-read from the workspace: summing in piece order from registers would need a second
// register set.
template <class C>
__device__ __forceinline__ bool add_pieces(float (&acc)[C::WM][C::AN], float* ws,
                                           unsigned* counters, uint8_t* smem, int tail_tile,
                                           int split, int piece) {
  float4* const part = share_part<C>(ws, int64_t(blockIdx.x) - piece);
  if (!publish_share<C>(acc, part, &counters[tail_tile], split, piece, smem, false, 1))
    return false;
  for (int q = 0; q < split; ++q) {
#pragma unroll
    for (int j = 0; j < C::ACC / 4; ++j) {
      float* a = acc_group<C>(acc, j);
      const float4 v = __ldcg(part + q * kShareSlice<C> + j * 128);
      if (q == 0)
        a[0] = v.x, a[1] = v.y, a[2] = v.z, a[3] = v.w;
      else
        a[0] += v.x, a[1] += v.y, a[2] += v.z, a[3] += v.w;
    }
  }
  return true;
}

// ------------------------------------------------------------ RemTile --
// M just past a tile boundary (M = k BN + 1 .. 8 RT) would otherwise take a whole activation
// tile more, mostly empty, or smaller tiles that run into the register-A floor (M = 257 on
// 8192x8192 was 0.74x of cuBLAS). Instead the last tile's RT extra 8-row n-tiles go through
// mma.sync m16n8k16, whose A fragment is the wgmma's own register fragment for each warp's 16
// weight rows (the same layout: PTX ISA, wgmma register fragments), so the decode is shared and
// each k-step adds one mma.sync a warp and n-tile (~3% of an m64n256k16's work a warp). The rows'
// B fragments come from two more 64-k panels a stage (a TMA box of 8 RT rows, 128-byte swizzle)
// by ldmatrix: matrix m of a pair of k-steps is k 8m .. 8m + 7 of its 32, so registers 0-1 are
// the first k-step's b0, b1 and 2-3 the second's. Their accumulators follow the wgmma's in
// acc[mi] (AN), so every K-share exchange carries them unchanged and store_acc places them.
// Measured, an mma.sync among the wgmmas costs its tile far more than its 3%, and as much when
// its predicate is false (config 112 at M = 192, no remainder rows: 1.15x config 12). So the
// loop with it runs only in the last tile's CTAs (consume<C, REM>); there it costs ~12% (8192x8192:
// config 8 at M = 256 51.8 us, 108 at 257 57.9). ncu shows why: the mma.sync cannot issue while
// the tensor pipe is full of wgmmas (its warps stall there, 'math' throttle, where config 8's wait
// at the wgmma depbar), and the pair's next wgmma waits behind it, so the pipe's queue runs dry.
// Loading its B fragments a pair ahead and a second accumulator set (consume) are worth up to
// 14% here, but an opaque copy of its A fragment changed nothing; issuing it after wgmma.wait_group
// 0 was slower. It pays only where it replaces a whole 256-row tile (configs 6 and 8, RT = 1: 106,
// 108; docs/PERFORMANCE.md, thirtieth and thirty-first sections).
template <class C>
__device__ __forceinline__ void rem_b(uint32_t (&b)[C::RT][4], uint32_t stage, int p, int lane) {
  const int m = lane >> 3, r8 = lane & 7;
#pragma unroll
  for (int nt = 0; nt < C::RT; ++nt) {
    const uint32_t addr = stage + C::R_OFF + (p / 2) * C::R_PANEL + (nt * 8 + r8) * 128 +
                          ((((p % 2) * 4 + m) ^ r8) << 4);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(b[nt][0]), "=r"(b[nt][1]), "=r"(b[nt][2]), "=r"(b[nt][3])
                 : "r"(addr));
  }
}
// The rows an activation tile stores: its BN, the last tile's remainder rows too, below M.
// Without a remainder, M itself (a kernel parameter, no register: computing the limit put config
// 5's epilogue over its registers, 8 bytes of spill).
template <class C>
__device__ __forceinline__ int tile_mlim(int mb, int mtiles, int M) {
  if constexpr (C::RT == 0) return M;
  const int64_t end = int64_t(mb + 1) * C::BN + (mb == mtiles - 1 ? 8 * C::RT : 0);
  return int(end < M ? end : M);
}
// Whether tile mb has remainder rows below M.
template <class C>
__device__ __forceinline__ bool tile_rem(int mb, int mtiles, int M) {
  return C::RT > 0 && mb == mtiles - 1 && M > mtiles * C::BN;
}

// A consumer warpgroup's main loop: the block's chunks kg, kg + KW, ... below n (its K group's),
// the block's it-th chunk in stage it % STAGES for it = it0 + c, accumulated into acc from zero.
// Each chunk's stage is released once the next own chunk's first group has been waited for; the
// last one's is not (the persistent kernel releases it after the loop).
// REM: the tile takes RemTile's rows. A template parameter, not a run-time flag: an mma.sync in
// the loop costs its tile 8-23% even where its predicate is false (docs/PERFORMANCE.md,
// thirty-first section), so the tiles without remainder rows run a loop without it.
template <class C, bool REM>
__device__ __forceinline__ void consume(float (&acc)[C::WM][C::AN], const uint8_t* smem,
                                        uint64_t* full, uint64_t* empty, const WOffsets<C>& wo,
                                        uint32_t sel, const layout::PairShift& l2_shift,
                                        uint32_t mx_bias, int kg, int n, int it0, int lane) {
  static_assert(!REM || C::RT > 0, "remainder rows need a config with a remainder form");
  for_each_acc<C>([&](int mi, int i, int) { acc[mi][i] = 0.f; });
  WPair<C> cur, nxt;
  WScales<C> sw, swn;
  // RemTile: the pair's B fragments, loaded a pair ahead (rbc this pair's, rbn the next's), and
  // the second k-step's accumulators apart from the first's, so that neither mma.sync waits on
  // a load or on the other. Neutral while the mma.sync were predicated (s31-run1-ab.txt); in
  // this form, without them the remainder tiles took 1.09-1.14x the time in NVFP4 and up to
  // 1.07x in MXFP4 (docs/kernels/h200/s31-run6-ab.txt).
  constexpr int RTn = C::RT > 0 ? C::RT : 1;
  uint32_t rbc[RTn][4], rbn[RTn][4];
  float racc[C::WM][RTn][4] = {};
  if (kg < n) {
    const int it = it0 + kg;
    mbar_wait(&full[it % C::STAGES], uint32_t((it / C::STAGES) & 1));
    if (threadIdx.x == 128 && it0 == 0) WG_TRACE(2, clock64());
    const uint8_t* st0 = smem + (it % C::STAGES) * C::STAGE;
    w_pair<C>(cur, st0, wo, 0);
    w_scales<C>(sw, st0, wo);
    if constexpr (REM) rem_b<C>(rbc, su32(st0), 0, lane);
  }
  for (int c = kg; c < n; c += C::KW) {
    const uint8_t* st = smem + ((it0 + c) % C::STAGES) * C::STAGE;
    const uint32_t xs = su32(st);
#pragma unroll
    for (int p = 0; p < 4; ++p) {
      // The next pair's bytes (at p = 3: the first pair of the next own chunk) before this
      // pair's decode, so that the shared-memory latency hides behind two k-steps.
      if (p < 3) {
        w_pair<C>(nxt, st, wo, p + 1);
        if constexpr (REM) rem_b<C>(rbn, xs, p + 1, lane);
      } else if (c + C::KW < n) {
        const int it = it0 + c + C::KW, ns = it % C::STAGES;
        mbar_wait(&full[ns], uint32_t((it / C::STAGES) & 1));
        const uint8_t* st1 = smem + ns * C::STAGE;
        w_pair<C>(nxt, st1, wo, 0);
        w_scales<C>(swn, st1, wo);
        if constexpr (REM) rem_b<C>(rbn, su32(st1), 0, lane);
      }
      uint32_t sc[C::WM][2][2];
#pragma unroll
      for (int mi = 0; mi < C::WM; ++mi)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const uint32_t s = C::NV ? (sw.s[mi][h][p / 2] >> (16 * (p % 2))) & 0xFFFFu
                                   : (sw.s[mi][h][0] >> (8 * p)) & 0xFFu;
          folded_scale_pairs<C::NV>(s, sc[mi][h], mx_bias);
        }
      // Both k-steps of the pair decoded, then one fence, their wgmmas and one commit: 2-4%
      // faster than a fence and commit a k-step with 128- and 192-row activation tiles, the
      // same or better elsewhere (docs/kernels/h200/wg-pair-staged-ea4a40b.txt), but 1-3%
      // slower in the persistent configs (final-16.txt), which keep one a k-step.
      constexpr bool kPair = !C::PERSIST;
      uint32_t a[2][C::WM][4];
      // The wgmmas of k-steps jj0 .. jj1 - 1 of the pair, one group.
      auto issue = [&](int jj0, int jj1) {
        wgmma_fence();
#pragma unroll
        for (int jj = jj0; jj < jj1; ++jj) {
          const int j = 2 * p + jj;
          const uint64_t desc = desc_sw128(xs + (j / 4) * C::PANEL + (j % 4) * 32);
#pragma unroll
          for (int mi = 0; mi < C::WM; ++mi)
            wgmma_rs(*reinterpret_cast<float(*)[C::BN / 2]>(&acc[mi][0]), a[jj][mi], desc);
        }
        wgmma_commit();
        wgmma_wait<1>();
        // The previous own chunk's last group has completed: its stage may be refilled.
        if (p == 0 && jj0 == 0 && c >= C::KW && lane == 0)
          mbar_arrive(&empty[(it0 + c - C::KW) % C::STAGES]);
      };
#pragma unroll
      for (int jj = 0; jj < 2; ++jj) {
#pragma unroll
        for (int mi = 0; mi < C::WM; ++mi)
#pragma unroll
          for (int h = 0; h < 2; ++h) {
            const uint32_t* q = &cur.q[mi][h].x;
            if constexpr (C::LAYOUT == 2) {
              a[jj][mi][h] = scale_raw<true>(layout::pair_raw(q[2 * jj], l2_shift), sc[mi][h][jj]);
              a[jj][mi][2 + h] =
                  scale_raw<true>(layout::pair_raw(q[2 * jj + 1], l2_shift), sc[mi][h][jj]);
            } else {
              const uint32_t x = __byte_perm(q[2 * jj], q[2 * jj + 1], sel);
              const uint32_t xw = bitsel(0xFFFFu, x, x >> 4);
              a[jj][mi][h] = decode_pair<0, true>(xw, sc[mi][h][jj]);
              a[jj][mi][2 + h] = decode_pair<2, true>(xw, sc[mi][h][jj]);
            }
          }
        if constexpr (REM)
#pragma unroll
          for (int mi = 0; mi < C::WM; ++mi)
#pragma unroll
            for (int nt = 0; nt < C::RT; ++nt)
              dev::mma_bf16(jj == 0 ? *reinterpret_cast<float(*)[4]>(&acc[mi][C::BN / 2 + 4 * nt])
                                    : racc[mi][nt],
                            a[jj][mi][0], a[jj][mi][1], a[jj][mi][2], a[jj][mi][3], rbc[nt][2 * jj],
                            rbc[nt][2 * jj + 1]);
        if constexpr (!kPair) issue(jj, jj + 1);
      }
      if constexpr (kPair) issue(0, 2);
      cur = nxt;
      if (p == 3) sw = swn;
      if constexpr (REM)
#pragma unroll
        for (int nt = 0; nt < C::RT; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) rbc[nt][e] = rbn[nt][e];
    }
  }
  if constexpr (REM)
#pragma unroll
    for (int mi = 0; mi < C::WM; ++mi)
#pragma unroll
      for (int nt = 0; nt < C::RT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[mi][C::BN / 2 + 4 * nt + e] += racc[mi][nt][e];
  wgmma_wait<0>();
#pragma unroll
  for (int mi = 0; mi < C::WM; ++mi) pin(acc[mi]);
}

// consume with or without the tile's remainder rows.
template <class C>
__device__ __forceinline__ void consume_tile(float (&acc)[C::WM][C::AN], const uint8_t* smem,
                                             uint64_t* full, uint64_t* empty, const WOffsets<C>& wo,
                                             uint32_t sel, const layout::PairShift& l2_shift,
                                             uint32_t mx_bias, int kg, int n, int it0, int lane,
                                             bool rem) {
  if constexpr (C::RT > 0)
    if (rem)
      return consume<C, true>(acc, smem, full, empty, wo, sel, l2_shift, mx_bias, kg, n, it0, lane);
  consume<C, false>(acc, smem, full, empty, wo, sel, l2_shift, mx_bias, kg, n, it0, lane);
}

// Every config: warpgroup 0 produces, warpgroups 1..NC consume. Consumer warpgroup cwg sits
// at position cw along the weight rows and in K group kg (the block's chunks kg, kg + KW, ...);
// KW = 1 for all but config 7. SPLIT > 1: the cluster's CTA `rank` takes the row's chunks
// c0 .. c0 + n - 1 (possibly none); local chunk c sits in stage c % STAGES. PERSIST: the CTA's
// segments (for_each_segment), its ring running on from one to the next.
template <class C>
__global__ void __launch_bounds__(C::THREADS, C::MINB)
    w4a16_wgmma_kernel(const __grid_constant__ CUtensorMap xmap,
                       const __grid_constant__ CUtensorMap rmap, int M,
                       const uint8_t* __restrict__ packed, int N, int K, int tiles, int rtiles,
                       int mtiles, uint32_t mx_bias, float inv_g, uint16_t* __restrict__ Y,
                       float* __restrict__ ws, unsigned* __restrict__ counters, bool coop) {
  extern __shared__ uint8_t smem_raw[];
  if (threadIdx.x == 0) {
    WG_TRACE(0, wg_trace::global_ns());
    WG_TRACE(1, clock64());
  }
  uint64_t *full, *empty;
  uint8_t* smem = block_setup<C>(smem_raw, full, empty);
  int rb, mb;
  raster(int(blockIdx.x) / C::S, rtiles, mtiles, rb, mb);
  const int chunks = (K + 127) / 128;
  const int rank = C::S > 1 ? int(blockIdx.x) % C::S : 0;
  const int c0 = rank * chunks / C::S, n = (rank + 1) * chunks / C::S - c0;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, wg = warp >> 2;
  const PWork pw =
      C::PERSIST ? persistent_work(int64_t(rtiles) * mtiles, int(gridDim.x), chunks) : PWork{};
  if (wg == 0) {  // producer: gives its registers to the consumers (40 a thread left)
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n" ::: "memory");
    if (threadIdx.x == 0) {
      asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&xmap)) : "memory");
      if constexpr (C::PERSIST) {
        int it = 0;
        for_each_segment(pw, int(blockIdx.x), [&](int tile, int sc0, int sn, int) {
          int srb, smb;
          raster(tile, rtiles, mtiles, srb, smb);
          produce<C>(xmap, rmap, packed, smem, full, empty, N, tiles, chunks, sc0, sn, srb, smb, it,
                     box_rows(M, C::BN), tile_rem<C>(smb, mtiles, M), mtiles * C::BN);
          it += sn;
        });
      } else {
        produce<C>(xmap, rmap, packed, smem, full, empty, N, tiles, chunks, c0, n, rb, mb, 0,
                   box_rows(M, C::BN), tile_rem<C>(mb, mtiles, M), mtiles * C::BN);
      }
    }
    if constexpr (C::SPLIT > 1) cluster_sync(), cluster_sync();  // see split_store
    return;
  }
  // ------------------------------------------------------------- consumers --
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(C::CREGS) : "memory");
  const int cwg = wg - 1;
  const int cw = C::KW == 1 ? cwg : cwg % C::CWG, kg = C::KW == 1 ? 0 : cwg / C::CWG;
  const int ww = warp & 3, g = lane >> 2, t = lane & 3;
  const uint32_t sel = 0x4040u + 0x1111u * uint32_t(t);  // bytes [t, 4 + t, t, 4 + t]
  // Layout 2 (w4_layout.hpp): the lane takes pair t of its quad-mate's words, its shift in
  // registers.
  const layout::PairShift l2_shift = layout::pair_shift(t);
  // Tile (cw * WM + mi) * 8 + 2 ww + h holds row g of the lane (WOffsets).
  const WOffsets<C> wo(tiles, cw, ww, g);
  float acc[C::WM][C::AN];
  if constexpr (C::PERSIST) {
    int it = 0;
    for_each_segment(pw, int(blockIdx.x), [&](int tile, int, int sn, int piece) {
      int srb, smb;
      raster(tile, rtiles, mtiles, srb, smb);
      consume_tile<C>(acc, smem, full, empty, wo, sel, l2_shift, mx_bias, 0, sn, it, lane,
                      tile_rem<C>(smb, mtiles, M));
      if (lane == 0) mbar_arrive(&empty[(it + sn - 1) % C::STAGES]);  // the segment's last stage
      it += sn;
      // The cut segment is the CTA's last.
      if (piece < 0 || add_pieces<C>(acc, ws, counters, smem, tile - pw.dp, pw.split, piece))
        store_tile<C>(acc, srb, smb, cw, ww, g, t, tile_mlim<C>(smb, mtiles, M), N, inv_g, Y);
    });
    return;
  }
  consume_tile<C>(acc, smem, full, empty, wo, sel, l2_shift, mx_bias, kg, n, 0, lane,
                  tile_rem<C>(mb, mtiles, M));
  const int mlim = tile_mlim<C>(mb, mtiles, M);  // the rows this tile stores
  if (threadIdx.x == 128) WG_TRACE(3, clock64());
  if constexpr (C::KW > 1) {
    // K groups 1..KW-1 hand their partial sums to group 0 through the stage memory: every
    // chunk has been waited for and every wgmma has completed once all consumers pass the
    // first barrier, so no stage is read or written any more.
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    named_sync<128 * C::NC>();
    float* red = reinterpret_cast<float*>(smem);
    const int tid = threadIdx.x & 127;
    if (kg > 0) stash_acc<C>(red + ((kg - 1) * C::CWG + cw) * (C::ACC * 128) + tid, acc);
    named_sync<128 * C::NC>();
    if (kg > 0) return;
#pragma unroll 1
    for (int k = 1; k < C::KW; ++k)
      add_stashed_acc<C>(acc, red + ((k - 1) * C::CWG + cw) * (C::ACC * 128) + tid);
  }
  // Through shared memory where Y's rows allow 16-byte stores (see store_tile_staged).
  const bool staged = stage_ok(N, Y);
  constexpr bool kPush = C::SPLIT == 2 && C::CWG == 2 && C::WM == 1;  // split_store_push's case
  if constexpr (kPush) {
    if (staged)
      split_store_push<C>(acc, smem, rank, rb, mb, mlim, N, inv_g, Y);
    else
      split_store<C>(acc, smem, rank, rb, mb, mlim, N, inv_g, Y);
  } else if constexpr (C::SPLIT > 1) {
    split_store<C>(acc, smem, rank, rb, mb, mlim, N, inv_g, Y);
  } else if constexpr (C::SPLITG > 1) {
    split_store_global<C>(acc, ws, counters, smem, rank, rb, mb, mlim, N, inv_g, Y, coop);
  } else if constexpr (C::KW == 1) {
    if (staged)
      store_tile_staged<C>(acc, smem, rb, mb, cw, ww, lane, mlim, N, inv_g, Y);
    else
      store_tile<C>(acc, rb, mb, cw, ww, g, t, mlim, N, inv_g, Y);
  } else {
    store_tile<C>(acc, rb, mb, cw, ww, g, t, mlim, N, inv_g, Y);
  }
  if (threadIdx.x == 128) {
    WG_TRACE(5, clock64());
    WG_TRACE(6, wg_trace::global_ns());
  }
}

// X [M, K] BF16 as boxes of 64 k x BN rows, 128-byte swizzle, out-of-range elements read as 0.
CUtensorMap x_map(const uint16_t* X, int64_t M, int64_t K, int BN) {
  const cuuint64_t dim[2] = {cuuint64_t(K), cuuint64_t(M)}, stride[1] = {cuuint64_t(K) * 2};
  const cuuint32_t box[2] = {64, cuuint32_t(BN)};
  return bf16_tensor_map(X, 2, dim, stride, box, "W4A16 wgmma kernel");
}

template <class C>
void launch_tma(const uint16_t* X, int64_t M, const TcWeight& w, uint16_t* Y, cudaStream_t st) {
  constexpr auto kernel = w4a16_wgmma_kernel<C>;
  use_dynamic_smem<kernel>(int(C::SMEM));
  // With RT remainder n-tiles, the last tile takes up to 8 RT rows past its BN (RemTile).
  const int64_t rtiles = (w.N + C::WN - 1) / C::WN,
                mtiles = std::max<int64_t>(1, (M - 8 * C::RT + C::BN - 1) / C::BN);
  if (rtiles * mtiles * C::S > int64_t(0x7FFFFFFF))
    throw Error("W4A16 wgmma kernel: M x N too large for one launch");
  const CUtensorMap map = x_map(X, M, w.K, box_rows(int(M), C::BN));
  const CUtensorMap rmap = C::RT > 0 ? x_map(X, M, w.K, 8 * C::RT) : map;
  // The folded decode's factor (folded_scale_pairs), undone on the FP32 sums; never a checking
  // fold here (w4a16_wgmma_supports refuses it).
  const Fold fold = fold_of(w);
  const int64_t tiles_n = rtiles * mtiles;
  float* ws = nullptr;
  unsigned* counters = nullptr;
  bool coop = false;
  // The CTAs the GPU holds at once (a cooperative grid may not exceed it).
  auto resident = [] {
    static const int64_t r = [] {
      int per_sm = 0;
      MRGPTQ_CUDA_CHECK(
          cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, C::THREADS, C::SMEM));
      return int64_t(per_sm) * sm_count();
    }();
    return r;
  };
  int64_t grid = tiles_n * C::S;
  if constexpr (C::PERSIST) {
    // One CTA a slot the GPU holds (no CTA waits for another: add_pieces); the workspace
    // and the tail tiles' counters only where tiles are cut.
    grid = resident();
    const PWork pw = persistent_work(tiles_n, int(grid), int((w.K + 127) / 128));
    if (pw.split > 1) {
      MRGPTQ_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&ws),
                                        size_t(grid) * C::CWG * C::ACC * 128 * sizeof(float), st));
      MRGPTQ_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&counters),
                                        size_t(pw.tail) * sizeof(unsigned), st));
      MRGPTQ_CUDA_CHECK(cudaMemsetAsync(counters, 0, size_t(pw.tail) * sizeof(unsigned), st));
    }
  }
  if constexpr (C::SPLITG > 1) {
    // The partial sums and the tiles' counters, allocated in stream order from the device's
    // memory pool (no synchronisation; concurrent calls on other streams get their own).
    const size_t ws_bytes = size_t(tiles_n) * C::SPLITG * C::CWG * C::ACC * 128 * sizeof(float);
    MRGPTQ_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&ws), ws_bytes, st));
    MRGPTQ_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&counters),
                                      size_t(tiles_n) * sizeof(unsigned), st));
    MRGPTQ_CUDA_CHECK(cudaMemsetAsync(counters, 0, size_t(tiles_n) * sizeof(unsigned), st));
    // Cooperative where the grid fits on the GPU at once (the CTAs then wait for each other:
    // split_store_global); as a plain launch otherwise.
    coop = tiles_n * C::SPLITG <= resident();
  }
  // One launch for every config: K shares of a tile are consecutive CTAs (rank = blockIdx.x %
  // S), in a cluster for SPLIT > 1, cooperative where split_store_global waits.
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(unsigned(grid));
  cfg.blockDim = dim3(C::THREADS);
  cfg.dynamicSmemBytes = C::SMEM;
  cfg.stream = st;
  cudaLaunchAttribute attr[1];
  if constexpr (C::SPLIT > 1) {
    attr[0].id = cudaLaunchAttributeClusterDimension;
    attr[0].val.clusterDim.x = C::SPLIT, attr[0].val.clusterDim.y = 1, attr[0].val.clusterDim.z = 1;
    cfg.attrs = attr, cfg.numAttrs = 1;
  } else if (coop) {
    attr[0].id = cudaLaunchAttributeCooperative;
    attr[0].val.cooperative = 1;
    cfg.attrs = attr, cfg.numAttrs = 1;
  }
  MRGPTQ_CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel, map, rmap, int(M), w.packed, int(w.N),
                                       int(w.K), w.tiles, int(rtiles), int(mtiles), fold.mx_bias,
                                       fold.inv_g, Y, ws, counters, coop));
  MRGPTQ_CUDA_LAUNCH_CHECK();
#ifdef MRGPTQ_WG_TRACE
  wg_trace::dump(grid, st, C::BN, C::S, C::PERSIST);
#endif
  if (ws) {
    MRGPTQ_CUDA_CHECK(cudaFreeAsync(counters, st));
    MRGPTQ_CUDA_CHECK(cudaFreeAsync(ws, st));
  }
}

template <int RT, int WM, int BN, int CWG, int STAGES, int KW = 1, int MINB = 0, int SPLIT = 1,
          int SPLITG = 1, bool PERSIST = false>
void launch_tma_f(const uint16_t* X, int64_t M, const TcWeight& w, uint16_t* Y, cudaStream_t st) {
  with_format_layout(w, [&](auto nv, auto l) {
    launch_tma<TCfg<WM, BN, CWG, STAGES, decltype(nv)::value, KW, MINB, SPLIT, decltype(l)::value,
                    SPLITG, PERSIST, RT>>(X, M, w, Y, st);
  });
}

// Config `config` (3..22); false if there is no such config.
bool launch_config(int config, const uint16_t* X, int64_t M, const TcWeight& w, uint16_t* Y,
                   cudaStream_t st) {
  switch (config) {
    case 3:
      return launch_tma_f<0, 1, 64, 1, 4>(X, M, w, Y, st), true;
    case 4:
      return launch_tma_f<0, 2, 64, 1, 4>(X, M, w, Y, st), true;
    case 5:
      return launch_tma_f<0, 2, 128, 2, 4>(X, M, w, Y, st), true;
    case 6:  // 128 x 256, one m64n256 wgmma a k-step and warpgroup
      return launch_tma_f<0, 1, 256, 2, 3>(X, M, w, Y, st), true;
    case 7:  // 64 x 128, two K groups, 4 stages
      return launch_tma_f<0, 1, 128, 1, 4, 2, 1>(X, M, w, Y, st), true;
    case 8:  // config 6's tile, K split over a cluster of 2 CTAs
      return launch_tma_f<0, 1, 256, 2, 3, 1, 0, 2>(X, M, w, Y, st), true;
    case 9:  // config 6's tile, K split over 4 CTAs through global memory
      return launch_tma_f<0, 1, 256, 2, 3, 1, 0, 1, 4>(X, M, w, Y, st), true;
    case 10:  // config 3's tile (64 x 64, two CTAs per SM), K split over a cluster of 2 CTAs
      return launch_tma_f<0, 1, 64, 1, 4, 1, 0, 2>(X, M, w, Y, st), true;
    case 11:  // config 6 with 192 activation rows (one m64n192 a k-step and warpgroup)
      return launch_tma_f<0, 1, 192, 2, 3>(X, M, w, Y, st), true;
    case 12:  // config 8 with 192 activation rows
      return launch_tma_f<0, 1, 192, 2, 3, 1, 0, 2>(X, M, w, Y, st), true;
    case 13:  // config 9 with 192 activation rows
      return launch_tma_f<0, 1, 192, 2, 3, 1, 0, 1, 4>(X, M, w, Y, st), true;
    case 14:  // 128 x 128 (m64n128, 5 stages), K split over a cluster of 2 CTAs
      return launch_tma_f<0, 1, 128, 2, 5, 1, 0, 2>(X, M, w, Y, st), true;
    case 15:  // config 14's tile, K split four ways through global memory
      return launch_tma_f<0, 1, 128, 2, 5, 1, 0, 1, 4>(X, M, w, Y, st), true;
    case 16:  // config 6's tile, persistent, the last wave cut along K (PWork)
      return launch_tma_f<0, 1, 256, 2, 3, 1, 0, 1, 1, true>(X, M, w, Y, st), true;
    case 17:  // config 11's tile, persistent, the last wave cut along K
      return launch_tma_f<0, 1, 192, 2, 3, 1, 0, 1, 1, true>(X, M, w, Y, st), true;
    case 20:  // configs 12, 13, 17 with 160 activation rows (one m64n160 a k-step), 4 stages
      return launch_tma_f<0, 1, 160, 2, 4, 1, 0, 2>(X, M, w, Y, st), true;
    case 21:
      return launch_tma_f<0, 1, 160, 2, 4, 1, 0, 1, 4>(X, M, w, Y, st), true;
    case 22:
      return launch_tma_f<0, 1, 160, 2, 4, 1, 0, 1, 1, true>(X, M, w, Y, st), true;
  }
  return false;
}
// Whether config c has a remainder form (RemTile): kernels.hpp's list names them (106, 108), and
// launch_remainder_config launches them.
constexpr bool has_remainder_form(int c) {
  for (int listed : kW4a16WgmmaConfigs)
    if (listed == c + kW4a16WgmmaRemainder) return true;
  return false;
}
// Config `config` with one remainder n-tile; false for a config without that form.
bool launch_remainder_config(int config, const uint16_t* X, int64_t M, const TcWeight& w,
                             uint16_t* Y, cudaStream_t st) {
  if (config == 6) return launch_tma_f<1, 1, 256, 2, 3>(X, M, w, Y, st), true;
  if (config == 8) return launch_tma_f<1, 1, 256, 2, 3, 1, 0, 2>(X, M, w, Y, st), true;
  return false;
}

}  // namespace

// Measured on the H200 (bench_w4a16_tc --wg; docs/PERFORMANCE.md): config 6 (128 weight x
// 256 activation rows, one m64n256 per k-step and warpgroup) is the fastest from M = 256
// wherever its grid has more than ~half a block per SM, and reaches 760-820 TFLOP/s at M =
// 512-4096 (docs/kernels/h200/bench-w4a16-wgmma-n256.txt; the choices below were made before
// the n256 wgmma and the faster split epilogue, and still pick the fastest config in each case
// measured there). Where a
// tile shape would leave SMs idle, the same tile with K split over a cluster of 2 CTAs wins
// (2ea760c, docs/kernels/h200/bench-w4a16-wgmma-2ea760c.txt):
//  * config 10 (config 3's 64 x 64) when config 3 has at most one tile per SM: 8192x8192
//    M = 64 35.5 us vs 39.2 for config 3, 8192x28672 M = 64 99.8 vs 122.4, 4096x14336 M = 64
//    38.3 vs 63.8 and M = 128 54.5 vs 64.1 (config 7 75.3);
//  * config 8 (config 6's 128 x 256) from M = 256 when config 6 has at most half a tile per
//    SM: 8192x8192 M = 256 62.5 vs 90.8 (config 7 87.7), 8192x28672 M = 256 179.7 vs 294.3,
//    4096x14336 M = 512 97.3 vs 150.6; with more tiles config 6 wins (8192x8192 M = 512: 94.7
//    vs 119.7);
//  * config 9 (config 6's tile, K split four ways through a global workspace) for M > 128 where
//    four CTAs per tile still fit one wave: 4096x14336 M = 256 55.8 us vs 73.1 for config 7 and
//    83.4 for config 8 (docs/kernels/h200/bench-w4a16-wgmma-config9.txt), 51.7 since each CTA
//    finishes a quarter of the tile (bench-w4a16-wgmma-config9-quarters.txt); at M = 128 config
//    10 stays faster (50.2 vs 64.1);
//  * config 7 (64 x 128, two K groups) for 64 < M <= 128 where 64 x 64 tiles would need a
//    second wave but 64 x 128 fit one (8192x8192 M = 128: 47.1 vs 57.4 for config 3; at M =
//    129-256 the weights it fitted are config 9's: 4096x14336 M = 256 75.7 vs 51.7);
//  * configs 11, 12, 13: configs 6, 8, 9 with 192 activation rows (one m64n192 a k-step), by
//    the same rules, where 192-row tiles pad M at least 1/8 less than 256-row ones (M = 129-192,
//    257-384, 513-576, ...): 1.1-1.6x faster than the 256-row config there (docs/kernels/h200/
//    bench-w4a16-wgmma-n192.txt, us: 8192x8192 M = 160 67.9 -> 48.8, M = 384 86.8 -> 78.2;
//    28672x8192 M = 160 233.5 -> 154.4, M = 320 387.4 -> 308.3; 8192x28672 M = 320 377.2 ->
//    252.6; 4096x14336 M = 160 59.0 -> 44.7, M = 384 94.2 -> 77.2);
//  * config 8 (12) also where config 6's (11's) last wave of tiles is partial enough that the
//    split fills the waves much better (grid fill below 0.8, at least 0.15 better split):
//    8192x8192 M = 576 (192 tiles) 152.1 -> 136.0 us, 8192x28672 M = 576 555.5 -> 457.9, while
//    28672x8192 M = 576 (672 tiles, fill 0.85) keeps config 11 (483.8 vs 538.6) and M = 512
//    config 6 (359.4 vs 376.1) (bench-w4a16-wgmma-n192-auto.txt, bench-w4a16-wgmma-n192.txt;
//    with the rule: bench-w4a16-wgmma-fill-rule.txt);
//  * config 6 or 8 (as from M = 256) for the other M > 128, and config 5 for M = 65..128
//    where its 256 x 128 tiles cover ~0.8 of the GPU: until 14aeccd these M took the largest
//    64- or 128-row tile instead, at up to 1.8x the time (docs/kernels/h200/
//    bench-w4a16-wgmma-sweep-14aeccd.txt, us, old choice -> new: 8192x8192 M = 160 88.2 -> 66.9,
//    M = 192 88.2 -> 55.1; 8192x28672 M = 160 289.6 -> 182.6, M = 224 290.0 -> 159.5;
//    28672x8192 M = 96 171.4 -> 121.5, M = 192 240.4 -> 169.8);
//  * below, the largest of the 3/4/5 tiles whose grid covers ~0.8 of the GPU (28672x8192
//    M = 64: config 4 96.4 us, 3 110.1; M = 128: config 5 125.7, 3 189.8);
//  * for 64 < M <= 128, ahead of the rules above, config 14 (128 x 128 tiles, K split over a
//    cluster of 2 CTAs) where its clusters fill 4/5 of the GPU in one wave (weights of ~6800-8400
//    rows on 132 SMs; it replaced config 7 there: 8192x8192 M = 65 / 96 / 128 72.4 / 50.4 / 43.5
//    -> 44.2 / 40.3 / 40.8 us, 8192x28672 234.2 / 168.7 / 134.8 -> 126.2 / 117.7 / 117.9; the
//    same tile unsplit, and both at M >= 192, lost to the configs in use), else config 15 (the
//    same tile split four ways through global memory) where its four CTAs a tile do (~3400-4200
//    rows: 4096x14336 at M = 65 / 96 / 128 36.7 / 36.7 / 36.8 us, config 13's 128 x 192 tile
//    split the same way 50.4 / 48.6 / 43.1, config 10 before it 59.7 / 49.2 / 48.2; on the
//    wider weights config 15 lost to 14 and 5). Two rounds each, docs/kernels/h200/
//    bench-w4a16-wgmma-128x128.txt, final-14.txt and bench-w4a16-wgmma-c15.txt;
//  * configs 16 / 17 (6 / 11 persistent, the last wave cut along K). Timed in turn with the
//    config they replace, call for call (bench_w4a16_tc --wg --ab; docs/kernels/h200/
//    bench-w4a16-wgmma-ab-persistent.txt, two rounds): config 17 was 1-3.5% faster than 11 even
//    with the same whole tiles a CTA (8192x8192 and 8192x28672 at M = 320 / 384) and 7-23% where
//    it cuts a last wave (28672x8192 M = 320 / 384 / 576: 289.4 / 318.2 / 483.6 -> 269.8 / 288.0
//    / 429.2 us; 8192x28672 M = 576 516 -> 395), and beat config 12's cluster split where the
//    fill rule chose it (8192x8192 M = 576 133.5 -> 122.0, 8192x28672 M = 576 446 -> 395); it
//    takes every 192-row case but grids of at most half a wave (there 12 won on 8192x8192 M =
//    192, 47.3 vs 49.3, and lost on 4096x14336 M = 320 by 3%: mixed, kept). Config 16 cost
//    0.4-1.7% against 6 with nothing to cut, and won 2-8% where it cuts (28672x8192 M = 512 365.2
//    -> 338.5, M = 4096 2856 -> 2791): it replaces 6 where the last wave is at most half full. (An
//    earlier comparison, every config timed one after another, put the persistent form 1-8% behind:
//    that was the GPU's clocks falling as it heated, which charged the later columns.)
//  * configs 20 / 21 / 22 (12 / 13 / 17 with 160 activation rows) where 160-row tiles are as
//    many as 192-row ones (M = 129-160, 257-320): the same tiles with a sixth less padding,
//    7-10% faster on all four shapes, call for call (docs/kernels/h200/bench-w4a16-wgmma-n160.txt,
//    us: 8192x8192 M = 160 48.0 -> 44.3, M = 320 76.6 -> 70.8; 28672x8192 147.1 -> 134.9, 278.2
//    -> 248.7; 8192x28672 140.0 -> 126.6, 258.6 -> 241.4; 4096x14336 43.1 -> 39.4, 74.8 -> 68.5).
namespace {
// Above kModelMinM, where the rules below had only the issue's grid points to go by, the config
// comes from a cost model. The "never slower" sweep (bench_w4a16_tc --dispatch) found the rules
// up to a third slower than the fastest config between those points: 4096x14336 M = 1088 config
// 8 267.8 us against config 17's 201.2, 8192x8192 M = 640 config 8 163.6 against config 22's
// 139.6 (docs/kernels/h200/s26-run2-*.txt, s26-run3-*.txt). The candidates are the one-CTA-an-SM
// forms of the 128-row weight tile; a candidate's time is the activation rows its busiest SM
// works through (busiest_sm_rows: whole waves of tiles, of half tiles for the cluster split, the
// persistent form's whole tiles plus its piece of a cut last-wave tile) times K times a rate per
// config. The rates were fitted to all eight candidates timed call for call at 23 M from 384 to
// 4096 on the four layer shapes (s26-run3-wg-ab.txt): on those 76 cases above 576 the pick was
// within 3% of the fastest candidate and 2.5% faster than the rules on average (geometric
// mean); held out a shape at a time, the picks stayed within 1% of the fastest on average. At 13
// M that no fit had seen (s26-run4-wg-ab.txt, 52 cases) it was 2.6% faster than the rules
// (0.785-1.016 of their time) and 0.4% behind the fastest candidate on average.
// scripts/fit-config-model.py makes the rates and these figures from those two files.
// Smaller row tiles cost more a row (the weight is decoded for fewer rows), the split forms more
// than the plain ones (their partial sums), and the persistent form pays that only where it cuts.
constexpr int64_t kModelMinM = 576;
enum class TileForm { kPlain, kCluster2, kPersistent };
struct TileCost {
  int config, rows;
  TileForm form;
  double rate;  // us per activation row x 1e6 K on the busiest SM (H200)
};
constexpr TileCost kTileCosts[] = {
    {6, 256, TileForm::kPlain, 42.29},       {11, 192, TileForm::kPlain, 47.19},
    {16, 256, TileForm::kPersistent, 45.36}, {17, 192, TileForm::kPersistent, 50.05},
    {22, 160, TileForm::kPersistent, 54.30}, {8, 256, TileForm::kCluster2, 49.62},
    {12, 192, TileForm::kCluster2, 55.99},   {20, 160, TileForm::kCluster2, 60.20}};

double busiest_sm_rows(const TileCost& c, int64_t M, int64_t N, int64_t K, int64_t sms) {
  const int64_t tiles = (N + 127) / 128 * ((M + c.rows - 1) / c.rows);
  switch (c.form) {
    case TileForm::kPlain:
      return double((tiles + sms - 1) / sms * c.rows);
    case TileForm::kCluster2:
      return double((2 * tiles + sms - 1) / sms) * c.rows / 2;
    case TileForm::kPersistent:
    default: {  // one CTA an SM (launch_tma's resident() for these configs' shared memory)
      const PWork w = persistent_work(tiles, int(sms), int((K + 127) / 128));
      return c.rows * (double(w.dp) / double(sms) + 1.0 / w.split);
    }
  }
}

int modelled_config(int64_t M, int64_t N, int64_t K, int64_t sms) {
  int best = 6;
  double best_cost = 1e300;
  for (const TileCost& c : kTileCosts) {
    const double cost = c.rate * busiest_sm_rows(c, M, N, K, sms) * double(K);
    if (cost < best_cost) best = c.config, best_cost = cost;
  }
  return best;
}

// The config by the measured rules and the cost model (whole activation tiles).
int tile_config_for(int64_t M, int64_t N, int64_t K) {
  const int64_t sms = sm_count(), want = sms * 4 / 5, r64 = (N + 63) / 64;
  const int64_t tiles3 = r64 * ((M + 63) / 64), r128 = (N + 127) / 128;
  if (M > 64 && M <= 128) {
    // One wave of 128 x 128 tiles split over clusters of 2 CTAs, else split four ways through
    // global memory, where either fills 4/5 of the GPU.
    if (r128 * 2 >= want && r128 * 2 <= sms) return 14;
    if (r128 * 4 >= want && r128 * 4 <= sms) return 15;
  }
  if (tiles3 <= sms) return 10;
  if (M > kModelMinM && r128 * ((M + 255) / 256) > sms / 2) return modelled_config(M, N, K, sms);
  if (M > 128) {  // 128-row weight tiles, 256 or 192 activation rows, K split where tiles are few
    const int64_t p192 = (M + 191) / 192 * 192, p256 = (M + 255) / 256 * 256;
    const bool n192 = 8 * p192 <= 7 * p256;  // 192-row tiles pad M at least 1/8 less
    const int64_t tiles = r128 * (n192 ? p192 / 192 : p256 / 256);
    if (n192) {
      // K split four ways where four CTAs a tile fit one wave, over a cluster of 2 where the
      // tiles leave half the SMs idle, else the persistent form; with 160 activation rows where
      // those tiles are as many (M = 129-160, 257-320).
      constexpr int k192[3] = {13, 12, 17}, k160[3] = {21, 20, 22};
      const int k = tiles * 4 <= sms ? 0 : tiles <= sms / 2 ? 1 : 2;
      return ((M + 159) / 160 == (M + 191) / 192 ? k160 : k192)[k];
    }
    if (tiles * 4 <= sms) return 9;
    // The cluster split where the tiles leave half the SMs idle, or where the last wave of
    // tiles is so partial that halving each tile's work fills the waves much better; else the
    // persistent form where its last wave's tiles are cut (PWork).
    auto fill = [&](int64_t t) { return double(t) / double((t + sms - 1) / sms * sms); };
    if (tiles <= sms / 2 || (fill(tiles) < 0.8 && fill(2 * tiles) >= fill(tiles) + 0.15)) return 8;
    return tiles > sms && last_wave(tiles, sms) <= sms / 2 ? 16 : 6;
  }
  if (M > 64 && r64 * ((M + 127) / 128) <= sms) return 7;
  if (M > 64 && ((N + 255) / 256) * ((M + 127) / 128) >= want) return 5;
  if (r128 * ((M + 63) / 64) >= want) return 4;
  return 3;
}

}  // namespace

// Just past a multiple of 256 rows (M = 256 k + 1 .. 8) where the rules take configs 6 or 8 for
// M - that many rows, that config with one remainder n-tile (RemTile) instead of the whole
// tiles' choice for M. The remainder's mma.sync cost the last tile ~12% (RemTile), so it pays
// only where it replaces a whole tile more or 160/192-row tiles: MXFP4 0.79-1.00 and NVFP4
// 0.75-0.93 of the whole tiles' time where it is taken (M = 257-264, 513-520, 1025 on the four
// layer shapes; docs/kernels/h200/s31-run3-ab.txt). As the remainder of 128-, 160- and 192-row
// tiles it lost on most shapes (s30-run1-ab.txt; s31-run2-ab.txt: config 112 at M = 193 2-3%
// faster on two shapes, 8-49% slower on two), and it tied or lost on configs 9 and 16
// (docs/PERFORMANCE.md, thirtieth and thirty-first sections).
int w4a16_wgmma_config_for(int64_t M, int64_t N, int64_t K) {
  const int64_t r = (M - 1) % 256 + 1;  // the rows past the last multiple of 256 below M
  if (M > 256 && r <= 8) {
    const int c = tile_config_for(M - r, N, K);
    if (has_remainder_form(c)) return c + kW4a16WgmmaRemainder;
  }
  return tile_config_for(M, N, K);
}

bool w4a16_wgmma_supports(const uint16_t* X, int64_t M, const TcWeight& w) {
  return (w.tiles == 1 || w.tiles == 2 || w.tiles == 4) && (w.layout == 1 || w.layout == 2) &&
         (w.format == Format::NVFP4 || w.mx_fold_shift >= 0) && w.K > 0 && w.K % 32 == 0 &&
         w.K < (int64_t(1) << 30) && w.N > 0 && w.N < (int64_t(1) << 30) && M >= 1 &&
         M < (int64_t(1) << 30) && reinterpret_cast<uintptr_t>(X) % 16 == 0;
}

void w4a16_wgmma(const uint16_t* X, int64_t M, const TcWeight& w, uint16_t* Y, cudaStream_t st,
                 int config) {
  if (!w4a16_wgmma_supports(X, M, w))
    throw Error(
        "W4A16 wgmma kernel: needs a weight made by make_tensor_core_weight (an MXFP4 one with "
        "scales spanning at most 133 binades: mx_fold_shift >= 0), K a positive multiple of 32, "
        "1 <= M < 2^30 and X 16-byte aligned (M = " +
        std::to_string(M) + ", K = " + std::to_string(w.K) +
        ", mx_fold_shift = " + std::to_string(w.mx_fold_shift) + ")");
  if (config < 0) config = w4a16_wgmma_config_for(M, w.N, w.K);
  if (config / kW4a16WgmmaRemainder == 0 && launch_config(config, X, M, w, Y, st)) return;
  if (config / kW4a16WgmmaRemainder == 1 &&
      launch_remainder_config(config % kW4a16WgmmaRemainder, X, M, w, Y, st))
    return;
  throw Error("W4A16 wgmma kernel: config must be -1 (auto), 3..17, 20..22, 106 or 108, not " +
              std::to_string(config));
}

}  // namespace mrgptq::gpu
