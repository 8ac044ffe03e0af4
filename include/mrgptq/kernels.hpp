// FP4 on Hopper (sm_90a): host entry points of the CUDA kernels. All pointers
// are device pointers; BF16 data is passed as raw uint16_t bits. Layouts are
// those of formats.hpp: codes packed [rows, K/2] (element 2j low nibble),
// scale bytes [rows, K/group]; K must be a multiple of the group.
#pragma once
#include <cstddef>
#include <cstdint>

#include "mrgptq/formats.hpp"

typedef struct CUstream_st* cudaStream_t;

namespace mrgptq::gpu {

// True when a CUDA device is present (false in CI, which compiles but has no GPU).
bool device_available();

// Kernel 1: BF16 [M, K] -> optional block Hadamard (block 0 = none, or 16, 32,
// 64, 128; no random signs) -> FP4 codes and scales in one pass. MXFP4 uses the
// "round" scale rule, NVFP4 "absmax" with the given global scale. When
// `dequant_out` is not null, the exactly dequantized BF16 values are written too;
// then `packed` and `scales` may both be null, and only those are written.
// The codes are the CPU quantizer's (quantize_rtn) of the rotated values:
// Rotation::apply_rows's, bit for bit, for MXFP4 blocks of 32; the other
// rotations run on the tensor cores, whose sums may round differently where
// a block's values span more than ~2^12 in magnitude. `rotated_out`
// (M x K floats, optional: tests) receives the rotated values the codes were
// computed from.
void quantize_activations(const uint16_t* x, int64_t M, int64_t K, Format f, int rot_block,
                          float global_scale, uint8_t* packed, uint8_t* scales,
                          uint16_t* dequant_out, cudaStream_t stream, float* rotated_out = nullptr);

// Kernel 1 runs NVFP4's rotations (codes and scales only) C chunks of 256 threads a block, the
// next chunk's loads in flight while a thread encodes; C = 1, 4, 6 or 8 is chosen from the input
// size and the GPU. Tests and benchmarks may force C (0 = chosen again). Not thread-safe: a
// process-wide setting.
void force_activation_chunks(int c);
int forced_activation_chunks();  // the forced C, or 0

// Decode chains: the streamed W4A16 kernels (w4a16_gemm and w4a16_tensor_core on a TcWeight, M <=
// 32) launch as programmatic dependents of the kernel before them in the stream. Their CTAs may
// then be launched while that kernel's last CTAs still run: they copy their first weight bytes,
// let the next kernel's CTAs launch, and wait (griddepcontrol.wait) for the kernel before them to
// finish before they read X or write Y, so stream order holds for X and Y. Not for the weight:
// it must not be written by the kernel just before the call (make_tensor_core_weight waits for
// its own relayout, so a call right after it is safe). Kernel 1 (quantize_activations and so the
// W4A4 layers) launches the same way where its input has at most kActivationPdlMaxValues values
// (M x K; at most four CTAs): it lets the next kernel's CTAs launch, then waits before it reads
// or writes anything, so that a W4A4 layer's GEMM copies its first weight bytes while its
// activations are quantized. On by default:
// in chains of 8 layers on the H200, 0.8-2.7 us a layer less than plain launches at M = 1-32
// (docs/kernels/h200/s25-run1.txt; docs/PERFORMANCE.md, twenty-fourth and twenty-fifth
// sessions); a kernel with nothing to overlap runs as a plain launch would. Off gives plain
// launches. Not thread-safe: a process-wide setting.
void set_programmatic_launch(bool on);
bool programmatic_launch();
// Kernel 1 launches as a programmatic dependent only up to this many values (four CTAs of 256 x
// 32): in decode chains of W4A4 layers on the H200 that was 1-12% faster a layer at M = 1 (most
// on 8192x8192) and 4-10% at M = 2-4 on 8192x8192 and 28672x8192, but from seven CTAs on up to
// 12% slower than a plain kernel 1 (4096x14336 at M = 8): the CTAs it holds on SMs stagger the
// one-wave streamed GEMM behind it (docs/PERFORMANCE.md, twenty-ninth session).
constexpr int64_t kActivationPdlMaxValues = 4 * 256 * 32;
// Sets programmatic launches for one scope and restores the setting before it on exit.
class ScopedProgrammaticLaunch {
 public:
  explicit ScopedProgrammaticLaunch(bool on) : before_(programmatic_launch()) {
    set_programmatic_launch(on);
  }
  ~ScopedProgrammaticLaunch() { set_programmatic_launch(before_); }
  ScopedProgrammaticLaunch(const ScopedProgrammaticLaunch&) = delete;
  ScopedProgrammaticLaunch& operator=(const ScopedProgrammaticLaunch&) = delete;

