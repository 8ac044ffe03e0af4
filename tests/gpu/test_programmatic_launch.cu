// The streamed W4A16 kernels as programmatic dependents (gpu::set_programmatic_launch): their
// CTAs may be launched while the kernel before them in the stream still runs, so every read of X
// and write of Y must wait for it. A kernel before them that lets its dependents start at once,
// then sleeps, and only then writes X and reads Y, opens that window wide: a kernel that read X
// early would see the NaN poison still there, and one that wrote Y early would have its output read
// back as the old contents. A probe that reads X without waiting shows that the window is
// really open on this GPU. Then chains of layers, each reading the buffer the one before wrote
// and writing the one it read, must give the plain launches' outputs bit for bit. Kernel 1 (the
// activation quantizer, so the W4A4 layers) launches the same way: the same checks. Skips where
// no GPU is present.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "mrgptq/error.hpp"
#include "mrgptq/formats.hpp"
#include "mrgptq/kernels.hpp"

#include "gpu_test_util.hpp"

using namespace mrgptq;
using namespace mrgptq::gputest;

namespace {

__device__ uint64_t global_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %globaltimer;" : "=l"(t));
  return t;
}

// Lets its dependents start, sleeps delay_ns, then saves `watch` (Y) into `saved` and copies
// src into dst (X).
__global__ void late_writer(const uint16_t* src, uint16_t* dst, int64_t n, const uint16_t* watch,
                            uint16_t* saved, int64_t nw, uint64_t delay_ns) {
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
  if (threadIdx.x == 0) {
    const uint64_t t0 = global_ns();
    while (global_ns() - t0 < delay_ns) __nanosleep(1000);
  }
  __syncthreads();
  for (int64_t i = threadIdx.x; i < nw; i += blockDim.x) saved[i] = watch[i];
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) dst[i] = src[i];
}

// Reads x without waiting for the kernel before it.
__global__ void early_reader(const uint16_t* x, uint16_t* out, int64_t n) {
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = x[i];
}

constexpr uint64_t kDelayNs = 200000;  // 0.2 ms: far longer than any of the launches here
constexpr uint16_t kPoison = 0xFFFF;   // cudaMemset 0xFF: NaN as BF16

struct Stream {
  cudaStream_t s = nullptr;
  Stream() {
    if (cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) != cudaSuccess)
      throw Error("cudaStreamCreateWithFlags failed");
  }
  ~Stream() { cudaStreamDestroy(s); }
};

void launch_late_writer(const uint16_t* src, uint16_t* dst, int64_t n, const uint16_t* watch,
                        uint16_t* saved, int64_t nw, cudaStream_t st) {
  late_writer<<<1, 256, 0, st>>>(src, dst, n, watch, saved, nw, kDelayNs);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
}

class GpuPdl : public GpuTest {};

// The probe: a dependent that does not wait sees the poison, so the window the tests below rely
// on is open (if it were not, their checks could not fail).
TEST_F(GpuPdl, AnEarlyReaderSeesTheOldContents) {
  Stream st;
  const int64_t n = 4096;
  std::vector<uint16_t> v(size_t(n), 0x3F80);  // 1.0
  uint16_t* src = upload(v);
  uint16_t* x = poisoned<uint16_t>(size_t(n));
  uint16_t* out = poisoned<uint16_t>(size_t(n));
  CK(cudaMemsetAsync(out, 0, size_t(n) * 2, st.s));
  uint16_t* dummy = poisoned<uint16_t>(1);
  // Both kernels once first: a kernel's first launch loads its module (lazy loading), which
  // waits for the kernels running before it and would close the window.
  launch_late_writer(src, out, 0, dummy, dummy, 0, st.s);
  early_reader<<<1, 256, 0, st.s>>>(src, out, 0);
  CK(cudaStreamSynchronize(st.s));
  launch_late_writer(src, x, n, dummy, dummy, 0, st.s);
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(1), cfg.blockDim = dim3(256), cfg.stream = st.s, cfg.attrs = attr;
  cfg.numAttrs = 1;
  CK(cudaLaunchKernelEx(&cfg, early_reader, static_cast<const uint16_t*>(x), out, n));
  CK(cudaStreamSynchronize(st.s));
  const std::vector<uint16_t> got = download(out, size_t(n));
  EXPECT_EQ(got[0], kPoison) << "the dependent started only after the writer had finished: this "
                                "GPU or driver does not overlap programmatic launches";
  EXPECT_EQ(download(x, 1)[0], 0x3F80);  // and the writer did write, afterwards
  cudaFree(src), cudaFree(x), cudaFree(out), cudaFree(dummy);
}

