// CPU cost of the quantization mathematics at Llama-scale layer sizes:
//   quantize a 4096x4096 weight with every method and format (4096x4096 Hessian),
//   the rotation alone, the Hessian of 8192 tokens, and the BLAS floor of GPTQ
//   (its Cholesky/inverse and its trailing-update GEMMs) measured in the same run.
// Run: build/bench_quant --benchmark_min_time=1x   (one iteration each; minutes on 2 cores)
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <lapacke.h>

#include <random>

#include "mrgptq/hessian.hpp"
#include "mrgptq/layer.hpp"

using namespace mrgptq;

namespace {

constexpr int64_t kDim = 4096, kTokens = 8192;

const MatrixF& inputs() {
  static MatrixF X = [] {
    std::mt19937 rng(1);
    std::normal_distribution<float> g(0.f, 1.f);
    MatrixF x(kTokens, kDim);
    for (int64_t t = 0; t < kTokens; ++t)
      for (int64_t j = 0; j < kDim; ++j) x(t, j) = g(rng) * (j % 97 == 3 ? 20.f : 1.f);
    return x;
  }();
  return X;
}

const MatrixD& hessian() {
  static MatrixD H = [] {
    HessianAccumulator acc(kDim);
    acc.add(inputs().data.data(), kTokens);
    return acc.finalize();
  }();
  return H;
}

const MatrixF& weight() {
  static MatrixF W = [] {
    std::mt19937 rng(2);
    std::student_t_distribution<float> t(3.f);
    MatrixF w(kDim, kDim);
    for (auto& v : w.data) v = 0.02f * t(rng);
    return w;
  }();
  return W;
}

void BM_QuantizeLayer(benchmark::State& st) {
  const Method m = Method(st.range(0));
  const Format f = Format(st.range(1));
  const MatrixD& H = hessian();
  const MatrixF& W = weight();
  LayerConfig c;
  c.method = m;
  c.format = f;
  for (auto _ : st) benchmark::DoNotOptimize(quantize_layer(W, &H, c));
  st.SetLabel(std::string(to_string(m)) + " " + to_string(f));
}

void BM_Rotation(benchmark::State& st) {
  MatrixF W = weight();
  Rotation r = Rotation::make(kDim, int(st.range(0)));
  for (auto _ : st) r.apply_rows(W.data.data(), W.rows);
  st.SetBytesProcessed(int64_t(st.iterations()) * W.size() * 8);
}

void BM_Hessian8192Tokens(benchmark::State& st) {
  for (auto _ : st) {
    HessianAccumulator acc(kDim);
    acc.add(inputs().data.data(), kTokens);
    benchmark::DoNotOptimize(acc.finalize());
  }
}

// The dense linear algebra GPTQ cannot avoid: the Cholesky, inverse and
// Cholesky of H^-1 (LAPACK, float64), and the lazy-block trailing updates
// (sum over 128-column blocks of a [4096 x 128] x [128 x rest] SGEMM).
void BM_BlasFloor_Cholesky(benchmark::State& st) {
  const MatrixD& H = hessian();
  for (auto _ : st) {
    MatrixD U = H;
    for (int64_t i = 0; i < kDim; ++i) U(i, i) += 0.01 * H(i, i) + 1e-3;
    LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', kDim, U.data.data(), kDim);
    LAPACKE_dpotri(LAPACK_COL_MAJOR, 'L', kDim, U.data.data(), kDim);
    for (int64_t i = 0; i < kDim; ++i)
      for (int64_t j = i + 1; j < kDim; ++j) U(j, i) = U(i, j);
    LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', kDim, U.data.data(), kDim);
    benchmark::DoNotOptimize(U.data.data());
  }
}

void BM_BlasFloor_TrailingGemms(benchmark::State& st) {
  MatrixF W = weight(), U(kDim, kDim, 1e-3f), E(kDim, 128, 1e-3f);
  for (auto _ : st) {
    for (int64_t i1 = 0; i1 + 128 < kDim; i1 += 128) {
      const int64_t i2 = i1 + 128;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kDim, int(kDim - i2), 128, -1.f,
                  E.data.data(), 128, U.row(i1) + i2, kDim, 1.f, W.row(0) + i2, kDim);
    }
    benchmark::DoNotOptimize(W.data.data());
  }
}

}  // namespace

BENCHMARK(BM_Hessian8192Tokens)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_BlasFloor_Cholesky)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_BlasFloor_TrailingGemms)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_Rotation)->Arg(16)->Arg(32)->Arg(128)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_QuantizeLayer)
    ->ArgsProduct({{int(Method::Rtn), int(Method::RtnHad), int(Method::Gptq), int(Method::MrGptq)},
                   {int(Format::MXFP4), int(Format::NVFP4)}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_MAIN();
