// quantize_rtn / dequantize throughput of a 4096 x 4096 float32 weight for
// every format and scale rule (Student-t weights, like LLM weights heavy-tailed).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "mrgptq/formats.hpp"

using namespace mrgptq;

namespace {

constexpr int64_t kN = 4096;

const std::vector<float>& weights() {
  static const std::vector<float> w = [] {
    std::vector<float> v(size_t(kN * kN));
    std::mt19937 rng(42);
    std::student_t_distribution<float> t(4.f);
    for (auto& x : v) x = 0.02f * t(rng);
    return v;
  }();
  return w;
}

void BM_QuantizeRtn(benchmark::State& state) {
  const Format f = Format(state.range(0));
  const ScaleRule r = ScaleRule(state.range(1));
  state.SetLabel(std::string(to_string(f)) + "/" + to_string(r));
  const auto& w = weights();
  QuantOptions o;
  o.rule = r;
  for (auto _ : state) {
    QuantizedTensor q = quantize_rtn(w.data(), kN, kN, f, o);
    benchmark::DoNotOptimize(q.packed.data());
  }
  state.SetItemsProcessed(state.iterations() * kN * kN);
}

void BM_Dequantize(benchmark::State& state) {
  const Format f = Format(state.range(0));
  state.SetLabel(to_string(f));
  QuantOptions o;
  o.rule = format_info(f).default_rule;
  const QuantizedTensor q = quantize_rtn(weights().data(), kN, kN, f, o);
  std::vector<float> out(size_t(kN * kN));
  for (auto _ : state) {
    dequantize(q, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kN * kN);
}

void BM_E2M1Encode(benchmark::State& state) {
  const auto& w = weights();
  const size_t n = 1 << 20;
  for (auto _ : state) {
    unsigned acc = 0;
    for (size_t i = 0; i < n; ++i) acc += e2m1_encode(w[i] * 100.f);
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(n));
}

}  // namespace

BENCHMARK(BM_QuantizeRtn)
    ->Args({int(Format::MXFP4), int(ScaleRule::Floor)})
    ->Args({int(Format::MXFP4), int(ScaleRule::Round)})
    ->Args({int(Format::MXFP4), int(ScaleRule::Ceil)})
    ->Args({int(Format::MXFP4), int(ScaleRule::Mse)})
    ->Args({int(Format::NVFP4), int(ScaleRule::Absmax)})
    ->Args({int(Format::NVFP4), int(ScaleRule::Mse)})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Dequantize)
    ->Arg(int(Format::MXFP4))
    ->Arg(int(Format::NVFP4))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_E2M1Encode);
BENCHMARK_MAIN();