 private:
  bool before_;
};

// An FP4 weight [N, K] on the device.
struct Fp4Weight {
  Format format = Format::MXFP4;
  int64_t N = 0, K = 0;
  const uint8_t* packed = nullptr;  // [N, K/2]
  const uint8_t* scales = nullptr;  // [N, K/group]
  float global_scale = 1.f;         // NVFP4: G (values are code * e4m3(s) / G)
};

// FP4 codes -> BF16 [rows, K] (exact: E2M1 x E8M0 fits BF16; NVFP4 values
// e2m1 * e4m3(s) / G are rounded once to BF16).
void dequantize_to_bf16(const Fp4Weight& w, uint16_t* out, cudaStream_t stream);

// Kernel 2: W4A16, Y[M, N] = X[M, K] W^T, BF16 in and out, FP32 accumulation,
// on the row-major weight: M = 1 a CUDA-core GEMV, M <= 16 the register
// tensor-core kernel below, larger M dequantize into `workspace` (N*K BF16)
// and cuBLAS BF16. The faster path is the re-laid-out weight (TcWeight) below.
void w4a16_gemm(const uint16_t* X, int64_t M, const Fp4Weight& w, uint16_t* Y, uint16_t* workspace,
                cudaStream_t stream);

// W4A16 for 1 <= M <= 16 on the tensor cores (src/kernels/w4a16_tc.cu), on the
// row-major weight: mma.sync BF16 with the weight dequantized in registers,
// FP32 accumulation, K split over the warps of a block. Same contract as w4a16_gemm.
void w4a16_tensor_core(const uint16_t* X, int64_t M, const Fp4Weight& w, uint16_t* Y,
                       cudaStream_t stream);

// The weight re-laid out once (at load time) for streaming: the bytes of each
// block of 8*tiles rows are one contiguous region, chunk after 128-k chunk, each
// chunk its codes (512 bytes per 8 rows) and then their scale bytes, which the
// kernels copy with the TMA engine into shared memory (a run of chunks in one copy).
// make_ allocates (device memory) and waits for the stream (the weight is complete on return),
// free_ releases.
struct TcWeight {
  Format format = Format::MXFP4;
  int64_t N = 0, K = 0;
  int tiles = 0;   // 8-row tiles per thread block, chosen from N and the GPU
  int layout = 1;  // 1: codes as nibbles; 2: bits spread for a cheaper decode (w4_layout.hpp)
  uint8_t* packed = nullptr;  // codes and scales, as above
  float global_scale = 1.f;
  // MXFP4: the table-free decodes (the warpgroup kernel, the streamed kernels) multiply a weight
  // pair once, by 2^(s-1-c) for scale byte s, and multiply their FP32 sums by 2^c, with
  // c = max(0, largest scale byte - 128) so that every factor is a BF16 normal
  // (src/kernels/w4a16_common.cuh, folded_scale_pairs). -1 where that would not be exact (the
  // smallest scale byte below c - 5: scale bytes above 128 and spanning more than 133 binades):
  // the warpgroup kernel then refuses the weight (w4a16_gemm takes the streamed kernel), and the
  // streamed kernels check each chunk's scales. Set by make_tensor_core_weight; 0 for NVFP4.
  int mx_fold_shift = -1;
};
// tiles: 8-row tiles per block (1, 2 or 4), or 0 = chosen from N and the GPU.
// layout 2 (the default): each word's code bits spread so that the kernels decode a BF16 pair
// in 2.75 instructions (src/kernels/w4_layout.hpp); layout 1: plain nibbles, which the streamed
// kernel's table decode (StreamDecode::kTable) needs.
TcWeight make_tensor_core_weight(const Fp4Weight& w, cudaStream_t stream, int tiles = 0,
                                 int layout = 2);
void free_tensor_core_weight(TcWeight& w);
// The device bytes a re-laid-out weight holds (codes and scales), from its shape, format, tiles.
size_t tensor_core_weight_bytes(const TcWeight& w);
// How the streamed kernel decodes the weight: kAuto = its measured choice (stream_decode_for:
// on a layout-2 weight, the default, always its shifts and masks; on a layout-1 weight the
// shared-memory table to M = kStreamTableMaxM, shifts and masks above), or one of them at every
// M (for tests and bench_w4a16_tc; the table decode needs a layout-1 weight). The decoded values
// are the same bits; the mma sums them in another k order within a 16-k step, so outputs may differ
// in the last bit.
enum class StreamDecode { kAuto = 0, kTable = 1, kTableFree = 2 };
// What kAuto resolves to for M activation rows on this weight.
StreamDecode stream_decode_for(int64_t M, const TcWeight& w);
// Measured on the H200 with the early refill (docs/kernels/h200/bench-w4a16-0b20264.txt): the
// table is faster at M = 1-4 on three of the four layer shapes, table-free at M = 8 on three.
constexpr int64_t kStreamTableMaxM = 4;
// The streamed kernel alone, any M >= 1 (8, 16 or 32 activation rows per
// block; larger M runs more blocks over the same weight, which L2 then serves).
void w4a16_tensor_core(const uint16_t* X, int64_t M, const TcWeight& w, uint16_t* Y,
                       cudaStream_t stream, StreamDecode decode = StreamDecode::kAuto);
// Whether the streamed kernel covers two of the weight's 32-row blocks a CTA at M > 16 (a
// layout-2 weight in 4-tile blocks with N >= ~0.9 x 64 x SMs; from M = 5 where such CTAs
// outnumber the SMs): the routing in w4a16_gemm uses it.
bool w4a16_stream_wide(const TcWeight& w);
// Whether the streamed kernel at this M brings the activations through its TMA ring with the
// weight (w4a16_stream_xs: M <= 32 on grids of at most one CTA per SM -- from M = 1 in 32-row
// CTAs, from M = 5 in CTAs of 2 to 7 row blocks on wide weights; see xs_form).
bool w4a16_stream_stages_x(int64_t M, const TcWeight& w);
// The same BF16 weight [N, K], bit for bit, as the row-major weight's dequantize_to_bf16 above,
// from the re-laid-out one.
void dequantize_to_bf16(const TcWeight& w, uint16_t* out, cudaStream_t stream);
// W4A16 on the re-laid-out weight, the kernel picked by M (crossovers measured
// on the H200): the streamed kernel up to M = 32, the warpgroup kernel below up
// to M = kW4a16WgmmaMaxM, then dequantize into `workspace` (N*K BF16) + cuBLAS. With a null
// workspace the warpgroup kernel runs at every M > 32. Like every W4A16 kernel
// here, X must be 16-byte aligned (a clear error otherwise).
constexpr int64_t kW4a16WgmmaMaxM = 4096;  // w4a16_gemm reads `workspace` only above this M
void w4a16_gemm(const uint16_t* X, int64_t M, const TcWeight& w, uint16_t* Y, uint16_t* workspace,
                cudaStream_t stream);
// The warpgroup (wgmma) kernel alone on the re-laid-out weight (src/kernels/w4a16_wgmma.cu):
// the FP4 weight decoded in registers as the A operand, activations in shared memory, any
// M >= 1, K a multiple of 32, X 16-byte aligned. config: -1 = chosen from M, N and K
// (w4a16_wgmma_config_for: measured rules, and above M = 576 a cost model), or
// 3 (64 weight rows x 64 activation rows per block, two blocks per SM), 4 (128 x 64, two per
// SM), 5 (256 x 128, one per SM), 6 (128 x 256, one per SM), activations copied by
// tensor-map TMA, or 7 (64 x 128,
// one per SM, each 64-row tile's 128-k chunks split over two consumer warpgroups whose partial
// sums are added in shared memory at the end),
// 8 = config 6's tile and 10 = config 3's tile with K split over a cluster of 2 CTAs, the
// partial sums added through distributed shared memory, or 9 = config 6's tile with K split over
// 4 CTAs, the partial sums added through a workspace that the call allocates in stream order
// (a cooperative launch where the grid fits the GPU: each CTA then finishes a quarter of the
// tile), or 11, 12, 13 = configs 6, 8, 9 with 192 activation rows (for M that 256-row tiles
// would pad by more, e.g. 129-192 and 257-384), or 14, 15 = 128 x 128 tiles with K split over
// a cluster of 2 CTAs / four ways as config 9, or 16, 17 = configs 6, 11 persistent (one CTA an
// SM, the last wave's tiles cut along K, their partial sums added as config 9's without a
// cooperative launch), or 20, 21, 22 = configs 12, 13, 17 with 160 activation rows, or 106, 108
// = configs 6, 8 + kW4a16WgmmaRemainder: the same with 8 more activation rows on the last tile,
// multiplied by mma.sync on the same decoded weight (the automatic choice 1-8 rows past a
// multiple of 256, e.g. M = 257-264).
void w4a16_wgmma(const uint16_t* X, int64_t M, const TcWeight& w, uint16_t* Y, cudaStream_t stream,
                 int config = -1);
// Whether w4a16_wgmma accepts these arguments (else w4a16_gemm takes another path).
bool w4a16_wgmma_supports(const uint16_t* X, int64_t M, const TcWeight& w);
// The config w4a16_wgmma picks for M activation rows on an N x K weight.
int w4a16_wgmma_config_for(int64_t M, int64_t N, int64_t K);
// Config c + kW4a16WgmmaRemainder is config c with a remainder n-tile (106, 108; see above).
inline constexpr int kW4a16WgmmaRemainder = 100;
// Every config w4a16_wgmma accepts besides -1 (for tests and benchmarks).
inline constexpr int kW4a16WgmmaConfigs[] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  12,
                                             13, 14, 15, 16, 17, 20, 21, 22, 106, 108};

