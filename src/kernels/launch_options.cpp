// Process-wide launch settings that tests and benchmarks force on the kernels. They live apart
// from the kernels' sources so that a benchmark built from this tree still links against an
// older revision's kernel object (scripts/bench-variant.sh), which then simply ignores them.
#include <string>

#include "mrgptq/error.hpp"
#include "mrgptq/kernels.hpp"

namespace mrgptq::gpu {
namespace {
int g_forced_chunks = 0;     // 0: chosen by size (act_quant.cu's chunks_for)
bool g_programmatic = true;  // kernels.hpp says why
}  // namespace

void force_activation_chunks(int c) {
  if (c != 0 && c != 1 && c != 4 && c != 6 && c != 8)
    throw Error("force_activation_chunks: C must be 0 (chosen by size), 1, 4, 6 or 8, not " +
                std::to_string(c));
  g_forced_chunks = c;
}

int forced_activation_chunks() {
  return g_forced_chunks;
}

void set_programmatic_launch(bool on) {
  g_programmatic = on;
}

bool programmatic_launch() {
  return g_programmatic;
}

}  // namespace mrgptq::gpu
