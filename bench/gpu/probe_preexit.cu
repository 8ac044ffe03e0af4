// Does griddepcontrol.launch_dependents (SASS PREEXIT) or griddepcontrol.wait (ACQBULK) change
// what a CTA's own bulk copies deliver? W4A16 kernels that executed PREEXIT before their copies
// had all landed computed wrong sums now and then: in plain launches, where PTX documents both
// instructions as no-ops, and in a programmatic launch (docs/PERFORMANCE.md, twentieth and
// twenty-first sessions). Kernels that trigger only after the main loop never did.
//
// This probe strips the streamed W4A16 kernel (w4a16_stream) to its data movement: thread 0
// streams a slice of a buffer through a ring of 17 KB stages with 1-D bulk copies (early
// refill, as there), 8 consumer warps check every word of their chunk against the hash that
// filled it, load and check a few words of a second buffer with plain global loads (the
// activations), release the stage, and at the end reuse the ring through a block barrier (the
// reduction). Every wrong word is counted. Modes place the instructions as the builds did:
//   0 none                          (a221e7c, and the tree's plain launches)
//   1 PREEXIT after the first copies, ACQBULK after the block barrier (the failing form)
//   2 PREEXIT after the first copies only
//   3 ACQBULK after the first copies only
//   4 PREEXIT at the start, before any copy (the trigger-first form)
//   5 ACQBULK first, PREEXIT after the main loop (the tree's programmatic form)
// Each mode runs in plain and in programmatic launches (every launch a programmatic dependent
// of the one before; the kernels share no data, so none needs the wait), on two grid shapes:
// the failing test's (76 CTAs, a 4-stage ring, 7 stages a CTA: MXFP4 600x6208 at M = 100) and a
// many-wave one (2-stage ring, three CTAs an SM). Launch n gives CTA b the slice b + n (mod the
// grid), so that a stage left over from the launch before on the same SM never holds the words
// expected. Nonzero counts mean the instructions corrupt the copies themselves; zeros everywhere
// point the search at the mma path or at timing.
// It found zeros everywhere (s22-run2.txt). The cause, found in the twenty-third session, was in
// the kernels' slot release: w4a16_stream's warps arrived on the empty barrier with their loads
// of the slot still in flight, and a refill could land first (release_slot_after_reads has the
// fix). This probe's warps compare every word they load before they release the slot, so their
// loads have completed by then, and it could not show the race.
// usage: probe_preexit [--launches L] [--rounds R]
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bench_util.cuh"
#include "kernels/w4a16_common.cuh"

using namespace mrgptq;
using namespace mrgptq::gpu::w4;
using mrgptq::gpu::grid_dependency_wait;
using mrgptq::gpu::grid_dependents_launch;
using mrgptq::gpu::launch_dependent;

namespace {

// w4a16_stream's MXFP4 stage: a chunk of a 32-row block a warp.
constexpr int kWarps = 8, kChunk = int(layout::run_bytes(4, false)), kStage = kWarps * kChunk;
constexpr int kXWords = 4;  // words of the second buffer a lane loads a stage

// Word i of a buffer: a bijection of i's low 32 bits (odd multiplier), so that any word from
// another place (another stage, slice or launch) differs from the one expected. The buffers
// here hold far fewer than 2^32 words.
__host__ __device__ uint32_t word(int64_t i, uint32_t salt) {
  return (uint32_t(i) ^ salt) * 2654435761u;
}
constexpr uint32_t kSrcSalt = 0, kXSalt = 0xA5A5A5A5u, kRedSalt = 0x5A5A5A5Au;

__global__ void fill(uint32_t* p, int64_t n, uint32_t salt) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    p[i] = word(i, salt);
}