// Kernel 3: W4A4 with both operands FP4 in the same format: both are expanded
// exactly to BF16 (activations by kernel 1, weights into `workspace`) and
// multiplied on the BF16 tensor cores by cuBLAS with FP32 accumulation.
// Kernel 4 (the rotated FP4 linear) = quantize_activations(.., dequant_out) + this product;
// kernel 1 writes only the activations' dequantized BF16 values (their codes are not needed).
void w4a4_linear(const uint16_t* X, int64_t M, const Fp4Weight& w, int rot_block,
                 float act_global_scale, uint16_t* Y, uint16_t* act_workspace /* M*K */,
                 uint16_t* w_workspace /* N*K */, cudaStream_t stream);

// The same layer on the re-laid-out weight: kernel 1 expands the activations
// exactly to BF16 (into act_workspace), then w4a16_gemm multiplies them with the
// FP4 weight decoded in registers (the warpgroup kernel for 32 < M <= 4096), so
// no per-call expansion of the weight and no N*K workspace (w_workspace is used
// only above M = 4096, where dequantize + cuBLAS is faster; it may be null).
void w4a4_linear(const uint16_t* X, int64_t M, const TcWeight& w, int rot_block,
                 float act_global_scale, uint16_t* Y, uint16_t* act_workspace /* M*K */,
                 uint16_t* w_workspace /* N*K or null */, cudaStream_t stream);

// Plain BF16 GEMM Y[M, N] = X[M, K] W^T through cuBLASLt (the baseline, and the
// back end of the large-M paths).
void bf16_gemm(const uint16_t* X, int64_t M, const uint16_t* W, int64_t N, int64_t K, uint16_t* Y,
               cudaStream_t stream);

}  // namespace mrgptq::gpu