// X written and Y read by the late writer just before the GEMM, launched as its dependent: the
// GEMM must see the new X and write Y only after the old Y was read. Both streamed kernels (the
// one-wave X-staged kernel and w4a16_stream on a many-wave grid), both formats.
TEST_F(GpuPdl, StreamedKernelsWaitForTheKernelBefore) {
  std::mt19937 rng(std::random_device{}());
  const int sms = device_sms();
  Stream st;
  bool saw_xs = false, saw_stream = false;
  struct Case {
    int64_t n, k, m;
  };
  // 32 x SMs - 40 rows: 32-row blocks, one CTA an SM, X-staged at every M <= 32; 40 x SMs rows:
  // more blocks than SMs, too few for CTAs of two blocks: w4a16_stream; M = 100 on 32-row blocks:
  // w4a16_stream's 32-row activation tiles, several CTAs over each row block.
  const int64_t one_wave = 32 * int64_t(sms) - 40, wide = 40 * int64_t(sms);
  for (Format f : {Format::MXFP4, Format::NVFP4})
    for (Case cs :
         {Case{one_wave, 1024, 1}, Case{one_wave, 1088, 16}, Case{one_wave, 2048, 32},
          Case{wide, 256, 1}, Case{wide, 512, 8}, Case{wide, 256, 13}, Case{one_wave, 6208, 100}}) {
      DeviceWeight c;
      make_weight(c, cs.n, cs.k, f, rng);
      gpu::TcWeight tw = gpu::make_tensor_core_weight(c.view(), nullptr);
      const int64_t M = cs.m, N = tw.N, K = tw.K;
      (gpu::w4a16_stream_stages_x(M, tw) ? saw_xs : saw_stream) = true;
      const std::vector<uint16_t> x = random_activations(M, K, rng);
      MatrixF A(M, K);
      for (int64_t i = 0; i < M * K; ++i) A.data[size_t(i)] = from_bf16(x[size_t(i)]);
      const std::string what = std::string(to_string(f)) + " N=" + std::to_string(N) +
                               " K=" + std::to_string(K) + " M=" + std::to_string(M);
      // The plain launch: the reference for the bits.
      uint16_t* src = upload(x);
      uint16_t* y0 = poisoned<uint16_t>(size_t(M * N));
      {
        gpu::ScopedProgrammaticLaunch plain_launch(false);
        gpu::w4a16_tensor_core(src, M, tw, y0, st.s);
      }
      CK(cudaStreamSynchronize(st.s));
      const std::vector<uint16_t> plain = download(y0, size_t(M * N));
      ASSERT_LE(rel_error_vs_f64(plain, A, c.deq), 5e-3) << what;
      // The dependent launch behind the late writer; Y holds a marker the writer saves.
      uint16_t* dx = poisoned<uint16_t>(size_t(M * K));
      uint16_t* dy = poisoned<uint16_t>(size_t(M * N));
      uint16_t* saved = poisoned<uint16_t>(size_t(M * N));
      CK(cudaMemsetAsync(dy, 0x12, size_t(M * N) * 2, st.s));
      launch_late_writer(src, dx, M * K, dy, saved, M * N, st.s);
      {
        gpu::ScopedProgrammaticLaunch on(true);
        gpu::w4a16_tensor_core(dx, M, tw, dy, st.s);
      }
      CK(cudaStreamSynchronize(st.s));
      const std::vector<uint16_t> got = download(dy, size_t(M * N));
      const std::vector<uint16_t> old = download(saved, size_t(M * N));
      size_t diff = 0, overwritten = 0;
      for (size_t i = 0; i < got.size(); ++i)
        diff += got[i] != plain[i], overwritten += old[i] != 0x1212;
      EXPECT_EQ(diff, 0u) << what << ": outputs differ from the plain launch's (X read early?)";
      EXPECT_EQ(overwritten, 0u) << what << ": Y written before the kernel before had read it";
      gpu::free_tensor_core_weight(tw);
      cudaFree(src), cudaFree(y0), cudaFree(dx), cudaFree(dy), cudaFree(saved);
    }
  EXPECT_TRUE(saw_xs) << "no case reached the X-staged kernel";
  EXPECT_TRUE(saw_stream) << "no case reached w4a16_stream";
}

// Square layers weights[0..L-1] of one format, re-laid out.
std::vector<gpu::TcWeight> square_layers(int layers, int64_t D, Format f, std::mt19937& rng) {
  std::vector<gpu::TcWeight> tw;
  for (int l = 0; l < layers; ++l) {
    DeviceWeight c;
    make_weight(c, D, D, f, rng);
    tw.push_back(gpu::make_tensor_core_weight(c.view(), nullptr));
  }
  return tw;
}

