// Helpers shared by the W4A16 kernels (w4a16_tc.cu: the streamed mma.sync
// kernels; w4a16_wgmma.cu: the warpgroup kernel): mbarriers, TMA bulk and tensor
// copies (and, on the host, their tensor maps), BF16 pair arithmetic and the
// group scales of the re-laid-out weight.
#pragma once
#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cudaTypedefs.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>

#include "kernels/fp4_device.cuh"
#include "kernels/programmatic.cuh"
#include "kernels/w4_layout.hpp"
#include "mrgptq/kernels.hpp"

namespace mrgptq::gpu::w4 {

// Host: let a kernel take `bytes` of dynamic shared memory, with all of the unified L1/shared
// array as shared memory, so that the blocks per SM it was sized for fit. The attributes are set
// again only when a launch asks for more than any before (w4a16_stream's programmatic two-CTA
// form), so that every other launch keeps the limit it always had.
template <auto kernel>
void use_dynamic_smem(int bytes) {
  static std::atomic<int> limit{0};
  if (bytes <= limit.load(std::memory_order_acquire)) return;
  static std::mutex m;
  const std::lock_guard<std::mutex> lock(m);
  if (bytes <= limit.load(std::memory_order_relaxed)) return;
  MRGPTQ_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
  MRGPTQ_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, 100));
  limit.store(bytes, std::memory_order_release);
}

// Host: call fn(nv, layout) with the re-laid-out weight's format (std::bool_constant, true for
// NVFP4) and layout (std::integral_constant<int, 1 or 2>) as compile-time constants, so that
// every kernel launch picks its instantiation the same way.
template <class Fn>
void with_format_layout(const TcWeight& w, Fn fn) {
  const bool nv = w.format == Format::NVFP4;
  using L1 = std::integral_constant<int, 1>;
  using L2 = std::integral_constant<int, 2>;
  if (nv) return w.layout == 2 ? fn(std::true_type{}, L2{}) : fn(std::true_type{}, L1{});
  return w.layout == 2 ? fn(std::false_type{}, L2{}) : fn(std::false_type{}, L1{});
}

// Host: the SM count of device 0, which every launch-shape choice reads (the streamed and the
// warpgroup kernel's), queried once.
inline int sm_count() {
  static const int sms = [] {
    int n = 132;
    MRGPTQ_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, 0));
    return n;
  }();
  return sms;
}

// Host: a tensor map of a BF16 tensor (dims, strides in bytes, box: innermost first) with
// 128-byte swizzle, out-of-range elements read as zeros. cuTensorMapEncodeTiled comes from the
// driver (no link against libcuda).
inline CUtensorMap bf16_tensor_map(const uint16_t* base, cuuint32_t rank, const cuuint64_t* dim,
                                   const cuuint64_t* stride, const cuuint32_t* box,
                                   const char* who) {
  static const PFN_cuTensorMapEncodeTiled_v12000 encode = [] {
    void* f = nullptr;
    cudaDriverEntryPointQueryResult q{};
    MRGPTQ_CUDA_CHECK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &f, 12000,
                                                       cudaEnableDefault, &q));
    if (q != cudaDriverEntryPointSuccess || !f)
      throw Error("W4A16 kernels: cuTensorMapEncodeTiled not found in the driver");
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(f);
  }();
  CUtensorMap m;
  const cuuint32_t estride[5] = {1, 1, 1, 1, 1};
  const CUresult r =
      encode(&m, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, rank, const_cast<uint16_t*>(base), dim, stride,
             box, estride, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
             CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    throw Error(std::string(who) + ": cuTensorMapEncodeTiled failed (" + std::to_string(int(r)) +
                ")");
  return m;
}