template <int kStages>
__global__ void __launch_bounds__(kWarps * 32)
    probe(const uint32_t* __restrict__ src, const uint32_t* __restrict__ x, int64_t stages,
          int64_t xwords, int64_t shift, int mode, unsigned long long* bad, bool pdl) {
  (void)pdl;  // launch_dependent's flag: the modes decide what runs
  extern __shared__ __align__(128) uint8_t smem[];
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + kStages * kStage);
  uint64_t* empty = full + kStages;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const bool producer = threadIdx.x == 0;
  const int64_t slice = (blockIdx.x + shift) % gridDim.x;
  const int64_t base = slice * stages * kStage;  // in bytes
  uint64_t policy = 0;
  auto issue = [&](int64_t s) {
    const int slot = int(s % kStages);
    mbar_expect_tx(&full[slot], kStage);
    bulk_load(smem + slot * kStage, reinterpret_cast<const uint8_t*>(src) + base + s * kStage,
              kStage, &full[slot], policy);
  };
  if (mode == 4) grid_dependents_launch();
  if (mode == 5) grid_dependency_wait();
  if (producer) {
    ring_init(full, empty, kStages, kWarps);
    policy = l2_policy(true);
    for (int64_t s = 0; s < kStages && s < stages; ++s) issue(s);
  }
  if (mode == 1 || mode == 2) grid_dependents_launch();
  __syncthreads();
  if (mode == 1 || mode == 3) grid_dependency_wait();
  unsigned wrong = 0;
  for (int64_t s = 0; s < stages; ++s) {
    const int slot = int(s % kStages);
    uint32_t xv[kXWords];  // the activations' loads go out before the wait, as there
    const int64_t xi = ((slice * stages + s) * kWarps * 32 + threadIdx.x) * kXWords;
#pragma unroll
    for (int j = 0; j < kXWords; ++j) xv[j] = x[(xi + j) % xwords];
    mbar_wait(&full[slot], uint32_t((s / kStages) & 1));
    const uint32_t* w = reinterpret_cast<const uint32_t*>(smem + slot * kStage + warp * kChunk);
    const int64_t w0 = (base + s * kStage + warp * kChunk) / 4;
    for (int i = lane; i < kChunk / 4; i += 32) wrong += w[i] != word(w0 + i, kSrcSalt);
    __syncwarp();
    if (lane == 0) mbar_arrive(&empty[slot]);
    if (producer && s + kStages < stages) {  // the early refill
      mbar_wait(&empty[slot], uint32_t((s / kStages) & 1));
      issue(s + kStages);
    }
#pragma unroll
    for (int j = 0; j < kXWords; ++j) wrong += xv[j] != word((xi + j) % xwords, kXSalt);
  }
  if (mode == 5) grid_dependents_launch();
  __syncthreads();  // the ring reused, as reduce_store does
  uint32_t* red = reinterpret_cast<uint32_t*>(smem);
  red[threadIdx.x] = word(slice << 16 | threadIdx.x, kRedSalt);
  __syncthreads();
  const int other = (threadIdx.x + 37) % (kWarps * 32);
  wrong += red[other] != word(slice << 16 | other, kRedSalt);
  if (wrong) atomicAdd(bad, (unsigned long long)wrong);
}

using Probe = void (*)(const uint32_t*, const uint32_t*, int64_t, int64_t, int64_t, int,
                       unsigned long long*, bool);

struct Shape {
  const char* what;
  int ring;  // stages in the ring (2 or 4)
  int ctas;
  int64_t stages;
  int smem;  // dynamic shared memory asked for (sets the CTAs an SM)
  // The ring's kernel, allowed its shared memory.
  Probe kernel() const {
    if (ring == 4) {
      use_dynamic_smem<probe<4>>(smem);
      return probe<4>;
    }
    use_dynamic_smem<probe<2>>(smem);
    return probe<2>;
  }
};

}  // namespace