// A chain of layer(l, in, out) for l = 0..L-1, each reading the buffer the one before wrote
// and writing the one it read (x first), launched back to back with no synchronisation: three
// programmatic runs must give the plain run's bits, and the plain run finite, mostly nonzero
// values.
template <class Layer>
void expect_chain_matches_plain(const std::vector<uint16_t>& x, int64_t n, int layers,
                                cudaStream_t st, Layer layer, const std::string& what) {
  auto chain = [&](bool programmatic) {
    uint16_t* buf[2] = {upload(x), poisoned<uint16_t>(size_t(n))};
    {
      gpu::ScopedProgrammaticLaunch mode(programmatic);
      for (int l = 0; l < layers; ++l) layer(l, buf[l % 2], buf[(l + 1) % 2]);
    }
    EXPECT_EQ(cudaStreamSynchronize(st), cudaSuccess);
    std::vector<uint16_t> y = download(buf[layers % 2], size_t(n));
    cudaFree(buf[0]), cudaFree(buf[1]);
    return y;
  };
  const std::vector<uint16_t> plain = chain(false);
  size_t finite = 0, nonzero = 0;
  for (uint16_t v : plain) finite += (v & 0x7F80) != 0x7F80, nonzero += (v & 0x7FFF) != 0;
  ASSERT_EQ(finite, plain.size()) << what << ": the plain chain's output is not finite";
  ASSERT_GT(nonzero, plain.size() / 2) << what << ": the plain chain's output is mostly zero";
  for (int rep = 0; rep < 3; ++rep) {
    const std::vector<uint16_t> got = chain(true);
    size_t diff = 0;
    for (size_t i = 0; i < got.size(); ++i) diff += got[i] != plain[i];
    EXPECT_EQ(diff, 0u) << what << " repeat " << rep;
  }
}

// Chains of square W4A16 layers against the plain launches.
TEST_F(GpuPdl, ChainsOfLayersMatchThePlainLaunches) {
  std::mt19937 rng(std::random_device{}());
  Stream st;
  const int layers = 4;
  // 1024: w4a16_stream; 4096: the X-staged kernel (32-row blocks, one wave).
  for (int64_t D : {1024, 4096})
    for (Format f : {Format::MXFP4, Format::NVFP4}) {
      const std::vector<gpu::TcWeight> tw = square_layers(layers, D, f, rng);
      EXPECT_EQ(gpu::w4a16_stream_stages_x(1, tw[0]), D == 4096) << "D=" << D;
      for (int64_t M : {1, 4, 16, 32})
        expect_chain_matches_plain(
            random_activations(M, D, rng), M * D, layers, st.s,
            [&](int l, const uint16_t* in, uint16_t* out) {
              gpu::w4a16_gemm(in, M, tw[size_t(l)], out, nullptr, st.s);
            },
            std::string(to_string(f)) + " D=" + std::to_string(D) + " M=" + std::to_string(M));
      for (gpu::TcWeight t : tw) gpu::free_tensor_core_weight(t);
    }
}