__device__ __forceinline__ uint32_t su32(const void* p) {
  return uint32_t(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void mbar_init(uint64_t* b, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(su32(b)), "r"(count) : "memory");
}
// Arrive (one count) and expect `bytes` of TMA transactions on the current phase.
__device__ __forceinline__ void mbar_expect_tx(uint64_t* b, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(su32(b)), "r"(bytes)
               : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint64_t* b) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(su32(b)) : "memory");
}
// A warp hands a ring slot back to the producer once it has read the slot into registers. The
// reads are generic-proxy loads and the producer's next bulk copy into the slot an async-proxy
// write: the release arrive alone does not order the two, so each thread fences the proxies
// after its loads. Without the fence a refill now and then landed before a warp's loads had read
// the slot: wrong sums in 35 of 2000 runs of w4a16_stream at M = 100 on 600x6208, in 1105 of
// 2000 with griddepcontrol instructions placed after the first copies, the error explained by
// one chunk read with the weight bytes of the chunk that refilled its slot
// (StreamedKernelStableOverRepeats; docs/kernels/h200/s23-run6.txt).
__device__ __forceinline__ void release_slot_after_reads(uint64_t* empty, int lane) {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  __syncwarp();
  if (lane == 0) mbar_arrive(empty);
}
// The same once the warp's mma instructions have consumed every value it loaded from the slot:
// an mma issues only when its operand registers hold the loaded data, so the reads are complete
// and no refill can reach them; the fence would only add its cost (the X-staged kernel, MXFP4,
// two rounds: 8192x28672 M = 16 45.1-45.5 -> 44.4-44.7 us, 28672x8192 / 8192x8192 M = 16 -0.2;
// docs/kernels/h200/s24-run1.txt). The arrive must follow the mma in program order: both are
// volatile asm, which the compiler keeps in order.
__device__ __forceinline__ void release_slot_after_use(uint64_t* empty, int lane) {
  __syncwarp();
  if (lane == 0) mbar_arrive(empty);
}
__device__ __forceinline__ void mbar_wait(uint64_t* b, uint32_t parity) {
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "WAIT:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1;\n"
      "@!p bra WAIT;\n"
      "}\n" ::"r"(su32(b)),
      "r"(parity)
      : "memory");
}
// Named barrier 1 over THREADS threads (a multiple of 32): the consumers' own barrier where a
// producer warp (or warpgroup) does not take part -- it waits elsewhere or has exited.
template <int THREADS>
__device__ void named_sync() {
  asm volatile("bar.sync 1, %0;" ::"n"(THREADS) : "memory");
}
// A TMA ring's barriers, by one thread: full[s] completes when stage s's bytes have landed (one
// arrival, the producer's expect_tx), empty[s] when `consumers` arrivals say it was taken; the
// fence makes the initialisation visible to the TMA unit. A block (or cluster) barrier must
// follow before anyone waits on them.
__device__ __forceinline__ void ring_init(uint64_t* full, uint64_t* empty, int stages,
                                          uint32_t consumers) {
  for (int s = 0; s < stages; ++s) mbar_init(&full[s], 1), mbar_init(&empty[s], consumers);
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}
// The L2 policy of streamed bytes (bulk_load's cache hint): evict first for bytes read once, so
// that the weight does not push the activations out of L2; evict normal where other CTAs read the
// same bytes again.
__device__ __forceinline__ uint64_t l2_policy(bool evict_first) {
  uint64_t policy;
  if (evict_first)
    asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
  else
    asm volatile("createpolicy.fractional.L2::evict_normal.b64 %0, 1.0;" : "=l"(policy));
  return policy;
}
// Dynamic shared memory rounded up to the next 1024-byte address: the atom of the 128-byte
// swizzle, which tensor-map boxes and wgmma descriptors assume (the launch asks 1 KB more).
__device__ __forceinline__ uint8_t* align_1024(uint8_t* smem_raw) {
  const uint32_t raw = su32(smem_raw);
  return smem_raw + (((raw + 1023) & ~1023u) - raw);
}
__device__ __forceinline__ void bulk_load(void* dst, const void* src, uint32_t bytes, uint64_t* bar,
                                          uint64_t policy) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.L2::cache_hint [%0], "
      "[%1], %2, [%3], %4;" ::"r"(su32(dst)),
      "l"(src), "r"(bytes), "r"(su32(bar)), "l"(policy)
      : "memory");
}