int main(int argc, char** argv) {
  int launches = 2000, rounds = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--launches") == 0 && i + 1 < argc)
      launches = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
      rounds = std::atoi(argv[++i]);
    else {
      std::printf("usage: probe_preexit [--launches L] [--rounds R]\n(see the source's header)\n");
      return std::strcmp(argv[i], "--help") == 0 ? 0 : 2;
    }
  }
  if (!gpu::device_available()) {
    std::printf("no CUDA device: probe skipped\n");
    return 0;
  }
  const int sms = sm_count();
  const Shape shapes[] = {
      {"76 CTAs, ring 4, 7 stages (the failing test's grid)", 4, 76, 7, 4 * kStage + 64},
      {"8 x SMs CTAs, ring 2, 8 stages, 3 an SM", 2, 8 * sms, 8, 67 * 1024},
  };
  int64_t most = 0;
  for (const Shape& s : shapes) most = std::max(most, int64_t(s.ctas) * s.stages * kStage / 4);
  const int64_t xwords = int64_t(1) << 22;
  uint32_t *src = nullptr, *x = nullptr;
  unsigned long long* bad = nullptr;
  MRGPTQ_CUDA_CHECK(cudaMalloc(&src, size_t(most) * 4));
  MRGPTQ_CUDA_CHECK(cudaMalloc(&x, size_t(xwords) * 4));
  MRGPTQ_CUDA_CHECK(cudaMalloc(&bad, sizeof(unsigned long long)));
  fill<<<1024, 256>>>(src, most, kSrcSalt);
  MRGPTQ_CUDA_LAUNCH_CHECK();
  fill<<<1024, 256>>>(x, xwords, kXSalt);
  MRGPTQ_CUDA_LAUNCH_CHECK();
  cudaStream_t st;
  MRGPTQ_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
  std::printf("device: %d SMs; %d launches a cell, %d rounds; wrong words (every one checked)\n",
              sms, launches, rounds);
  std::printf("%-52s %4s %6s %14s %14s\n", "grid", "mode", "round", "plain", "programmatic");
  for (const Shape& sh : shapes) {
    const Probe kernel = sh.kernel();
    for (int r = 0; r < rounds; ++r)
      for (int mode = 0; mode <= 5; ++mode) {
        unsigned long long got[2] = {0, 0};
        for (int p = 0; p < 2; ++p) {
          MRGPTQ_CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof(*bad), st));
          for (int64_t l = 0; l < launches; ++l)
            launch_dependent(p == 1, kernel, unsigned(sh.ctas), kWarps * 32, size_t(sh.smem), st,
                             src, x, sh.stages, xwords, l, mode, bad);
          MRGPTQ_CUDA_CHECK(
              cudaMemcpyAsync(&got[p], bad, sizeof(*bad), cudaMemcpyDeviceToHost, st));
          MRGPTQ_CUDA_CHECK(cudaStreamSynchronize(st));
        }
        std::printf("%-52s %4d %6d %14llu %14llu\n", sh.what, mode, r + 1, got[0], got[1]);
      }
  }
  // A check that the check can fail: the first word of slice 0 made wrong.
  const uint32_t wrong = word(0, kSrcSalt) + 1;
  MRGPTQ_CUDA_CHECK(cudaMemcpy(src, &wrong, 4, cudaMemcpyHostToDevice));
  MRGPTQ_CUDA_CHECK(cudaMemset(bad, 0, sizeof(*bad)));
  const Shape& sh = shapes[0];
  launch_dependent(false, sh.kernel(), unsigned(sh.ctas), kWarps * 32, size_t(sh.smem), st, src, x,
                   sh.stages, xwords, int64_t(0), 0, bad);
  unsigned long long planted = 0;
  MRGPTQ_CUDA_CHECK(cudaMemcpyAsync(&planted, bad, sizeof(planted), cudaMemcpyDeviceToHost, st));
  MRGPTQ_CUDA_CHECK(cudaStreamSynchronize(st));
  std::printf("planted wrong word: %llu counted (must be 1)\n", planted);
  cudaFree(src), cudaFree(x), cudaFree(bad);
  cudaStreamDestroy(st);
  return planted == 1 ? 0 : 1;
}