// Kernel 1 behind the late writer, launched as its dependent: it must quantize the new X, and
// write its outputs only after the writer has read the old contents of its BF16 output. The
// codes, scales and BF16 values must be the plain launch's, bit for bit.
TEST_F(GpuPdl, ActivationQuantizerWaitsForTheKernelBefore) {
  std::mt19937 rng(std::random_device{}());
  Stream st;
  struct Case {
    Format f;
    int rot;
    int64_t m, k;
  };
  // Every case small enough for a programmatic launch (kActivationPdlMaxValues): one CTA, or four.
  for (Case cs : {Case{Format::MXFP4, 32, 1, 8192}, Case{Format::NVFP4, 16, 4, 8192},
                  Case{Format::MXFP4, 0, 3, 1024}, Case{Format::NVFP4, 128, 3, 2048},
                  Case{Format::MXFP4, 64, 16, 2048}}) {
    const int64_t M = cs.m, K = cs.k, n = M * K, groups = n / format_info(cs.f).group;
    ASSERT_LE(n, gpu::kActivationPdlMaxValues) << "a case kernel 1 would launch plainly";
    const float g = cs.f == Format::NVFP4 ? nvfp4_global_scale(40.f) : 1.f;
    const std::string what = std::string(to_string(cs.f)) + " rot=" + std::to_string(cs.rot) +
                             " M=" + std::to_string(M) + " K=" + std::to_string(K);
    const std::vector<uint16_t> x = random_activations(M, K, rng);
    uint16_t* src = upload(x);
    auto quantize = [&](const uint16_t* in, uint8_t* p, uint8_t* sc, uint16_t* dq) {
      gpu::quantize_activations(in, M, K, cs.f, cs.rot, g, p, sc, dq, st.s);
    };
    uint8_t* p0 = poisoned<uint8_t>(size_t(n / 2));
    uint8_t* s0 = poisoned<uint8_t>(size_t(groups));
    uint16_t* d0 = poisoned<uint16_t>(size_t(n));
    {
      gpu::ScopedProgrammaticLaunch plain_launch(false);
      quantize(src, p0, s0, d0);  // also loads the kernel's module before the timed window
    }
    CK(cudaStreamSynchronize(st.s));
    uint16_t* dx = poisoned<uint16_t>(size_t(n));
    uint8_t* p1 = poisoned<uint8_t>(size_t(n / 2));
    uint8_t* s1 = poisoned<uint8_t>(size_t(groups));
    uint16_t* d1 = poisoned<uint16_t>(size_t(n));
    uint16_t* saved = poisoned<uint16_t>(size_t(n));
    CK(cudaMemsetAsync(d1, 0x12, size_t(n) * 2, st.s));
    launch_late_writer(src, dx, n, d1, saved, n, st.s);
    {
      gpu::ScopedProgrammaticLaunch on(true);
      quantize(dx, p1, s1, d1);
    }
    CK(cudaStreamSynchronize(st.s));
    EXPECT_EQ(download(p1, size_t(n / 2)), download(p0, size_t(n / 2))) << what << ": codes";
    EXPECT_EQ(download(s1, size_t(groups)), download(s0, size_t(groups))) << what << ": scales";
    const std::vector<uint16_t> plain = download(d0, size_t(n)), got = download(d1, size_t(n));
    const std::vector<uint16_t> old = download(saved, size_t(n));
    size_t diff = 0, overwritten = 0, nonzero = 0;
    for (size_t i = 0; i < got.size(); ++i)
      diff += got[i] != plain[i], overwritten += old[i] != 0x1212, nonzero += plain[i] != 0;
    EXPECT_GT(nonzero, got.size() / 2) << what << ": the plain launch's values are mostly zero";
    EXPECT_EQ(diff, 0u) << what << ": BF16 values differ from the plain launch's (X read early?)";
    EXPECT_EQ(overwritten, 0u) << what << ": output written before the kernel before had read it";
    cudaFree(src), cudaFree(p0), cudaFree(s0), cudaFree(d0), cudaFree(dx), cudaFree(p1);
    cudaFree(s1), cudaFree(d1), cudaFree(saved);
  }
}

// Chains of square W4A4 layers (kernel 1 into one activation workspace that all layers share,
// then w4a16_gemm) against the plain launches. Kernel 1 overwrites the workspace the GEMM before
// it read, so it must also wait before writing. Kernel 1 launches programmatically at D = 1024
// (every M here but 64) and at D = 4096 for M <= 8 (kActivationPdlMaxValues), plainly behind a
// programmatic GEMM above; M = 64 puts the (plain) warpgroup kernel between kernel 1 launches.
TEST_F(GpuPdl, W4a4ChainsMatchThePlainLaunches) {
  std::mt19937 rng(std::random_device{}());
  Stream st;
  const int layers = 4;
  for (int64_t D : {1024, 4096})
    for (Format f : {Format::MXFP4, Format::NVFP4}) {
      const int rot = f == Format::NVFP4 ? 16 : 32;
      const float g = f == Format::NVFP4 ? nvfp4_global_scale(40.f) : 1.f;
      const std::vector<gpu::TcWeight> tw = square_layers(layers, D, f, rng);
      for (int64_t M : {1, 4, 8, 16, 32, 64}) {
        uint16_t* act = poisoned<uint16_t>(size_t(M * D));
        expect_chain_matches_plain(
            random_activations(M, D, rng), M * D, layers, st.s,
            [&](int l, const uint16_t* in, uint16_t* out) {
              gpu::w4a4_linear(in, M, tw[size_t(l)], rot, g, out, act, nullptr, st.s);
            },
            std::string(to_string(f)) + " D=" + std::to_string(D) + " M=" + std::to_string(M));
        cudaFree(act);
      }
      for (gpu::TcWeight t : tw) gpu::free_tensor_core_weight(t);
    }
}

}  // namespace