// A box of a tensor map into shared memory, completing on `bar` (see bulk_load).
__device__ __forceinline__ void tma_2d(void* dst, const CUtensorMap* map, int x, int y,
                                       uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, "
      "%3}], [%4];" ::"r"(su32(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(x), "r"(y), "r"(su32(bar))
      : "memory");
}
__device__ __forceinline__ void tma_3d(void* dst, const CUtensorMap* map, int x, int y, int z,
                                       uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, "
      "%3, %4}], [%5];" ::"r"(su32(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(x), "r"(y), "r"(z), "r"(su32(bar))
      : "memory");
}

__device__ __forceinline__ uint32_t bf16x2_mul(uint32_t a, uint32_t b) {
  __nv_bfloat162 r =
      __hmul2(*reinterpret_cast<__nv_bfloat162*>(&a), *reinterpret_cast<__nv_bfloat162*>(&b));
  return *reinterpret_cast<uint32_t*>(&r);
}

__device__ __forceinline__ uint32_t bf16x2_splat(float v) {
  const uint32_t b = __bfloat16_as_ushort(__float2bfloat16_rn(v));
  return b | (b << 16);
}

// Group scale(s) of one lane's 32 weights as BF16 pairs: [0] for k 0..15, [1]
// for 16..31. Built from the bits: the float decoders (ldexpf) cost ~15
// instructions a scale, and these kernels are issue-bound once the bytes flow.
// NVFP4: the two E4M3 scale bytes of s as floats, by E4M3 -> F16 (one cvt for both) -> F32:
// exact, 4-bit significands.
__device__ __forceinline__ float2 e4m3x2_to_float2(uint32_t s) {
  const __half2_raw h = __nv_cvt_fp8x2_to_halfraw2(__nv_fp8x2_storage_t(s), __NV_E4M3);
  return __half22float2(*reinterpret_cast<const __half2*>(&h));
}
template <bool NV>
__device__ __forceinline__ void scale_pairs(uint32_t s, uint32_t (&sc)[2]) {
  if constexpr (NV) {
    const float2 f = e4m3x2_to_float2(s);  // then to BF16, exactly
    sc[0] = bf16x2_splat(f.x);
    sc[1] = bf16x2_splat(f.y);
  } else {
    // E8M0 byte s = 2^(s-127) is the BF16 exponent field; s = 0 is the subnormal 2^-127.
    const uint32_t b = s == 0 ? 0x0040u : s << 7;
    sc[0] = sc[1] = b * 0x10001u;
  }
}

// Table-free decode: nibbles I and I + 4 of a word of 8 E2M1 codes as one BF16
// pair equal to code x 2^-126, exactly: sign to bit 15/31, the two exponent
// bits and the mantissa bit to bits 6-8/22-24, i.e. the low bits of the BF16
// exponent field and the top mantissa bit, so the e = 0 codes land on 0 and
// the subnormal 2^-127 (= 0.5 x 2^-126). Times kTwo126 and the group scale
// (scale_pairs), or once by folded_scale_pairs, both exact.
constexpr uint32_t kTwo126 = 0x7E807E80u;  // BF16 2^126, twice
template <int I>
__device__ __forceinline__ uint32_t fp4x2_raw(uint32_t q) {
  const uint32_t s = I == 3 ? q : q << (12 - 4 * I);
  return (s & 0x80008000u) | ((s >> 6) & 0x01C001C0u);
}

// Group scales with 2^126 folded in, as BF16 pairs ([0] k 0..15, [1] 16..31),
// for the table-free decode (which yields code x 2^-126, see w4a16_wgmma.cu):
// one multiply per weight pair instead of two.
// MXFP4: 2^(s-127) x 2^126 = 2^(s-1), a BF16 normal only for s <= 128 (s = 0
// gives 2^-1). So the kernels make every weight 2^-c too small, c =
// TcWeight::mx_fold_shift = max(0, largest scale - 128), found once at load
// time: the factor 2^(s-1-c) is a normal for every scale of the weight
// (mx_fold_bias(c)), code x 2^(s-127-c) stays exact down to BF16's subnormal
// step 2^-133 (s >= c - 5), and the kernel multiplies its FP32 result by 2^c:
// the same bits unless an FP32 partial sum is subnormal. c = 0 for any weight
// whose values stay below 2 x 6, i.e. every real one, and then nothing changes
// at all. Where no c is exact (-1: scales spanning more than 133 binades), the
// streamed kernels check each chunk warp-uniformly and keep the two-multiply
// path for chunks with a byte above 128 (mx_bias = kMxFoldBias); the warpgroup
// kernel refuses such a weight.
// NVFP4: e4m3 x 2^126 overflows BF16 from 4 up, so the weights are
// made 2^-9 too small instead: e4m3 x 2^117 <= 448 x 2^117 < 2^126 is exact (4
// significant bits), every code x e4m3 x 2^-9 is a multiple of 2^-19 and so
// an exact BF16 normal, and the kernel multiplies its FP32 result by kNvFold / G
// instead of 1 / G: the same bits unless an FP32 partial sum is subnormal.
constexpr float kNvFold = 512.f;
constexpr uint32_t kMxFoldBias = 0x3F003F00u;  // 126 << 7 in both halves
__host__ __device__ constexpr uint32_t mx_fold_bias(int c) {
  return uint32_t(126 - c) * 0x00800080u;
}
// Host: a weight's fold for the table-free decodes -- whether an MXFP4 weight's chunks must each
// check their scales (mx_fold_shift -1: no exact shift), the factor's bias (folded_scale_pairs'
// mx_bias), and the multiplier of the FP32 sums (NVFP4 2^9 / G, MXFP4 2^c).
struct Fold {
  bool check;
  uint32_t mx_bias;
  float inv_g;
};
inline Fold fold_of(const TcWeight& w) {
  if (w.format == Format::NVFP4) return {false, kMxFoldBias, kNvFold * (1.f / w.global_scale)};
  if (w.mx_fold_shift < 0) return {true, kMxFoldBias, 1.f};
  return {false, mx_fold_bias(w.mx_fold_shift), std::ldexp(1.f, w.mx_fold_shift)};
}
template <bool NV>
__device__ __forceinline__ void folded_scale_pairs(uint32_t s, uint32_t (&sc)[2],
                                                   uint32_t mx_bias) {
  if constexpr (NV) {
    const float2 f = e4m3x2_to_float2(s);
    sc[0] = bf16x2_splat(f.x * 0x1p117f);
    sc[1] = bf16x2_splat(f.y * 0x1p117f);
  } else {
    sc[0] = sc[1] = s * 0x00800080u + mx_bias;  // ((s + 126 - c) << 7) in both halves
  }
}

// The table-free decode's two forms, shared by the streamed and the warpgroup kernel:
// FOLD: the group scale pairs of folded_scale_pairs, one multiply; else scale_pairs' and the
// exact two-step raw x 2^126 x scale.
template <bool NV, bool FOLD>
__device__ __forceinline__ void raw_scale_pairs(uint32_t s, uint32_t (&sc)[2], uint32_t mx_bias) {
  if constexpr (FOLD)
    folded_scale_pairs<NV>(s, sc, mx_bias);
  else
    scale_pairs<NV>(s, sc);
}
// A raw pair (code x 2^-126, from fp4x2_raw or layout::pair_raw) times the group scale sc (from
// raw_scale_pairs<FOLD>): the exact weights.
template <bool FOLD>
__device__ __forceinline__ uint32_t scale_raw(uint32_t raw, uint32_t sc) {
  return FOLD ? bf16x2_mul(raw, sc) : bf16x2_mul(bf16x2_mul(raw, kTwo126), sc);
}
// Nibbles I and I + 4 of q (layout 1) as a BF16 pair times the group scale sc.
template <int I, bool FOLD>
__device__ __forceinline__ uint32_t decode_pair(uint32_t q, uint32_t sc) {
  return scale_raw<FOLD>(fp4x2_raw<I>(q), sc);
}

// The weight expansions (dequantize_to_bf16 of both layouts: gemm.cu, w4a16_tc.cu) decode a
// piece of 8 codes as four raw pairs of consecutive elements (codes 2P, 2P + 1) and make its 16
// output bytes here. LAYOUT 1 (plain nibbles, element i in nibble i, as the row-major weight has
// them too): nibbles 2P and 2P + 1 moved to nibbles 0 and 4, then fp4x2_raw<0>; layout 2:
// layout::pair_raw<P>.
template <int LAYOUT>
__device__ __forceinline__ void piece_raw(uint32_t q, uint32_t (&raw)[4]) {
#pragma unroll
  for (int p = 0; p < 4; ++p) {
    if constexpr (LAYOUT == 2) {
      const layout::PairShift sh = layout::pair_shift(p);
      raw[p] = layout::pair_raw(q, sh);
    } else {
      const uint32_t y = (q >> (8 * p)) & 0xFFu;
      raw[p] = fp4x2_raw<0>((y & 0xFu) | ((y & 0xF0u) << 12));
    }
  }
}
// NVFP4's multiplier e4m3(b) / G for every scale byte b, in a block's shared table of 256 (one
// division a thread of a 256-thread block, instead of a decode and a division a piece).
__device__ __forceinline__ void nv_multiplier_table(float (&table)[256], float g) {
  table[threadIdx.x] = __fdiv_rn(dev::e4m3_decode(threadIdx.x), g);
  __syncthreads();
}
// MXFP4: raw x 2^126 x 2^(s-127), both products exact in BF16 as in the W4A16 kernels, so the
// result is the CPU's E2M1 x 2^(s-127) rounded once to BF16 (overflow included), bit for bit.
__device__ __forceinline__ uint4 expand_piece_mx(const uint32_t (&raw)[4], uint32_t s) {
  uint32_t sc[2];
  scale_pairs<false>(s, sc);
  return make_uint4(scale_raw<false>(raw[0], sc[0]), scale_raw<false>(raw[1], sc[0]),
                    scale_raw<false>(raw[2], sc[0]), scale_raw<false>(raw[3], sc[0]));
}
// NVFP4: the codes' values (raw x 2^126, exact), times m = e4m3(s) / G in float, rounded once to
// BF16: the CPU's dequantization (G is not a power of two, so no BF16 product is exact).
__device__ __forceinline__ uint4 expand_piece_nv(const uint32_t (&raw)[4], float m) {
  uint32_t o[4];
#pragma unroll
  for (int p = 0; p < 4; ++p) {
    const uint32_t c = bf16x2_mul(raw[p], kTwo126);
    o[p] = dev::bf16x2_rn(__fmul_rn(__uint_as_float(c << 16), m),
                          __fmul_rn(__uint_as_float(c & 0xFFFF0000u), m));
  }
  return make_uint4(o[0], o[1], o[2], o[3]);
}

}  // namespace mrgptq::gpu::w4
